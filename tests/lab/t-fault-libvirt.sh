#!/usr/bin/env bash
# Faults with the libvirt backend, real guests under a libvirtd per host:
#  1. libvirtd on the destination stopped and started again while the migration runs: the run
#     ends (rolled back, or migrated if the migration survived), settled.
#  2. libvirtd on the destination restarted right after the point of no return (while
#     vfmigrate plugs there): the plug waits for the daemon (up to timeouts.command, 15 s
#     here: the lab's daemon needs ~3 s to come back) and the run ends on the destination with
#     the VF (exit 0); or it needs recover (6) and `recover` finishes it. Degraded is a
#     failure: before the fix the plug gave up at once and the VF was lost for good.
#  3. the guest agent stalls at release-vf (vfmigrate-agent SIGSTOPped in the guest through
#     qemu-ga over libvirt when the command reaches it): the run ends within the deadline
#     with the hosts put back and exit 6; `recover` while the agent is silent frees what is on
#     the hosts (exit 6 again), and once the agent answers (SIGCONT) rolls back (exit 4).
# Each case ends with fault_settled_lv on the host that has the guest.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib-libvirt.sh"
source "$(dirname "$0")/lib-faults.sh"

lv_require
lv_lab_up flv
lv_setup_meta
where=src

restart_dst_daemon() {
	local to=$1
	lv_daemon_stop "$to"
	lab_log "libvirtd on $to stopped"
	sleep 1
	lv_daemon_start "$to"
	lab_log "libvirtd on $to started again"
}

# 1. during the migration
to=$(fault_other $where)
fault_begin dst-libvirtd-restart-in-migrate libvirt
lv_vfm_bg "$LAB_DIR/r1.txt" $where migrate --max-bandwidth 8388608
vfm=$LV_VFM_PID
fault_wait_line "$LAB_DIR/r1.txt" 'migrate: active' 60
restart_dst_daemon "$to"
rc=0
wait $vfm || rc=$?
cat "$LAB_DIR/r1.txt" >&2
case $rc in
0) where=$to outcome=migrated ;;
4) outcome=rolled-back ;;
6)
	r2=0
	lv_vfm_nodest $where recover >"$LAB_DIR/r1.rec.txt" 2>&1 || r2=$?
	cat "$LAB_DIR/r1.rec.txt" >&2
	case $r2 in
	0) where=$to outcome=recover-migrated ;;
	4) outcome=recover-rolled-back ;;
	*) lab_die "recover after the daemon restart: exit $r2" ;;
	esac
	;;
*) lab_die "libvirtd restarted mid-migration: exit $rc, expected 0, 4 or 6" ;;
esac
fault_settled_lv "$where"
fault_end $outcome

# 2. right after the point of no return. The destination's agent sits behind the stall proxy:
# its first command there is the proof of life after the migration, just before the point of
# no return; the daemon is stopped while that command is held, then the proof of life goes
# on, and the plug that follows finds no daemon until it is started again 1 s later.
to=$(fault_other $where)
from=$where
fault_begin dst-libvirtd-restart-after-ponr libvirt
fault_stall_start "$to" guest-ping "$(lv_dir "$to")/lib/qemu/channel/target/domain-*-$LV_DOMAIN/org.vfmigrate.agent.0"
lv_vfm_bg "$LAB_DIR/r2.txt" $where migrate -o timeouts.command=15s -o "destination.agent=$(fault_stall_sock)"
vfm=$LV_VFM_PID
fault_stall_wait_hit 90 || { cat "$LAB_DIR/r2.txt" >&2; lab_die "no proof of life reached the destination's agent"; }
lv_daemon_stop "$to"
grep -q 'point of no return passed' "$LAB_DIR/r2.txt" && { cat "$LAB_DIR/r2.txt" >&2; lab_die "the held command came after the point of no return"; }
lab_log "libvirtd on $to stopped before the point of no return"
fault_stall_go
sleep 1
lv_daemon_start "$to"
lab_log "libvirtd on $to started again"
rc=0
wait $vfm || rc=$?
cat "$LAB_DIR/r2.txt" >&2
where=$to
case $rc in
0) outcome=migrated ;;
6)
	r2=0
	lv_vfm_nodest $from recover >"$LAB_DIR/r2.rec.txt" 2>&1 || r2=$?
	cat "$LAB_DIR/r2.rec.txt" >&2
	[ $r2 = 0 ] || lab_die "recover after the daemon restart: exit $r2, expected 0"
	outcome=recover-migrated
	;;
*) lab_die "libvirtd restarted after the point of no return: exit $rc, expected 0 or 6" ;;
esac
fault_stall_stop
grep -q 'point of no return passed' "$LAB_DIR/r2.txt" || lab_die "the run never passed the point of no return"
fault_settled_lv "$where"
fault_end $outcome

# 3. the agent stalls at release-vf
fault_begin agent-stall-release-vf libvirt
fault_stall_start "$where" guest-bond-release "$(lv_dir "$where")/lib/qemu/channel/target/domain-*-$LV_DOMAIN/org.vfmigrate.agent.0"
lv_vfm_bg "$LAB_DIR/r3.txt" $where migrate -o timeouts.command=3s -o "source.agent=$(fault_stall_sock)"
vfm=$LV_VFM_PID
fault_stall_wait_hit 90 || { cat "$LAB_DIR/r3.txt" >&2; lab_die "guest-bond-release never reached the agent"; }
fault_agent_signal "$where" STOP lv_guest_exec
fault_stall_go
t0=$SECONDS
rc=0
wait $vfm || rc=$?
cat "$LAB_DIR/r3.txt" >&2
lab_log "stalled at release-vf: exit $rc, $((SECONDS - t0)) s after the stall"
[ $((SECONDS - t0)) -le 60 ] || lab_die "the stalled run took more than 60 s"
[ $rc = 6 ] || lab_die "stalled at release-vf: exit $rc, expected 6 (needs recover)"
fault_stall_stop
fault_tap_held "$(fault_other $where)" && lab_die "the destination's VF tap is held after the run"
if lv_virsh "$(fault_other $where)" domstate "$LV_DOMAIN" 2>/dev/null | grep -q running; then
	lab_die "the guest runs on the destination"
fi
r2=0
lv_vfm_nodest $where recover -o timeouts.command=3s >"$LAB_DIR/r3.rec1.txt" 2>&1 || r2=$?
cat "$LAB_DIR/r3.rec1.txt" >&2
[ $r2 = 6 ] || lab_die "recover with a silent agent: exit $r2, expected 6"
fault_agent_signal "$where" CONT lv_guest_exec
r2=0
lv_vfm_nodest $where recover >"$LAB_DIR/r3.rec2.txt" 2>&1 || r2=$?
cat "$LAB_DIR/r3.rec2.txt" >&2
[ $r2 = 4 ] || lab_die "recover with the agent back: exit $r2, expected 4 (rolled back)"
fault_settled_lv "$where"
fault_end recover-rolled-back
lab_log "PASS"
