#!/usr/bin/env bash
# vfmigrate's libvirt backend on real igbvf VFs: an L1 SR-IOV host (lib-sriov.sh) with a
# libvirtd per lab host runs tests/lab/l1/sriov-libvirt.sh: a guest whose VF is a bare
# <hostdev managed='no'> migrated to a <forward mode='hostdev'> network's VF, and back to an
# explicit <interface type='hostdev'> VF. Figures in $LAB_DIR/l1/figures.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib-libvirt.sh"
source "$(dirname "$0")/lib-sriov.sh"
lab_init sriov-libvirt
lv_require
rc=0
sriov_host_run "$LAB_TOP/tests/lab/l1/sriov-libvirt.sh" 2400 || rc=$?
[ -f "$SRIOV_OUT/figures" ] && sed 's/^/figures: /' "$SRIOV_OUT/figures"
[ $rc = 0 ] || lab_die "the libvirt migrations in the L1 host failed"
echo "PASS"
