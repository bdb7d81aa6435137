#!/usr/bin/env bash
# vfmigrate killed with SIGKILL after the VF was unplugged, while the migration runs:
# a new run refuses to start (unfinished journal), `vfmigrate recover` brings the guest to a
# consistent state: the VF active in its bond on exactly one host, the guest reachable, the
# journal finished.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

lab_init qmprec
lab_image
lab_net_up
lab_guest_start src
lab_guest_start dst --incoming
lab_guest_wait_ready src
lab_agent_wait src
lab_wait_vf_active src 30 || lab_die "VF not active at start"
lab_wait_reachable
lab_vfm_config

lab_probe_start --rate 1000
lab_vfm_bg "$LAB_DIR/run.txt" migrate --max-bandwidth 10000000
lab_kill_after_unplug "$LAB_DIR/run.txt" "$LAB_VFM_PID"
cat "$LAB_DIR/run.txt" >&2
lab_log "vfmigrate killed after the unplug"
[ "$(lab_devices src | grep -c vf0 || true)" = 0 ] || lab_die "vf0 still plugged on src after the unplug"

rc=0
lab_vfm migrate >"$LAB_DIR/again.txt" 2>&1 || rc=$?
cat "$LAB_DIR/again.txt" >&2
[ $rc = 6 ] || lab_die "a new run with an unfinished journal: exit $rc, expected 6 (needs recover)"
grep -q recover "$LAB_DIR/again.txt" || lab_die "the refusal does not mention recover"
lab_vfm status >&2 || true

rc=0
lab_vfm recover --json >"$LAB_DIR/recover.json" || rc=$?
jq . "$LAB_DIR/recover.json" >&2 || cat "$LAB_DIR/recover.json" >&2
outcome=$(jq -r .outcome "$LAB_DIR/recover.json")
lab_log "recover: exit $rc, outcome $outcome"
case "$outcome" in
rolled-back)
	[ $rc = 4 ] || lab_die "rolled back with exit $rc"
	lab_wait_vf_active src 30 || lab_die "VF not active on src after recover"
	[ "$(lab_qmp src query-status | jq -r .status)" = running ] || lab_die "source not running"
	;;
migrated)
	[ $rc = 0 ] || lab_die "migrated with exit $rc"
	lab_wait_vf_active dst 30 || lab_die "VF not active on dst after recover"
	lab_devices src | grep -q vf0 && lab_die "a VF on both hosts"
	;;
*) lab_die "recover ended with outcome '$outcome' (exit $rc)" ;;
esac
lab_wait_reachable 20
sleep 1
lab_probe_stop
lab_probe_assert 1000 100
[ "$(lab_vfm status | head -1)" = "g0: journal finished, destination $(lab_vfm_dest) (outcome $outcome)" ] || lab_die "journal: $(lab_vfm status | head -1)"
