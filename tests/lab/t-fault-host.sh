#!/usr/bin/env bash
# Faults on the hosts, QMP backend, real guests (one guest boot for all):
#  1. the destination QEMU SIGKILLed while the migration runs: rolled back (exit 4), the VF
#     active on the source, the destination holding no VF.
#  2. the migration link cut (`ip link set mig down` in the source's namespace) and kept down:
#     the migration deadline (timeouts.migrate) ends it, rolled back; the link restored after.
#  3. the migration link cut for 3 s mid-migration, then restored: the migration goes on over
#     the same TCP connection (migrated) or is rolled back; either way a settled end.
#  4. the source QEMU SIGKILLed right after the point of no return: the run finishes on the
#     destination (exit 0), the VF active there, the dead source's VF tap free.
# Each case ends with fault_settled_qmp on the host that has the guest.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib-faults.sh"
# The pools share their reservations (pool-host): the ends check their markers too.
export LAB_POOL_HOSTS=${LAB_POOL_HOSTS-1}

lab_init fhost
lab_image
lab_net_up
lab_guest_start src
lab_guest_wait_ready src
lab_agent_wait src
lab_wait_vf_active src 30 || lab_die "VF not active at start"
lab_wait_reachable
lab_qga_wait src
BW=(--max-bandwidth 10000000)
where=src # the host the guest runs on

# A fresh incoming QEMU on the other host and the config for a run from $where to it.
next_run() {
	local other
	other=$(fault_other "$where")
	lab_guest_stop "$other"
	lab_guest_start "$other" --incoming
	if [ "$where" = src ]; then lab_vfm_config; else lab_vfm_config --reverse; fi
	to=$other
}
# The migration link's state in the source host's namespace (either end cuts it).
mig_link() { ip -n "$NS_SRC" link set mig "$1"; }

# 1. destination QEMU killed mid-migration
next_run
fault_begin dst-qemu-killed-in-migrate qmp
lab_vfm_bg "$LAB_DIR/r1.txt" migrate "${BW[@]}"
vfm=$LAB_VFM_PID
fault_wait_line "$LAB_DIR/r1.txt" 'migrate: active'
sleep 1
kill -9 "$(lab_guest_pid "$to")"
rc=0
wait $vfm || rc=$?
cat "$LAB_DIR/r1.txt" >&2
[ $rc = 4 ] || lab_die "destination killed: exit $rc, expected 4 (rolled back)"
rm -f "$LAB_DIR/g0-$to".*
fault_settled_qmp "$where"
fault_end rolled-back

# 2. migration link cut, kept down until the migration deadline
next_run
fault_begin mig-link-cut-held qmp
lab_vfm_bg "$LAB_DIR/r2.txt" migrate "${BW[@]}" -o timeouts.migrate=15s
vfm=$LAB_VFM_PID
fault_wait_line "$LAB_DIR/r2.txt" 'migrate: active'
mig_link down
lab_log "migration link down"
rc=0
wait $vfm || rc=$?
mig_link up
cat "$LAB_DIR/r2.txt" >&2
[ $rc = 4 ] || lab_die "link cut: exit $rc, expected 4 (rolled back)"
fault_settled_qmp "$where"
fault_end rolled-back

# 3. migration link cut for 3 s, then restored
next_run
fault_begin mig-link-cut-restored qmp
lab_vfm_bg "$LAB_DIR/r3.txt" migrate "${BW[@]}" -o timeouts.migrate=60s
vfm=$LAB_VFM_PID
fault_wait_line "$LAB_DIR/r3.txt" 'migrate: active'
mig_link down
sleep 3
mig_link up
lab_log "migration link down for 3 s, up again"
rc=0
wait $vfm || rc=$?
cat "$LAB_DIR/r3.txt" >&2
case $rc in
0) where=$to outcome=migrated ;;
4) outcome=rolled-back ;;
*) lab_die "link cut and restored: exit $rc, expected 0 or 4" ;;
esac
fault_settled_qmp "$where"
fault_end $outcome

# 4. source QEMU killed right after the point of no return
next_run
from=$where
fault_begin src-qemu-killed-after-ponr qmp
lab_vfm_bg "$LAB_DIR/r4.txt" migrate
vfm=$LAB_VFM_PID
fault_wait_line "$LAB_DIR/r4.txt" 'point of no return passed' 60
pid=$(lab_guest_pid "$from" 2>/dev/null) || pid=
[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null && lab_log "source QEMU killed after the point of no return"
rc=0
wait $vfm || rc=$?
cat "$LAB_DIR/r4.txt" >&2
[ $rc = 0 ] || lab_die "source killed after the point of no return: exit $rc, expected 0 (migrated)"
where=$to
rm -f "$LAB_DIR/g0-$from".*
fault_settled_qmp "$where"
fault_end migrated
lab_log "PASS"
