#!/usr/bin/env bash
# Faults: the guest agent stops answering (a stall, not a close: vfmigrate-agent SIGSTOPped in
# the guest through qemu-ga at the moment the step's command reaches it) at each guest step,
# QMP backend, real guests:
#  1. backup-active: rolled back within the deadline, the destination VF not left held;
#     `recover` once the agent answers again puts the VF back in charge.
#  2. release-vf: the same.
#  3. enslave (after the point of no return, the destination's agent): the run finishes on the
#     destination within the deadline without the VF (degraded) or with it; once the agent
#     answers, `recover` (or the run itself) leaves the VF active there.
# Each case ends with fault_settled_qmp: the guest on one host only, VF active, reachable, the
# other host holding no VF and running no guest, the journal finished, no marker left.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib-faults.sh"
# The pools share their reservations (pool-host): the ends check their markers too.
export LAB_POOL_HOSTS=${LAB_POOL_HOSTS-1}

lab_init fagent
lab_image
lab_net_up
lab_guest_start src
lab_guest_wait_ready src
lab_agent_wait src
lab_wait_vf_active src 30 || lab_die "VF not active at start"
lab_wait_reachable
lab_qga_wait src
lab_vfm_config
# Short bounds so that a stalled step gives up in seconds.
T=(-o timeouts.command=3s)
# A stalled run must end within this many seconds of the stall.
DEADLINE=60

# stall_case NAME AGENT_SIDE TRIGGER: runs vfmigrate with AGENT_SIDE's agent behind the stall
# proxy, stops the agent when TRIGGER reaches it; leaves the exit code in $rc, the text in
# $LAB_DIR/NAME.txt and the seconds from the stall to the end in $secs.
stall_case() {
	local name=$1 aside=$2 trigger=$3 key vfm t0 t1
	[ "$aside" = src ] && key=source.agent || key=destination.agent
	fault_stall_start "$aside" "$trigger"
	lab_vfm_bg "$LAB_DIR/$name.txt" migrate "${T[@]}" -o "$key=$(fault_stall_sock)"
	vfm=$LAB_VFM_PID
	fault_stall_wait_hit 90 || { cat "$LAB_DIR/$name.txt" >&2; lab_die "$trigger never reached the agent"; }
	lab_log "$trigger reached the agent on $aside: stopping vfmigrate-agent there"
	fault_agent_signal "$aside" STOP
	fault_stall_go
	t0=$(date +%s%N)
	rc=0
	wait $vfm || rc=$?
	t1=$(date +%s%N)
	secs=$(((t1 - t0) / 1000000000))
	cat "$LAB_DIR/$name.txt" >&2
	lab_log "$name: exit $rc, $secs s after the stall"
	[ "$secs" -le $DEADLINE ] || lab_die "$name: vfmigrate took ${secs}s after the stall (bound ${DEADLINE}s)"
	fault_stall_stop
}

# After a stall before the point of no return: rolled back (4) or needs recover (6), never
# more; the destination holds no VF at once; after SIGCONT, recover ends with the VF active.
after_rollback() {
	local name=$1
	case $rc in
	4 | 6) ;;
	*) lab_die "$name: exit $rc, expected 4 (rolled back) or 6 (needs recover)" ;;
	esac
	fault_tap_held dst && lab_die "$name: the destination VF's tap is held after the run"
	if lab_devices dst 2>/dev/null | grep -qw vf0; then lab_die "$name: a VF plugged on dst"; fi
	[ -z "$(fault_markers)" ] || lab_die "$name: reservation left while the agent is silent: $(fault_markers)"
	if [ $rc = 6 ]; then
		grep -q "recover" "$LAB_DIR/$name.txt" || lab_die "$name: exit 6 without a word of recover"
		# While the guest is silent, recover frees what is on the hosts and says what is left.
		local r2=0
		lab_vfm recover "${T[@]}" >"$LAB_DIR/$name.rec1.txt" 2>&1 || r2=$?
		cat "$LAB_DIR/$name.rec1.txt" >&2
		[ $r2 = 6 ] || lab_die "$name: recover with a silent agent: exit $r2, expected 6"
	fi
	fault_agent_signal src CONT
	lab_agent_wait src 30
	if [ $rc = 6 ]; then
		local r3=0
		lab_vfm recover >"$LAB_DIR/$name.rec2.txt" 2>&1 || r3=$?
		cat "$LAB_DIR/$name.rec2.txt" >&2
		[ $r3 = 4 ] || lab_die "$name: recover with the agent back: exit $r3, expected 4 (rolled back)"
	fi
	# The command held while the agent was stopped runs late, when it wakes up: the VF must
	# be active afterwards all the same. A finished rollback that a late command undid is
	# put right by a plain `recover`? No: it is a finished journal. Check the guest itself.
	fault_settled_qmp src
}

lab_guest_start dst --incoming

# 1. backup-active
fault_begin agent-stall-backup-active qmp
stall_case sa src guest-bond-set-active
after_rollback sa
fault_end "$([ $rc = 4 ] && echo rolled-back || echo recover-rolled-back)"

# 2. release-vf
lab_guest_stop dst
lab_guest_start dst --incoming
fault_begin agent-stall-release-vf qmp
stall_case sr src guest-bond-release
after_rollback sr
fault_end "$([ $rc = 4 ] && echo rolled-back || echo recover-rolled-back)"

# 3. enslave on the destination, after the point of no return.
lab_guest_stop dst
lab_guest_start dst --incoming
fault_begin agent-stall-enslave qmp
stall_case se dst guest-bond-enslave
case $rc in
0 | 5 | 6) ;;
*) lab_die "enslave stall: exit $rc, expected 0, 5 (degraded) or 6" ;;
esac
[ "$(lab_qmp dst query-status | jq -r .status)" = running ] || lab_die "the guest does not run on dst"
lab_qga_wait dst
fault_agent_signal dst CONT
lab_agent_wait dst 30
if [ $rc = 6 ]; then
	r3=0
	lab_vfm recover >"$LAB_DIR/se.rec.txt" 2>&1 || r3=$?
	cat "$LAB_DIR/se.rec.txt" >&2
	[ $r3 = 0 ] || lab_die "enslave stall: recover with the agent back: exit $r3, expected 0"
fi
fault_settled_qmp dst
fault_end "$(case $rc in 0) echo migrated ;; 5) echo degraded ;; 6) echo recover-migrated ;; esac)"
lab_log "PASS"
