#!/usr/bin/env bash
# vfmigrate through libvirt, a guest with two VFs: two libvirtd (one per lab host), guest 0
# defined and started on src with two emulated VFs (e1000e, aliases ua-vf0 on tap f0 and ua-vf1
# on tap f0b), each in its own bond with its own virtio backup (bond0: address LAB_GUEST_IP,
# bond1: LAB_GUEST_IP2). `setup` writes both VFs into the metadata (one --vf-alias group
# each); then vfmigrate src -> dst and back with a probe on each bond's address. Each run:
# outcome migrated, the report lists both VFs (none degraded), both VFs active in their bonds
# at the end, each probe's longest loss window under 1 s, the destination's persistent config
# holding each VF once, the source no longer defining the guest.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib-libvirt.sh"
export LAB_VF2=1

lv_require
lv_lab_up lvmvf
lab_wait_vf_active src 30 lv_guest_exec bond1 "$LAB_MAC_VF2" || lab_die "ua-vf1 not active in bond1 at start"

# The second bond's address: its own probe (LAB_PROBE=probe2), its own reachability.
at2() { LAB_PROBE=probe2 LAB_GUEST_IP=$LAB_GUEST_IP2 "$@"; }
at2 lab_wait_reachable

migrate_once() {
	local from=$1 to=$2 rc=0 n a report=$LAB_DIR/report-$2.json
	lab_probe_start --rate 1000
	at2 lab_probe_start --rate 1000
	sleep 1
	lv_vfm "$from" migrate --json >"$report" || rc=$?
	sleep 2
	lab_probe_stop
	at2 lab_probe_stop
	jq -c '{outcome, exit_code, vfs, without_vf_ms, steps: [.steps[]? | {name, result, ms}]}' "$report" >&2 || cat "$report" >&2
	[ $rc = 0 ] || lab_die "vfmigrate migrate $from -> $to exited $rc"
	[ "$(jq -r .outcome "$report")" = migrated ] || lab_die "outcome is not migrated"
	jq -e '[.vfs[] | select(.degraded | not) | .name] == ["ua-vf0", "ua-vf1"]' "$report" >/dev/null ||
		lab_die "the report does not list ua-vf0 and ua-vf1, neither degraded: $(jq -c .vfs "$report")"
	lv_wait_vf_active "$to" 30 || lab_die "ua-vf0 not active in bond0 on $to"
	lab_wait_vf_active "$to" 30 lv_guest_exec bond1 "$LAB_MAC_VF2" || lab_die "ua-vf1 not active in bond1 on $to"
	lab_probe_assert 1000 100
	at2 lab_probe_assert 1000 100
	lv_virsh "$to" dumpxml --inactive "$LV_DOMAIN" >"$LAB_DIR/persist-$to.xml"
	for a in ua-vf0 ua-vf1; do
		n=$(grep -c "<alias name='$a'/>" "$LAB_DIR/persist-$to.xml" || true)
		[ "$n" = 1 ] || lab_die "persistent config on $to has $a $n times"
	done
	grep -q "<target dev='$(lab_tap_f2)'" "$LAB_DIR/persist-$to.xml" || lab_die "persistent ua-vf1 on $to not on tap $(lab_tap_f2)"
	[ "$(lv_virsh "$to" domstate "$LV_DOMAIN")" = running ] || lab_die "guest not running on $to"
	if lv_virsh "$from" dominfo "$LV_DOMAIN" >/dev/null 2>&1; then
		lab_die "source $from still has the domain"
	fi
	lab_wait_reachable 10
	at2 lab_wait_reachable 10
	lab_log "both VFs migrated $from -> $to through libvirt, each active in its bond"
}

"$VFM_BUILDDIR/src/cli/vfmigrate" -c "$(lv_uri src)" setup "$LV_DOMAIN" \
	--vf-alias ua-vf0 --bond bond0 --backup-mac "$LAB_MAC_VIRTIO" --vf-source ethernet:f0:e1000e \
	--vf-alias ua-vf1 --bond bond1 --backup-mac "$LAB_MAC_VIRTIO2" --vf-source "ethernet:$(lab_tap_f2):e1000e" >&2 ||
	lab_die "vfmigrate setup of two VFs failed"
lv_vfm src check >&2 || lab_die "check src -> dst failed"
migrate_once src dst
lv_vfm dst check >&2 || lab_die "check dst -> src failed"
migrate_once dst src
lab_log "a guest with two VFs in two bonds migrated there and back through libvirt with both VFs active at each end"
