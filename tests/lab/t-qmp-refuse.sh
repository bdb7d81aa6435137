#!/usr/bin/env bash
# Pre-flight refusals over QMP change nothing: destination QEMU not there, the guest agent's
# socket unavailable. Each time vfmigrate exits 3 (refused),
# says which check failed, the VF stays plugged and active, and the guest loses no traffic.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

lab_init qmprefuse
lab_image
lab_net_up
lab_guest_start src
lab_guest_wait_ready src
lab_agent_wait src
lab_wait_vf_active src 30 || lab_die "VF not active at start"
lab_wait_reachable
lab_vfm_config
before=$(lab_devices src)
lab_log "devices on src: $before"

expect_refused() {
	local what=$1 rc=0
	shift
	lab_vfm "$@" >"$LAB_DIR/out" 2>&1 || rc=$?
	cat "$LAB_DIR/out" >&2
	[ $rc = 3 ] || lab_die "$what: exit $rc, expected 3 (refused)"
	grep -qi "$what" "$LAB_DIR/out" || lab_die "the message does not name '$what'"
}

lab_probe_start --rate 1000
# 1. No destination QEMU at all.
expect_refused destination check
expect_refused destination migrate
# 2. Destination up, but the agent's socket is not there.
lab_guest_start dst --incoming
expect_refused agent migrate -o "source.agent=$LAB_DIR/no-such-agent.sock"
sleep 1
lab_probe_stop

read -r ms pk lost sent < <(lab_probe_summary)
lab_log "probe during the refusals: sent $sent, lost $lost"
[ "$lost" = 0 ] || lab_die "the guest lost $lost packets during refused runs"
[ "$(lab_devices src)" = "$before" ] || lab_die "devices changed: $(lab_devices src)"
lab_wait_vf_active src 5 || lab_die "VF no longer active"
[ "$(lab_qmp dst query-status | jq -r .status)" = inmigrate ] || lab_die "destination left its incoming state"
# And the same guest still migrates afterwards: the refusals left no journal behind.
lab_vfm migrate >&2 || lab_die "migrate after the refusals failed"
lab_wait_vf_active dst 30 || lab_die "VF not active on dst"
