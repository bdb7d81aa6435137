# Runs inside the L1 SR-IOV host (t-sriov-pool.sh): vfmigrate's sysfs VF pool against the
# real kernel's igb PF and igbvf VFs: enumerate, reserve (MAC/VLAN on the PF, vfio-pci),
# release (MAC cleared, back to igbvf), concurrent reservations, a VF someone else holds, a
# reservation killed at random points and recovered by MAC, and `vfmigrate check` refusing a
# pool it cannot use with nothing changed.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../lib-sriov.sh"
lab_init sriov-pool
mkdir -p "$LAB_DIR/state"
PF=pf1
M1=52:54:00:77:01:a1 M2=52:54:00:77:01:a2 M3=52:54:00:77:01:a3 M4=52:54:00:77:01:a4
M5=52:54:00:77:01:a5
pool() { sriov_pool --pf "$PF:rp1" "$@"; }

# Every VF of PF on igbvf, no override, no VLAN, no marker, and none of the guests' MACs. (The
# MAC is not zero: once the PF's administrative MAC for a VF is cleared, igb gives the VF a
# random one when igbvf resets it.)
OURS="$M1|$M2|$M3|$M4|$M5|$LAB_MAC_VF"
assert_pristine() {
	local bad
	bad=$(sriov_state "$PF" | grep -v -E " igbvf \(null\) [0-9a-f:]{17} 0 -$" || true)
	bad+=$(sriov_state "$PF" | grep -E " ($OURS) " || true)
	[ -z "$bad" ] || lab_die "$1: VFs not back as they were: $bad"
}

lab_log "the PF as the kernel made it:"
sriov_state "$PF" >&2
assert_pristine "at the start"
[ "$(pool probe)" = "$SRIOV_NUMVFS" ] || lab_die "probe: $(pool probe) free, want $SRIOV_NUMVFS"

# Reserve: MAC and VLAN on the PF, vfio-pci, a marker, /dev/vfio/GROUP.
spec=$(pool reserve "$M1" 10) || lab_die "reserve failed"
lab_log "reserved: $spec"
bdf1=$(echo "$spec" | jq -r .backend)
[ "$(echo "$spec" | jq -r .driver)" = vfio-pci ] || lab_die "spec driver: $spec"
[ "$(echo "$spec" | jq -r .bus)" = rp1 ] || lab_die "spec bus: $spec"
line=$(sriov_state "$PF" | grep "^$bdf1 ")
[ "$line" = "$bdf1 vfio-pci vfio-pci $M1 10 marked" ] || lab_die "after reserve: $line"
group=$(basename "$(readlink "/sys/bus/pci/devices/$bdf1/iommu_group")")
[ -c "/dev/vfio/$group" ] || lab_die "no /dev/vfio/$group for $bdf1"
[ "$(pool probe)" = $((SRIOV_NUMVFS - 1)) ] || lab_die "probe after reserve: $(pool probe)"

# Concurrent reservations: all distinct, and exactly as many as are free.
pids=()
for m in "$M2" "$M3" "$M4"; do
	pool reserve "$m" >"$LAB_DIR/res-$m" 2>"$LAB_DIR/err-$m" &
	pids+=($!)
done
ok=0 nospc=0
for i in 0 1 2; do
	rc=0
	wait "${pids[$i]}" || rc=$?
	case $rc in
	0) ok=$((ok + 1)) ;;
	4) nospc=$((nospc + 1)) ;;
	*) lab_die "a concurrent reserve failed with exit $rc" ;;
	esac
done
taken=$(cat "$LAB_DIR"/res-* | jq -r .backend | sort)
lab_log "concurrent reservations: $ok taken ($(echo $taken)), $nospc refused (no free VF)"
[ $ok = $((SRIOV_NUMVFS - 1)) ] && [ $nospc = $((3 - ok)) ] || lab_die "concurrent: $ok taken, $nospc refused"
[ "$(printf '%s\n' $taken "$bdf1" | sort -u | wc -l)" = "$SRIOV_NUMVFS" ] || lab_die "a VF was taken twice: $taken $bdf1"
pool probe >/dev/null 2>"$LAB_DIR/probe.err" && lab_die "probe with every VF taken did not refuse"
grep -q "no free VF" "$LAB_DIR/probe.err" || lab_die "probe refusal: $(cat "$LAB_DIR/probe.err")"

# Release: MAC and VLAN cleared, back on igbvf, marker gone; twice is no error.
pool release "$bdf1" "$M1" 10 || lab_die "release $bdf1 failed"
for m in "$M2" "$M3" "$M4"; do
	[ -s "$LAB_DIR/res-$m" ] || continue
	pool release "$(jq -r .backend "$LAB_DIR/res-$m")" "$m" || lab_die "release for $m failed"
done
assert_pristine "after release"
pool release "$bdf1" "$M1" 10 || lab_die "a second release failed"
assert_pristine "after a second release"
# The igbvf netdev is back (the host could use the VF again).
ls "/sys/bus/pci/devices/$bdf1/net" | grep -q . || lab_die "$bdf1 has no netdev after release"

