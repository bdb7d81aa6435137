#!/usr/bin/env bash
# vfmigrate's failover mode through libvirt on real igbvf VFs: an L1 SR-IOV host (lib-sriov.sh)
# with a libvirtd per lab host runs tests/lab/l1/sriov-lv-failover.sh: a guest paired by
# libvirt's <teaming> (virtio persistent, the VF transient), migrated in failover mode, a
# paused one rolled back at the unplug deadline, a killed run recovered, a VF of a hostdev
# network (type='network') migrated with a network: source. Figures in
# $LAB_DIR/l1/figures.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib-libvirt.sh"
source "$(dirname "$0")/lib-sriov.sh"
lab_init sriov-lv-failover
lv_require
rc=0
sriov_host_run "$LAB_TOP/tests/lab/l1/sriov-lv-failover.sh" 2400 || rc=$?
[ -f "$SRIOV_OUT/figures" ] && sed 's/^/figures: /' "$SRIOV_OUT/figures"
[ $rc = 0 ] || lab_die "failover through libvirt in the L1 host failed"
echo "PASS"
