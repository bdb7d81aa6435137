#!/usr/bin/env bash
# Faults of the destination's VF pool, QMP backend, two real guests (g0, g1) whose runs share
# each host's emulated pool (pool-host: reservations under the state dir, LAB_POOL_HOSTS=1):
#  1. two vfmigrate runs at once into one pool of two VFs: both migrate, each with its own VF
#     (without shared reservations both take the first tap and one ends degraded).
#  2. the pool loses its last free VF between check and reserve: g0's run is held after its
#     pre-flight (which counted one free VF) while g1 migrates and takes it; g0's reserve then
#     finds none and the run ends before the point of no return with nothing changed (g0 on
#     its host with its VF), no reservation for g0.
#  3. a run SIGKILLed after its reserve: the pool's lock is free at once (flock), the VF stays
#     reserved for the killed run's guest until `recover` gives it back.
# Every case ends with both guests settled: on one host each, VF active, reachable, journal
# finished, every reservation marker a VF that a guest holds.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib-faults.sh"
# LAB_POOL_HOSTS= (empty) runs it without shared reservations: what vfmigrate did before.
export LAB_POOL_HOSTS=${LAB_POOL_HOSTS-1}

# Each host's pool: f0 goes on root port rp1, f1 on rp3 (the spare port every guest has here;
# the emulated pool names a root port per tap).
export LAB_SPARE_PORT=1
bus_of() { [ "$1" = f0 ] && echo rp1 || echo rp3; }
G0_TAP=f0 G1_TAP=f1
g0() { LAB_G=g0 LAB_TAP_V=v0 LAB_TAP_F=$G0_TAP LAB_VF_BUS=$(bus_of $G0_TAP) "$@"; }
g1() {
	LAB_G=g1 LAB_TAP_V=v1 LAB_TAP_F=$G1_TAP LAB_VF_BUS=$(bus_of $G1_TAP) LAB_MAC_VIRTIO=52:54:00:77:00:11 \
		LAB_MAC_VF=52:54:00:77:01:11 LAB_GUEST_IP=$LAB_NET.11 LAB_MIG_PORT=4445 "$@"
}
MAC0=$LAB_MAC_VF MAC1=52:54:00:77:01:11

lab_init fpool
lab_image
lab_net_up
lab_taps_add v1 f1
g0 lab_guest_start src
g1 lab_guest_start src
g0 lab_guest_wait_ready src
g1 lab_guest_wait_ready src
for g in g0 g1; do
	$g lab_agent_wait src
	$g lab_qga_wait src
	$g lab_wait_vf_active src 30 || lab_die "$g: VF not active at start"
	$g lab_wait_reachable
done

# The tap of HOST's pool reserved for MAC (from its marker), or nothing.
tap_of() { grep -l "^mac=$2\$" "$LAB_DIR"/state/vfpool-emul/"$1"@* 2>/dev/null | sed 's/.*@//'; }

# settled GUEST SIDE: the guest runs on SIDE with its VF active, reachable; its QEMU on the
# other host runs nothing; its journal is finished.
settled() {
	local g=$1 side=$2 other st
	other=$(fault_other "$side")
	[ "$($g lab_qmp "$side" query-status | jq -r .status)" = running ] || lab_die "$g does not run on $side"
	$g lab_wait_vf_active "$side" 30 || lab_die "$g: VF not active on $side"
	$g fault_tap_held "$side" || lab_die "$g: its VF's tap on $side is not held"
	if [ -S "$LAB_DIR/$g-$other.qmp" ] && st=$(LAB_CALL_TIMEOUT=2000 $g lab_qmp "$other" query-status 2>/dev/null); then
		[ "$(echo "$st" | jq -r .status)" != running ] || lab_die "$g runs on $other too"
		$g lab_devices "$other" | grep -qw vf0 && lab_die "$g still has a VF on $other"
	fi
	$g lab_vfm status | head -1 | grep -q "^$g: journal finished" || lab_die "$g journal: $($g lab_vfm status | head -1)"
	$g lab_wait_reachable 20
}

# 1. two runs at once into one pool of two VFs (each destination QEMU's VF port is the pool's)
g0 lab_guest_start dst --incoming
g1 lab_guest_start dst --incoming
LAB_VFM_POOL="f0:rp1 f1:rp3" g0 lab_vfm_config
LAB_VFM_POOL="f0:rp1 f1:rp3" g1 lab_vfm_config
fault_begin two-runs-one-pool qmp
g0 lab_vfm_bg "$LAB_DIR/r0a.txt" migrate
p0=$LAB_VFM_PID
g1 lab_vfm_bg "$LAB_DIR/r1a.txt" migrate
p1=$LAB_VFM_PID
rc0=0 rc1=0
wait $p0 || rc0=$?
wait $p1 || rc1=$?
cat "$LAB_DIR/r0a.txt" "$LAB_DIR/r1a.txt" >&2
[ $rc0 = 0 ] && [ $rc1 = 0 ] || lab_die "two runs at once: exits $rc0 and $rc1, expected 0 and 0"
G0_TAP=$(tap_of dst $MAC0) G1_TAP=$(tap_of dst $MAC1)
lab_log "on dst: g0 has ${G0_TAP:-?}, g1 has ${G1_TAP:-?}; markers: $(fault_markers | tr '\n' ' ')"
[ -n "$G0_TAP" ] && [ -n "$G1_TAP" ] && [ "$G0_TAP" != "$G1_TAP" ] || lab_die "the two runs did not take two VFs"
settled g0 dst
settled g1 dst
fault_markers_held
fault_end migrated

