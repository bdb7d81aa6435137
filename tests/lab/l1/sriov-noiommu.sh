# Runs inside an L1 SR-IOV host booted without an IOMMU (t-sriov-pool.sh): its VFs have no
# IOMMU group, so vfio-pci could never take them. The pool must not offer them and
# `vfmigrate check` must refuse, exit 3, with nothing changed.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../lib-sriov.sh"
lab_init sriov-noiommu
mkdir -p "$LAB_DIR/state"
b=$(sriov_vf_bdf pf1 0)
[ ! -e "/sys/bus/pci/devices/$b/iommu_group" ] || lab_die "$b has an IOMMU group: the IOMMU is on"
before=$(sriov_state pf1)
sriov_pool --pf pf1 probe >/dev/null 2>"$LAB_DIR/err" && lab_die "probe offered VFs without an IOMMU group"
grep -q "no IOMMU group" "$LAB_DIR/err" || lab_die "probe: $(cat "$LAB_DIR/err")"
sriov_pool --pf pf1 reserve 52:54:00:77:01:a1 >/dev/null 2>"$LAB_DIR/err" && lab_die "reserve took a VF without an IOMMU group"
sriov_conf src pf0 "$(sriov_vf_bdf pf0 0)" dst pf1
rc=0
out=$("$VFM_BUILDDIR/src/cli/vfmigrate" --config "$LAB_DIR/g0.conf" -s "$LAB_DIR/state" check --json g0) || rc=$?
[ $rc = 3 ] || lab_die "check: exit $rc, want 3"
# The pool's problem among pre-flight's (this L1 runs no guest: the hypervisor's come first).
msg=$(echo "$out" | jq -r '.problems[] | select(.side == "destination" and (.code == "vf-pool" or .code == "no-free-vf")) | .text')
echo "$msg" | grep -q "destination VF pool: no free VF (.*no IOMMU group" || lab_die "check: $msg: $(echo "$out" | jq -c .problems)"
[ "$before" = "$(sriov_state pf1)" ] || lab_die "check changed the VFs"
lab_log "check refuses VFs without an IOMMU group (exit 3, nothing changed): $(echo "$msg" | grep -o 'destination VF pool: [^;]*')"
lab_log "PASS"
