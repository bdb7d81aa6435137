#!/usr/bin/env bash
# vfmigrate's sysfs VF pool on a real kernel SR-IOV stack: an L1 host VM (QEMU 10, intel-iommu,
# igb PFs with igbvf VFs; lib-sriov.sh) runs tests/lab/l1/sriov-pool.sh, then a second boot
# without an IOMMU runs tests/lab/l1/sriov-noiommu.sh.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib-sriov.sh"
lab_init sriov-pool
sriov_host_run "$LAB_TOP/tests/lab/l1/sriov-pool.sh" 600 || lab_die "the pool tests in the L1 host failed"
SRIOV_IOMMU=0 sriov_host_run "$LAB_TOP/tests/lab/l1/sriov-noiommu.sh" 300 ||
	lab_die "the no-IOMMU tests in the L1 host failed"
echo "PASS"
