#!/usr/bin/env bash
# Operator interrupts of `vfmigrate migrate` over QMP, with real guests:
#  1. SIGINT while the migration runs: the migration is cancelled, rolled back (exit 4), the VF
#     re-plugged and active on the source, the journal finished, no loss window over 0.5 s.
#  2. SIGTERM, then a second SIGTERM during the rollback: exits at once (exit 6) with the
#     journal unfinished; `vfmigrate recover` then rolls back with the VF active on the source.
#  After 1 and 2 the source has its own max-bandwidth again (recover reads it from the journal).
#  3. SIGINT after the point of no return: ignored, the run finishes on the destination with
#     the VF active there (exit 0).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

lab_init qmpint
lab_image
lab_net_up
lab_guest_start src
lab_guest_wait_ready src
lab_agent_wait src
lab_wait_vf_active src 30 || lab_die "VF not active at start"
lab_wait_reachable
lab_vfm_config
devices=$(lab_devices src)

# Waits (up to 20 s) for a line matching $2 in file $1.
wait_for_line() {
	local f=$1 re=$2
	for _ in $(seq 200); do
		grep -q "$re" "$f" && return 0
		sleep 0.1
	done
	cat "$f" >&2
	lab_die "no '$re' in $(basename "$f")"
}

# The source's migration tuning; a rolled-back run (and recover) gives it back.
tuning() { lab_qmp src query-migrate-parameters | jq -c '{"max-bandwidth", "downtime-limit"}'; }

assert_back_on_source() {
	[ "$(lab_qmp src query-status | jq -r .status)" = running ] || lab_die "source guest not running"
	[ "$(tuning)" = "$tuning0" ] || lab_die "source migration parameters $(tuning), expected $tuning0"
	[ "$(lab_devices src)" = "$devices" ] || lab_die "devices on src: $(lab_devices src), expected $devices"
	lab_wait_vf_active src 30 || lab_die "VF not active on the source after the rollback"
	[ "$(lab_vfm status | head -1)" = "g0: journal finished, destination $(lab_vfm_dest) (outcome rolled-back)" ] ||
		lab_die "journal: $(lab_vfm status | head -1)"
}

# A fresh destination waiting for the guest (a cancelled incoming migration ends its QEMU).
restart_dst() {
	lab_guest_stop dst
	rm -f "$LAB_DIR"/g0-dst.*
	lab_guest_start dst --incoming
}

# 1. SIGINT mid-migration (bandwidth-limited so it takes seconds).
tuning0=$(tuning)
lab_log "source migration parameters before: $tuning0"
lab_guest_start dst --incoming
lab_probe_start --rate 1000
lab_vfm_bg "$LAB_DIR/r1.txt" migrate --max-bandwidth 10000000
vfm=$LAB_VFM_PID
wait_for_line "$LAB_DIR/r1.txt" 'migrate: active'
lab_log "SIGINT to vfmigrate mid-migration"
t0=$(date +%s%N)
kill -INT "$vfm"
rc=0
wait $vfm || rc=$?
t1=$(date +%s%N)
cat "$LAB_DIR/r1.txt" >&2
lab_log "vfmigrate ended $(((t1 - t0) / 1000000)) ms after SIGINT"
[ $rc = 4 ] || lab_die "SIGINT: exit $rc, expected 4 (rolled back)"
grep -q '^vfmigrate: interrupted by SIGINT: rolling back' "$LAB_DIR/r1.txt" ||
	lab_die "no 'interrupted by SIGINT: rolling back' line at the signal"
grep -q 'migrate: interrupted by SIGINT; migration cancelled' "$LAB_DIR/r1.txt" ||
	lab_die "the migrate step's error does not say it was interrupted"
[ "$(lab_qmp src query-migrate | jq -r '.status // "none"')" = cancelled ] ||
	lab_die "source migration state: $(lab_qmp src query-migrate)"
assert_back_on_source
sleep 1
lab_probe_stop
lab_probe_assert 500 100

# 2. SIGTERM, then SIGTERM again during the rollback: exit 6, then recover.
restart_dst
lab_vfm_bg "$LAB_DIR/r2.txt" migrate --max-bandwidth 10000000
vfm=$LAB_VFM_PID
wait_for_line "$LAB_DIR/r2.txt" 'migrate: active'
kill -TERM "$vfm"
# The undo of release-vf waits for the VF's carrier (seconds under TCG): time for the second.
wait_for_line "$LAB_DIR/r2.txt" 'undo release-vf'
lab_log "second SIGTERM during the rollback"
kill -TERM "$vfm"
rc=0
wait $vfm || rc=$?
cat "$LAB_DIR/r2.txt" >&2
[ $rc = 6 ] || lab_die "second SIGTERM: exit $rc, expected 6 (needs recover)"
grep -q "interrupted again: exiting now; run 'vfmigrate recover g0'" "$LAB_DIR/r2.txt" ||
	lab_die "no 'interrupted again' line"
rc=0
lab_vfm status >&2 || rc=$?
[ $rc = 6 ] || lab_die "status after the second signal: exit $rc, expected 6 (unfinished journal)"
rc=0
lab_vfm migrate >"$LAB_DIR/r2b.txt" 2>&1 || rc=$?
[ $rc = 6 ] || { cat "$LAB_DIR/r2b.txt" >&2; lab_die "a new run with an unfinished journal: exit $rc, expected 6"; }
rc=0
lab_vfm recover || rc=$?
[ $rc = 4 ] || lab_die "recover: exit $rc, expected 4 (rolled back)"
assert_back_on_source

# 3. SIGINT after the point of no return: ignored, finished on the destination.
restart_dst
# (Scenario 2's recover gave the source back its own max-bandwidth, from the journal.)
lab_vfm_bg "$LAB_DIR/r3.txt" migrate
vfm=$LAB_VFM_PID
wait_for_line "$LAB_DIR/r3.txt" 'point of no return passed'
lab_log "SIGINT to vfmigrate after the point of no return"
kill -INT "$vfm"
rc=0
wait $vfm || rc=$?
cat "$LAB_DIR/r3.txt" >&2
[ $rc = 0 ] || lab_die "SIGINT after the point of no return: exit $rc, expected 0 (migrated)"
grep -q '^vfmigrate: interrupted by SIGINT: the guest already runs on the destination; finishing on the destination' "$LAB_DIR/r3.txt" ||
	lab_die "no 'finishing on the destination' line at the signal"
grep -q 'interrupted by SIGINT: ignored' "$LAB_DIR/r3.txt" || lab_die "the report does not say the interrupt was ignored"
lab_wait_vf_active dst 30 || lab_die "VF not active on the destination"
[ "$(lab_vfm status | head -1)" = "g0: journal finished, destination $(lab_vfm_dest) (outcome migrated)" ] ||
	lab_die "journal: $(lab_vfm status | head -1)"
lab_wait_reachable 20
lab_log "PASS"
