#!/usr/bin/env bash
# Pre-flight refusals through libvirt change nothing: (1) the destination libvirtd is down,
# (2) the destination has no free VF (its only VF source, tap f0, is taken by another running
# domain). Each time vfmigrate exits 3 (refused), says which check failed (with libvirt's
# text), the VF stays attached and active in the guest's bond, the guest keeps running on the
# source and loses no traffic; afterwards the same guest still migrates.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib-libvirt.sh"

lv_require
lv_lab_up lvrefuse
lv_setup_meta

unchanged() {
	lv_virsh src dumpxml "$LV_DOMAIN" >"$LAB_DIR/live.xml"
grep -q "<alias name='ua-vf0'/>" "$LAB_DIR/live.xml" || lab_die "$1: the VF is no longer attached"
	[ "$(lv_virsh src domstate "$LV_DOMAIN")" = running ] || lab_die "$1: guest not running on src"
	lv_wait_vf_active src 5 || lab_die "$1: VF no longer active"
	lv_vfm src status >&2 || lab_die "$1: status says an unfinished journal was left"
}

expect_refused() {
	local what=$1 rc=0
	shift
	lv_vfm src "$@" >"$LAB_DIR/out" 2>&1 || rc=$?
	cat "$LAB_DIR/out" >&2
	[ $rc = 3 ] || lab_die "$what: exit $rc, expected 3 (refused)"
	grep -qi -- "$what" "$LAB_DIR/out" || lab_die "the message does not name '$what'"
}

lab_probe_start --rate 1000
# 1. The destination libvirtd is down.
lv_daemon_stop dst
expect_refused "destination hypervisor: connect to" check
expect_refused "destination hypervisor: connect to" migrate
unchanged "destination down"

# 2. The destination is up, but its VF (tap f0) is used by another running domain.
lv_daemon_start dst
# <acpi/>: without it libvirt 9.0 passes -no-acpi, which QEMU 10 no longer has (LAB_QEMU=bpo).
cat >"$LAB_DIR/blocker.xml" <<EOX
<domain type='qemu'>
  <name>blocker</name>
  <memory unit='MiB'>32</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='q35'>hvm</type></os>
  <features><acpi/></features>
  <devices>
    <controller type='usb' model='none'/>
    <interface type='ethernet'>
      <target dev='f0' managed='no'/>
      <model type='e1000e'/>
      <rom enabled='no'/>
    </interface>
    <memballoon model='none'/>
  </devices>
</domain>
EOX
lv_virsh dst create --paused "$LAB_DIR/blocker.xml" >/dev/null || lab_die "cannot start the blocker domain"
expect_refused "no free VF" check
expect_refused "no free VF" migrate
unchanged "no free VF"
sleep 1
lab_probe_stop
read -r ms pk lost sent < <(lab_probe_summary)
lab_log "probe during the refusals: sent $sent, lost $lost"
[ "$lost" = 0 ] || lab_die "the guest lost $lost packets during refused runs"

# The VF comes free: the same guest migrates (the refusals left no journal behind).
lv_virsh dst destroy blocker >/dev/null
lv_vfm src migrate >&2 || lab_die "migrate after the refusals failed"
lv_wait_vf_active dst 30 || lab_die "VF not active on dst"
lab_log "refusals changed nothing; the guest migrated afterwards"
