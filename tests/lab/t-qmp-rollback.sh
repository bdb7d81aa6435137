#!/usr/bin/env bash
# Failures before the point of no return roll back over QMP, with real guests:
#  1. --unplug-timeout that expires while the unplug is in flight: rolled back, VF back.
#  2. the destination QEMU killed during the migration: rolled back, VF re-plugged and active
#     on the source, no loss window over 0.5 s.
#  3. --downtime-limit 1 (QEMU may report "completed" with the guest dead on the destination):
#     either migrated with the VF active on the destination, or rolled back to the source with
#     the reason in the report.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

lab_init qmprb
lab_image
lab_net_up
lab_guest_start src
lab_guest_wait_ready src
lab_agent_wait src
lab_wait_vf_active src 30 || lab_die "VF not active at start"
lab_wait_reachable
lab_vfm_config
devices=$(lab_devices src)

# Checks the guest is back on the source as it was: running, same devices, VF active.
assert_back_on_source() {
	[ "$(lab_qmp src query-status | jq -r .status)" = running ] || lab_die "source guest not running"
	[ "$(lab_devices src)" = "$devices" ] || lab_die "devices on src: $(lab_devices src), expected $devices"
	lab_wait_vf_active src 30 || lab_die "VF not active on the source after the rollback"
	[ "$(lab_vfm status | head -1)" = "g0: journal finished, destination $(lab_vfm_dest) (outcome rolled-back)" ] ||
		lab_die "journal: $(lab_vfm status | head -1)"
}

# 1. Unplug deadline hit while the removal is in flight (it takes ~0.1 s here).
lab_guest_start dst --incoming
lab_probe_start --rate 1000
rc=0
lab_vfm migrate --unplug-timeout 5ms --json >"$LAB_DIR/r1.json" || rc=$?
jq -c '{outcome, exit_code, steps: [.steps[]? | {name, result}]}' "$LAB_DIR/r1.json" >&2 || cat "$LAB_DIR/r1.json" >&2
[ $rc = 4 ] || lab_die "unplug timeout: exit $rc, expected 4 (rolled back)"
assert_back_on_source
sleep 1
lab_probe_stop
lab_probe_assert 1000 100
lab_guest_stop dst

# 2. Destination killed while the migration runs (bandwidth-limited so it takes seconds).
lab_guest_start dst --incoming
lab_probe_start --rate 1000
lab_vfm_bg "$LAB_DIR/r2.txt" migrate --max-bandwidth 10000000
vfm=$LAB_VFM_PID
for _ in $(seq 200); do
	grep -q 'migrate: active' "$LAB_DIR/r2.txt" && break
	sleep 0.1
done
grep -q 'migrate: active' "$LAB_DIR/r2.txt" || { cat "$LAB_DIR/r2.txt" >&2; lab_die "migration did not start"; }
sleep 1
lab_log "killing the destination QEMU mid-migration"
kill -9 "$(lab_guest_pid dst)"
rc=0
wait $vfm || rc=$?
cat "$LAB_DIR/r2.txt" >&2
[ $rc = 4 ] || lab_die "destination killed: exit $rc, expected 4 (rolled back)"
assert_back_on_source
sleep 1
lab_probe_stop
lab_probe_assert 500 100
rm -f "$LAB_DIR"/g0-dst.*

# 3. A downtime limit of 1 ms: the guest may arrive dead although QEMU says "completed".
lab_guest_start dst --incoming
rc=0
lab_vfm migrate --downtime-limit 1 --json >"$LAB_DIR/r3.json" || rc=$?
jq -c '{outcome, exit_code, error}' "$LAB_DIR/r3.json" >&2 || cat "$LAB_DIR/r3.json" >&2
case $rc in
0)
	lab_log "downtime-limit 1: the guest arrived alive"
	lab_wait_vf_active dst 30 || lab_die "VF not active on the destination"
	;;
4)
	lab_log "downtime-limit 1: rolled back: $(jq -r '.error // empty' "$LAB_DIR/r3.json")"
	jq -e '.error | tostring | test("agent|alive|answer"; "i")' "$LAB_DIR/r3.json" >/dev/null ||
		lab_die "the report does not say why it rolled back"
	assert_back_on_source
	;;
*) lab_die "downtime-limit 1: exit $rc" ;;
esac
lab_wait_reachable 20
