#!/usr/bin/env bash
# Failover mode over QMP, a guest with two failover pairs (LAB_VF2=1 with --failover): virtio
# net0 (failover=on) with e1000e vf0 its hidden primary on net0's MAC, virtio net1 with vf1 on
# net1's MAC, each pair's failover master with its own address (LAB_GUEST_IP, LAB_GUEST_IP2);
# no bond; the config has two [vf] sections without bonds. One boot of the guest:
#  - rollback: the guest paused as the migration starts (a pass-through in front of the
#    source's QMP holds vfmigrate's first migration command until the guest is stopped), so
#    QEMU waits in wait-unplug for both primaries; vfmigrate cancels at its deadline
#    (timeouts.unplug 3 s): exit 4, the guest running on src with both masters sending on
#    their primaries again;
#  - src -> dst with a probe at 1000 pps on each master's address: check and the report say
#    failover mode, outcome migrated, neither VF degraded, both primaries active on dst (the
#    agent's guest-failover-status per MAC and the guest's sysfs through qemu-ga), vf0 and
#    vf1 plugged there, `vfmigrate status` finished in failover mode. Loss windows logged.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib-faults.sh"
export LAB_VF2=1

lab_init qmpfo2
# A second monitor: the test pauses the guest while vfmigrate holds the first.
LAB_QMP2=1
LAB_GUEST_MODE=--failover
LAB_VF_READY=both_primaries
lab_image
lab_net_up

# The second master's address: its own probe, its own reachability.
at2() { LAB_PROBE=probe2 LAB_GUEST_IP=$LAB_GUEST_IP2 "$@"; }

# Both failover masters send on their primaries on SIDE (up to SECS, default 30).
both_primaries() {
	fo_primary_active "$1" "${2:-30}" "$LAB_MAC_VIRTIO" && fo_primary_active "$1" "${2:-30}" "$LAB_MAC_VIRTIO2"
}

lab_guest_start src --failover
lab_guest_start dst --failover --incoming
lab_guest_wait_ready src
lab_agent_wait src
lab_qga_wait src
both_primaries src 60 || lab_die "the primaries are not active before the migration"
lab_wait_reachable
at2 lab_wait_reachable

# Rollback first (the guest stays on src): paused as the migration starts.
fo_migrate_paused "$LAB_DIR/paused.json"
rc=$FO_PAUSED_RC secs=$FO_PAUSED_SECS
grep -q '^\[vf net1\]' "$LAB_DIR/g0.conf" || lab_die "the config has no second VF"
grep -q '^bond' "$LAB_DIR/g0.conf" && lab_die "the failover config names a bond"
[ $rc = 4 ] || lab_die "paused guest: vfmigrate exited $rc, not 4 (rolled back)"
[ "$(jq -r .mode "$LAB_DIR/paused.json")" = failover ] || lab_die "the paused run's mode is not failover"
[ "$(jq -r .error.step "$LAB_DIR/paused.json")" = migrate ] || lab_die "the failure is not in the migrate step"
jq -r .error.message "$LAB_DIR/paused.json" | grep -q 'primaries vf0, vf1' || lab_die "the error does not name both primaries"
awk -v s="$secs" 'BEGIN { exit !(s < 30) }' || lab_die "the rollback took $secs s"
[ "$(lab_qmp src query-status | jq -r .status)" = running ] || lab_die "the guest does not run on src after the rollback"
for d in vf0 vf1; do
	lab_devices src | grep -qw $d || lab_die "no $d on src after the rollback"
done
both_primaries src 60 || lab_die "the primaries are not active on src after the rollback"
lab_vfm status | head -1 | grep -q '^g0: journal finished' || lab_die "journal: $(lab_vfm status | head -1)"
lab_wait_reachable 20
at2 lab_wait_reachable 20
lab_log "paused guest: cancelled at the deadline and rolled back in $secs s, both primaries active on src"

# src -> dst: a fresh destination (the cancelled incoming ended the first).
lab_guest_stop dst
lab_guest_start dst --failover --incoming
fo_config
lab_vfm check --json >"$LAB_DIR/check.json" || lab_die "check: $(cat "$LAB_DIR/check.json")"
[ "$(jq -r .mode "$LAB_DIR/check.json")" = failover ] || lab_die "check did not pick failover mode"
report=$LAB_DIR/report.json
lab_probe_start --rate 1000
at2 lab_probe_start --rate 1000
sleep 1
rc=0
LAB_VFM_ON_RETRY='lab_probe_stop; at2 lab_probe_stop; lab_probe_start --rate 1000; at2 lab_probe_start --rate 1000; sleep 1' \
	lab_vfm_migrate src dst "$report" || rc=$?
sleep 2
lab_probe_stop
at2 lab_probe_stop
jq -c '{outcome, mode, without_vf_ms, downtime: .migration.downtime_ms, vfs, steps: [.steps[] | select(.result != "skipped") | "\(.name) \(.result) \(.ms)"], notes}' "$report" >&2 || true
[ $rc = 0 ] || lab_die "vfmigrate migrate exited $rc: $(jq -c .error "$report")"
[ "$(jq -r .outcome "$report")" = migrated ] || lab_die "outcome is not migrated"
[ "$(jq -r .mode "$report")" = failover ] || lab_die "the report's mode is not failover"
jq -e '[.vfs[] | select(.degraded | not) | .name] == ["net0", "net1"]' "$report" >/dev/null ||
	lab_die "the report does not list net0 and net1, neither degraded: $(jq -c .vfs "$report")"
both_primaries dst 30 || lab_die "the primaries are not active on dst after the migration"
for d in vf0 vf1; do
	lab_devices dst | grep -qw $d || lab_die "no $d on dst"
done
for p in probe probe2; do
	read -r ms pk lost sent < <(LAB_PROBE=$p lab_probe_summary)
	lab_log "LOSS $p: longest window ${ms} ms ($pk packets), lost $lost of $sent; without VF $(jq -r .without_vf_ms "$report") ms"
done
lab_probe_assert 3000 1000
at2 lab_probe_assert 3000 1000
lab_wait_reachable 10
at2 lab_wait_reachable 10
lab_vfm status | head -1 | grep -q '^g0: journal finished.*failover mode' || lab_die "status: $(lab_vfm status | head -1)"
lab_vfm status --json >"$LAB_DIR/status.json" || lab_die "status: $(cat "$LAB_DIR/status.json")"
[ "$(jq -r '.mode + " " + .side + " " + .failover.sends_on + " " + ([.more_failover[].failover.sends_on] | join(","))' "$LAB_DIR/status.json")" = "failover destination primary primary" ] ||
	lab_die "status does not show both failover masters on their primaries: $(jq -c '{mode, side, failover, failover_error, more_failover}' "$LAB_DIR/status.json")"
lab_log "status: $(lab_vfm status | sed -n '2,3p' | tr '\n' ';')"
lab_log "two failover pairs migrated src -> dst in failover mode, both primaries active on dst"