# 2. the last free VF taken between check and reserve (each run back to src, whose pool has
# only f0 now)
for g in g0 g1; do
	$g lab_guest_stop src
	$g lab_guest_start src --incoming
	LAB_VFM_POOL=f0:rp1 $g lab_vfm_config --reverse
done
fault_begin pool-emptied-between-check-and-reserve qmp
# g0's agent (on dst) behind the stall proxy: pre-flight asks its bond status, then the bond
# step asks again right before reserve: held there.
fault_stall_start dst guest-bond-status "$LAB_DIR/g0-dst.agent" 2
g0 lab_vfm_bg "$LAB_DIR/r0b.txt" migrate -o "source.agent=$(fault_stall_sock)"
p0=$LAB_VFM_PID
fault_stall_wait_hit 60 || { cat "$LAB_DIR/r0b.txt" >&2; lab_die "g0's run never reached its bond step"; }
grep -q 'preflight  *ok' "$LAB_DIR/r0b.txt" && ! grep -q 'reserve' "$LAB_DIR/r0b.txt" ||
	{ cat "$LAB_DIR/r0b.txt" >&2; lab_die "g0's run is not between check and reserve"; }
lab_log "g0 held after its pre-flight; g1 takes the last VF of src"
rc1=0
g1 lab_vfm migrate >"$LAB_DIR/r1b.txt" 2>&1 || rc1=$?
cat "$LAB_DIR/r1b.txt" >&2
[ $rc1 = 0 ] || lab_die "g1: exit $rc1, expected 0"
fault_stall_go
rc0=0
wait $p0 || rc0=$?
fault_stall_stop
cat "$LAB_DIR/r0b.txt" >&2
case $rc0 in
3 | 4) ;;
*) lab_die "g0 after its VF was taken: exit $rc0, expected 3 (refused) or 4 (rolled back)" ;;
esac
grep -qi 'no free' "$LAB_DIR/r0b.txt" || lab_die "g0's report does not say the pool had no free VF"
grep -q 'point of no return' "$LAB_DIR/r0b.txt" && lab_die "g0's run passed the point of no return"
[ "$(tap_of src $MAC1)" = f0 ] || lab_die "g1 does not hold src's f0"
[ -z "$(tap_of src $MAC0)" ] || lab_die "a reservation for g0 is left on src"
G1_TAP=f0
settled g0 dst
settled g1 src
fault_markers_held
fault_end "$([ $rc0 = 3 ] && echo refused || echo rolled-back)"

# 3. a run SIGKILLed after its reserve: g0 to src, whose pool is f0 (g1's) and f1.
g0 lab_guest_stop src
g0 lab_guest_start src --incoming
LAB_VFM_POOL="f0:rp1 f1:rp3" g0 lab_vfm_config --reverse
fault_begin run-killed-after-reserve qmp
g0 lab_vfm_bg "$LAB_DIR/r0c.txt" migrate --max-bandwidth 10000000
p0=$LAB_VFM_PID
fault_wait_line "$LAB_DIR/r0c.txt" 'reserve  *ok' 60
kill -9 $p0
wait $p0 2>/dev/null || true
cat "$LAB_DIR/r0c.txt" >&2
[ "$(tap_of src $MAC0)" = f1 ] || lab_die "the killed run's reservation: $(fault_markers | tr '\n' ' ')"
flock -n "$LAB_DIR/state/vfpool-emul/src.lock" true || lab_die "the killed run left src's pool lock held"
rc0=0
g0 lab_vfm recover >"$LAB_DIR/r0c.rec.txt" 2>&1 || rc0=$?
cat "$LAB_DIR/r0c.rec.txt" >&2
case $rc0 in
4) where=dst outcome=recover-rolled-back ;;
0) where=src outcome=recover-migrated G0_TAP=f1 ;;
*) lab_die "recover of the killed run: exit $rc0, expected 4 or 0" ;;
esac
[ $where = src ] || [ -z "$(tap_of src $MAC0)" ] || lab_die "recover left g0's reservation on src"
settled g0 $where
settled g1 src
fault_markers_held
fault_end $outcome
lab_log "PASS"
