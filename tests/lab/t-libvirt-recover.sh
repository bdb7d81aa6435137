#!/usr/bin/env bash
# vfmigrate (libvirt backend) killed with SIGKILL after the VF was detached, while libvirt
# migrates: a new run refuses to start (unfinished journal, exit 6), `vfmigrate recover` without
# DEST (the journal names the destination) brings the guest to a consistent state through
# libvirt: the VF attached and active in its bond on exactly one host, the guest reachable, the
# journal finished.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib-libvirt.sh"

lv_require
lv_lab_up lvrec
lv_setup_meta

lab_probe_start --rate 1000
lv_vfm_bg "$LAB_DIR/run.txt" src migrate --max-bandwidth 8388608
lab_kill_after_unplug "$LAB_DIR/run.txt" "$LV_VFM_PID" 1
cat "$LAB_DIR/run.txt" >&2
lab_log "vfmigrate killed after the unplug"

rc=0
lv_vfm src migrate >"$LAB_DIR/again.txt" 2>&1 || rc=$?
cat "$LAB_DIR/again.txt" >&2
[ $rc = 6 ] || lab_die "a new run with an unfinished journal: exit $rc, expected 6 (needs recover)"
grep -q recover "$LAB_DIR/again.txt" || lab_die "the refusal does not mention recover"

# Let libvirt notice that its client is gone.
sleep 2
rc=0
# No DEST: the journal's BEGIN names the destination the killed run was migrating to.
lv_vfm_nodest src recover --json >"$LAB_DIR/recover.json" || rc=$?
jq -c '{outcome, exit_code, error, error2, steps: [.steps[]? | {name, result}]}' "$LAB_DIR/recover.json" >&2 || cat "$LAB_DIR/recover.json" >&2
outcome=$(jq -r .outcome "$LAB_DIR/recover.json")
lab_log "recover: exit $rc, outcome $outcome"
case "$outcome" in
rolled-back)
	[ $rc = 4 ] || lab_die "rolled back with exit $rc"
	lv_wait_vf_active src 30 || lab_die "VF not active on src after recover"
	[ "$(lv_virsh src domstate "$LV_DOMAIN")" = running ] || lab_die "source not running"
	if lv_virsh dst domstate "$LV_DOMAIN" 2>/dev/null | grep -q running; then
		lab_die "the guest runs on both hosts"
	fi
	;;
migrated)
	[ $rc = 0 ] || lab_die "migrated with exit $rc"
	lv_wait_vf_active dst 30 || lab_die "VF not active on dst after recover"
	;;
*) lab_die "recover ended with outcome '$outcome' (exit $rc)" ;;
esac
lab_wait_reachable 20
sleep 1
lab_probe_stop
lab_probe_assert 1000 100
lv_vfm src status >&2 || lab_die "journal not finished"
