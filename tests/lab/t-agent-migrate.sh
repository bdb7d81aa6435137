#!/usr/bin/env bash
# vfmigrate-agent survives a live migration: steps 1-2 through the agent on the source, VF
# unplug, migration, then the same agent process answers on the destination's channel and
# keeps the bond (virtio active, one slave) it had.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

[ -x "$VFM_BUILDDIR/guest/vfmigrate-agent" ] || lab_skip "vfmigrate-agent not built in $VFM_BUILDDIR"
[ -x "$LAB_TOOLS/qga-call" ] || lab_skip "qga-call not built"
[ -x "$LAB_TOOLS/qmp-call" ] || lab_skip "qmp-call not built"

lab_init agentmig
lab_image
lab_net_up
lab_guest_start src
lab_guest_start dst --incoming
lab_guest_wait_ready src
lab_agent_wait src
V=$LAB_MAC_VIRTIO
F=$LAB_MAC_VF

LAB_CALL_TIMEOUT=20000 lab_agent src guest-link-wait "{\"mac\":\"$F\",\"timeout\":15000}" >/dev/null ||
	lab_die "VF has no link"
lab_agent src guest-bond-set-active "{\"mac\":\"$V\",\"primary\":false}" >/dev/null || lab_die "set-active"
lab_agent src guest-bond-release "{\"mac\":\"$F\"}" >/dev/null || lab_die "release"
lab_qmp src device_del '{"id":"vf0"}' >/dev/null
for i in $(seq 100); do
	lab_agent src guest-link-list | jq -e --arg f "$F" 'map(.mac) | index($f) | not' >/dev/null && break
	[ "$i" = 100 ] && lab_die "the VF did not disappear from the guest"
	sleep 0.1
done
# QEMU deletes vf0 (DEVICE_DELETED) on src after the guest let it go; the destination, started
# without it, must not see it in the migration.
for i in $(seq 100); do
	devs=$(lab_devices src) || lab_die "qom-list on src failed"
	[[ " $devs " == *" vf0 "* ]] || break
	[ "$i" = 100 ] && lab_die "QEMU did not delete vf0"
	sleep 0.1
done

lab_qmp dst migrate-incoming "{\"uri\":\"tcp:$LAB_MIG_DST:$LAB_MIG_PORT\"}" >/dev/null
lab_qmp src migrate "{\"uri\":\"tcp:$LAB_MIG_DST:$LAB_MIG_PORT\"}" >/dev/null
for i in $(seq 600); do
	status=$(lab_qmp src query-migrate | jq -r .status)
	case "$status" in
	completed) break ;;
	failed | cancelled) lab_die "migration $status: $(lab_qmp src query-migrate)" ;;
	esac
	sleep 0.1
done
[ "$status" = completed ] || lab_die "migration did not complete: $status"
lab_log "migrated"

# The same agent answers on the destination's channel, with the bond as the source left it.
lab_agent_wait dst 30
st=$(lab_agent dst guest-bond-status) || lab_die "status on dst"
echo "$st" | jq -e ".active == \"$V\" and (.slaves | length) == 1" >/dev/null || lab_die "bond on dst: $st"
lab_agent dst guest-bond-release "{\"mac\":\"$F\"}" >/dev/null 2>&1 && lab_die "release of a missing VF succeeded"
lab_qga_wait dst 30
starts=$(lab_guest_exec dst /bin/grep -c 'starting' /tmp/vfmigrate-agent.log || true)
[ "$starts" = 1 ] || lab_die "vfmigrate-agent started $starts times"
lab_log "PASS: agent served across the migration ($(lab_guest_exec dst /bin/cat /tmp/vfmigrate-agent.log | tr '\n' '|'))"
