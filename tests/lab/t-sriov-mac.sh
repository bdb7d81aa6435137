#!/usr/bin/env bash
# The six steps on a real igbvf VF, by bond mode (issue 15's MAC model): an L1 SR-IOV host
# (lib-sriov.sh) runs tests/lab/l1/sriov-migrate.sh, which boots the guest once and migrates
# it with the bond at fail_over_mac=active, then at none with the VF's MAC, after pre-flight
# refused the layout a real VF cannot serve. Figures in $LAB_DIR/l1/figures.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib-sriov.sh"
lab_init sriov-mac
rc=0
sriov_host_run "$LAB_TOP/tests/lab/l1/sriov-migrate.sh" 2400 || rc=$?
[ -f "$SRIOV_OUT/figures" ] && sed 's/^/figures: /' "$SRIOV_OUT/figures"
[ $rc = 0 ] || lab_die "the migrations in the L1 host failed"
echo "PASS"