# A VF someone else put on vfio-pci (libvirt, a guest started by hand) is never taken, and a
# release by MAC leaves it alone.
other=$(sriov_vf_bdf "$PF" 0)
sriov_vf_bind_vfio "$other"
[ "$(pool probe)" = $((SRIOV_NUMVFS - 1)) ] || lab_die "probe counts $other as free"
spec=$(pool reserve "$M1") || lab_die "reserve beside someone else's VF failed"
[ "$(echo "$spec" | jq -r .backend)" != "$other" ] || lab_die "reserve took $other from its owner"
pool release - "$M1" || lab_die "release by MAC failed"
[ "$(sriov_vf_driver "$other")" = vfio-pci ] || lab_die "someone else's $other was unbound"
sriov_vf_unbind_vfio "$other"
assert_pristine "after someone else's VF"

# A VF parked on a driver that is not a network driver (pci-stub) is someone's: not taken.
modprobe pci-stub
echo pci-stub >"/sys/bus/pci/devices/$other/driver_override"
echo "$other" >/sys/bus/pci/drivers/igbvf/unbind
echo "$other" >/sys/bus/pci/drivers_probe
[ "$(sriov_vf_driver "$other")" = pci-stub ] || lab_die "$other did not go to pci-stub"
echo >"/sys/bus/pci/devices/$other/driver_override"
[ "$(pool probe)" = $((SRIOV_NUMVFS - 1)) ] || lab_die "probe counts a VF on pci-stub as free"
echo "$other" >/sys/bus/pci/drivers/pci-stub/unbind
echo "$other" >/sys/bus/pci/drivers_probe
assert_pristine "after pci-stub"

# A reservation killed at any point (a vfmigrate crash between reserve and bind, or in the
# middle of the bind) is undone by a release by MAC, as recover does with a journal whose
# reserve has no DONE record.
for delay in 0.05 0.15 0.3 0.5 0.8 1.2; do
	pool reserve "$M5" 20 >/dev/null 2>&1 &
	pid=$!
	sleep "$delay"
	kill -9 "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	left=$(sriov_state "$PF" | grep -c -E "vfio-pci|marked| $M5 " || true)
	pool release - "$M5" 20 || lab_die "release by MAC after a kill at ${delay}s failed"
	assert_pristine "recovery of a reservation killed after ${delay}s"
	lab_log "killed after ${delay}s: $left VF(s) touched, recovered"
done

# vfmigrate check refuses a pool it cannot use, exit 3, nothing changed.
check_refuses() {
	local what=$1 want=$2 out rc=0 before after
	before=$(sriov_state pf0; sriov_state pf1)
	out=$("$VFM_BUILDDIR/src/cli/vfmigrate" --config "$LAB_DIR/g0.conf" -s "$LAB_DIR/state" check --json g0) || rc=$?
	after=$(sriov_state pf0; sriov_state pf1)
	[ $rc = 3 ] || lab_die "check with $what: exit $rc, want 3"
	# Pre-flight's problems are records; this L1 runs no guest, so the pool's is not the first.
	pb=$(echo "$out" | jq -r '.problems[] | select(.side == "destination" and (.code == "vf-pool" or .code == "no-free-vf")) | .text')
	echo "$pb" | grep -q -- "destination VF pool: .*$want" ||
		lab_die "check with $what: $(echo "$out" | jq -c .problems)"
	[ "$before" = "$after" ] || lab_die "check with $what changed the VFs"
	lab_log "check refuses $what (exit 3, nothing changed): $pb"
}
conf() {
	sriov_conf src pf0 "$(sriov_vf_bdf pf0 0)" dst $1
}
conf uplink
check_refuses "a NIC without SR-IOV as PF" "PF uplink: no .*/sriov_numvfs"
conf pf1
echo 0 >/sys/class/net/pf1/device/sriov_numvfs
check_refuses "sriov_numvfs 0" "pf1 has sriov_numvfs 0"
echo "$SRIOV_NUMVFS" >/sys/class/net/pf1/device/sriov_numvfs
for n in $(seq 0 $((SRIOV_NUMVFS - 1))); do
	b=$(sriov_vf_bdf pf1 "$n")
	echo pci-stub >"/sys/bus/pci/devices/$b/driver_override"
	[ -n "$(sriov_vf_driver "$b")" ] && echo "$b" >"/sys/bus/pci/drivers/$(sriov_vf_driver "$b")/unbind"
	echo "$b" >/sys/bus/pci/drivers_probe
	echo >"/sys/bus/pci/devices/$b/driver_override"
	[ "$(sriov_vf_driver "$b")" = pci-stub ] || lab_die "$b did not go to pci-stub"
done
check_refuses "every VF on a driver we do not expect (pci-stub)" "not a network driver"
lab_log "PASS"
