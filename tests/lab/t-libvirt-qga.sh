#!/usr/bin/env bash
# The fallback agent: a libvirt guest without vfmigrate-agent's channel is driven through the
# stock qemu-ga via libvirt's agent API (bond through /proc and sysfs, no guest-exec). vfmigrate
# migrates it src -> dst with the probe running: outcome migrated, the VF active in the bond on
# dst, the same loss bounds as the other migrations.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib-libvirt.sh"

lv_require
lv_lab_up lvqga --no-agent-channel
lv_setup_meta
lv_vfm src check >&2 || lab_die "check failed"

lab_probe_start --rate 1000
sleep 1
rc=0
lv_vfm src migrate --json >"$LAB_DIR/report.json" || rc=$?
sleep 2
lab_probe_stop
jq -c '{outcome, exit_code, error, migration, without_vf_ms, steps: [.steps[]? | {name, result, ms}]}' "$LAB_DIR/report.json" >&2 || cat "$LAB_DIR/report.json" >&2
[ $rc = 0 ] || lab_die "vfmigrate exited $rc"
lv_wait_vf_active dst 30 || lab_die "VF not active on dst"
lab_probe_assert 1000 100
lab_log "migrated through the qemu-ga fallback with the VF active on dst"
