#!/usr/bin/env bash
# The stock qemu-ga on the QMP backend: a guest without vfmigrate-agent (vfm.noagent; only
# qemu-ga runs), the config naming each side's qemu-ga socket (`qga =`) instead of `agent =`.
# vfmigrate drives the bond through qemu-ga's file commands: it migrates src -> dst with the
# probe running (VF active on dst, the report naming qemu-ga), rolls a failing migration
# back (exit 4, VF active on dst again), and `recover` finishes a run SIGKILLed after the
# unplug.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

lab_init qmpqga
lab_image
lab_net_up
lab_guest_start src --no-agent
lab_guest_start dst --no-agent --incoming
lab_guest_wait_ready src
lab_qga_wait src
lab_wait_vf_active src 30 || lab_die "VF not active at start"
lab_wait_reachable
lab_vfm_config --qga
grep -q '^agent' "$LAB_DIR/g0.conf" && lab_die "the config names vfmigrate-agent"

lab_vfm check --json >"$LAB_DIR/check.json" || lab_die "check failed: $(jq -c .error "$LAB_DIR/check.json")"

# 1. src -> dst.
lab_probe_start --rate 1000
sleep 1
rc=0
lab_vfm_migrate src dst "$LAB_DIR/report.json" || rc=$?
sleep 2
lab_probe_stop
jq -c '{outcome, agent, without_vf_ms, steps: [.steps[]? | {name, result, ms}]}' "$LAB_DIR/report.json" >&2
[ $rc = 0 ] || lab_die "vfmigrate exited $rc: $(jq -c .error "$LAB_DIR/report.json")"
[ "$(jq -r '.agent.source + " " + .agent.destination' "$LAB_DIR/report.json")" = "qemu-ga qemu-ga" ] ||
	lab_die "the report names agents $(jq -c .agent "$LAB_DIR/report.json")"
lab_wait_vf_active dst 30 || lab_die "VF not active on dst"
lab_probe_assert 1000 100
read -r ms _ lost _ < <(lab_probe_summary)
lab_log "migrated through qemu-ga: longest window $ms ms, lost $lost"
lab_guest_stop src

# 2. Back, failing before the point of no return (nobody listens at the migration address):
# rolled back, the VF active on dst again.
lab_vfm_config --qga --reverse
lab_guest_start src --no-agent --incoming
rc=0
lab_vfm migrate --json -o destination.migrate-uri=tcp:10.78.0.9:$LAB_MIG_PORT -o timeouts.migrate=20s \
	>"$LAB_DIR/rollback.json" || rc=$?
jq -c '{outcome, error, steps: [.steps[]? | {name, result}]}' "$LAB_DIR/rollback.json" >&2
[ $rc = 4 ] || lab_die "rollback: exit $rc, want 4"
lab_wait_vf_active dst 30 || lab_die "VF not active on dst after the rollback"
lab_wait_reachable 20
lab_log "rolled back through qemu-ga"

# 3. SIGKILL after the unplug, then recover.
lab_vfm_bg "$LAB_DIR/run.txt" migrate --max-bandwidth 10000000
lab_kill_after_unplug "$LAB_DIR/run.txt" "$LAB_VFM_PID"
lab_log "vfmigrate killed after the unplug"
rc=0
lab_vfm recover --json >"$LAB_DIR/recover.json" || rc=$?
outcome=$(jq -r .outcome "$LAB_DIR/recover.json")
lab_log "recover: exit $rc, outcome $outcome"
case "$outcome" in
rolled-back)
	[ $rc = 4 ] || lab_die "rolled back with exit $rc"
	lab_wait_vf_active dst 30 || lab_die "VF not active on dst after recover"
	;;
migrated)
	[ $rc = 0 ] || lab_die "migrated with exit $rc"
	lab_wait_vf_active src 30 || lab_die "VF not active on src after recover"
	lab_devices dst | grep -q vf0 && lab_die "a VF on both hosts"
	;;
*) lab_die "recover ended with outcome '$outcome' (exit $rc): $(jq -c .error "$LAB_DIR/recover.json")" ;;
esac
lab_wait_reachable 20
[ "$(lab_vfm status | head -1)" = "g0: journal finished, destination $(lab_vfm_dest) (outcome $outcome)" ] || lab_die "journal: $(lab_vfm status | head -1)"
echo "PASS"
