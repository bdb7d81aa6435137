#!/usr/bin/env bash
# vfmigrate over QMP, the happy path: a plain migration of a virtio-only guest first (the
# baseline), then the bonded guest src -> dst and back with the probe at 1000 pps. Each time
# the guest ends with the VF active in its bond, reachable; the longest loss window is under
# 1 s with at most 100 packets lost outside it (a loaded machine stretches the two short
# switchover windows; bench/interruption measures the issue's 20). The window ratio against
# the baseline is printed (bench/interruption measures it over several runs).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

lab_init qmpmig
lab_image
lab_net_up

# Baseline: plain QEMU migration of the same kernel/image, virtio only.
lab_guest_start src --no-vf --no-bond
lab_guest_start dst --no-vf --no-bond --incoming
lab_guest_wait_ready src
lab_wait_reachable
lab_probe_start --rate 1000
sleep 1
lab_migrate_plain >"$LAB_DIR/plain.json"
sleep 2
lab_probe_stop
read -r plain_ms _ lost _ < <(lab_probe_summary)
# Only informational: the baseline is QEMU's behaviour, not ours.
lab_log "plain migration: longest window $plain_ms ms, lost $lost; $(jq -c '{downtime, "total-time"}' "$LAB_DIR/plain.json")"
lab_guest_stop dst

# The bonded guest.
lab_guest_start src
lab_guest_start dst --incoming
lab_guest_wait_ready src
lab_agent_wait src
lab_wait_vf_active src 30 || lab_die "VF not active before the migration"
lab_wait_reachable

migrate_once() {
	local from=$1 to=$2 rc=0
	lab_probe_start --rate 1000
	sleep 1
	# A guest that QEMU delivered dead is rolled back and migrated again: the probe measures
	# that second migration.
	LAB_VFM_ON_RETRY='lab_probe_stop; lab_probe_start --rate 1000; sleep 1' \
		lab_vfm_migrate "$from" "$to" "$LAB_DIR/report-$to.json" || rc=$?
	sleep 2
	lab_probe_stop
	jq . "$LAB_DIR/report-$to.json" >&2 || true
	[ $rc = 0 ] || lab_die "vfmigrate migrate to $to exited $rc"
	[ "$(jq -r .outcome "$LAB_DIR/report-$to.json")" = migrated ] || lab_die "outcome is not migrated"
	lab_wait_vf_active "$to" 30 || lab_die "VF not active on $to after the migration"
	lab_probe_assert 1000 100
	read -r ms _ < <(lab_probe_summary)
	lab_log "window ratio vfmigrate/plain ($to): $(awk -v a="$ms" -v b="$plain_ms" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }') ($ms ms / $plain_ms ms)"
	lab_wait_reachable 10
}

lab_vfm_config
lab_vfm check
migrate_once src dst
[ "$(lab_vfm status | head -1)" = "g0: journal finished, destination $(lab_vfm_dest) (outcome migrated)" ] || lab_die "journal not finished"

# And back: the paused source QEMU goes, a new one waits for the guest.
lab_guest_stop src
lab_guest_start src --incoming
lab_vfm_config --reverse
lab_vfm check
migrate_once dst src
lab_log "migrated there and back with the VF active at each end"
