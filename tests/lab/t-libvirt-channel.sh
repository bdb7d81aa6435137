#!/usr/bin/env bash
# vfmigrate-agent through libvirt (virDomainOpenChannel), as with a remote libvirtd whose
# channel sockets are not on this machine. Guest 0 on src with its org.vfmigrate.agent.0
# channel (unix, server mode). First `check` without the path maps (the sockets of the
# daemons' mount namespaces are not visible here): libvirt.agent=auto must choose the channel
# through libvirt, not the qemu-ga fallback. Then, forced with -o libvirt.agent=channel, a
# full `migrate` src -> dst with the probe at 1000 pps: outcome migrated, the report naming
# the channel on both sides, the VF active in the bond on dst, the usual loss bounds; then
# `check` dst -> src over the channel in text form (the daemon must have released the
# streams of the first run: a channel still held would be refused as busy). Last, within one
# process (tools/lv-channel): channels opened and closed leave no descriptor here and no
# stream in the daemon, and an open channel ends (EOF) when its domain is destroyed.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib-libvirt.sh"

lv_require
[ -x "$VFM_BUILDDIR/tools/lv-channel" ] || lab_skip "tools/lv-channel not built"
lv_lab_up lvchan
lv_setup_meta

# auto, no path maps: the socket path from the XML does not exist here.
rc=0
"$VFM_BUILDDIR/src/cli/vfmigrate" -c "$(lv_uri src)" -s "$LAB_DIR/state" --json \
	check "$LV_DOMAIN" "$(lv_uri dst)" >"$LAB_DIR/check-auto.json" || rc=$?
jq -c '{outcome, exit_code, error, agent}' "$LAB_DIR/check-auto.json" >&2 || cat "$LAB_DIR/check-auto.json" >&2
[ $rc = 0 ] || lab_die "check (auto, no path map) exited $rc"
[ "$(jq -r .agent.source "$LAB_DIR/check-auto.json")" = channel ] ||
	lab_die "auto without a local socket did not choose the channel through libvirt"

lab_probe_start --rate 1000
sleep 1
rc=0
t0=$(date +%s.%N)
lv_vfm src migrate --json -o libvirt.agent=channel >"$LAB_DIR/report.json" || rc=$?
t1=$(date +%s.%N)
sleep 2
lab_probe_stop
jq -c '{outcome, exit_code, error, agent, migration, without_vf_ms, steps: [.steps[]? | {name, result, ms}]}' "$LAB_DIR/report.json" >&2 || cat "$LAB_DIR/report.json" >&2
[ $rc = 0 ] || lab_die "vfmigrate migrate (agent=channel) exited $rc"
[ "$(jq -r .outcome "$LAB_DIR/report.json")" = migrated ] || lab_die "outcome is not migrated"
[ "$(jq -r '.agent.source + " " + .agent.destination' "$LAB_DIR/report.json")" = "channel channel" ] ||
	lab_die "the report does not name the channel on both sides: $(jq -c .agent "$LAB_DIR/report.json")"
lv_wait_vf_active dst 30 || lab_die "VF not active on dst"
lab_probe_assert 1000 20
[ "$(lv_virsh dst domstate "$LV_DOMAIN")" = running ] || lab_die "guest not running on dst"
lab_log "migrate src -> dst over the channel: $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}') s"

# The way back, pre-flight only, in text: the channel again, on what is now the source.
lv_vfm dst check -o libvirt.agent=channel >"$LAB_DIR/check-back.txt" 2>&1 || {
	cat "$LAB_DIR/check-back.txt" >&2
	lab_die "check dst -> src over the channel failed"
}
cat "$LAB_DIR/check-back.txt" >&2
grep -q "guest agent: source channel" "$LAB_DIR/check-back.txt" ||
	lab_die "check does not say the agent was reached over the channel"
lab_log "vfmigrate-agent reached through libvirt's channel stream on both hosts; VF active on dst"

"$VFM_BUILDDIR/tools/lv-channel" "$(lv_uri dst)" "$LV_DOMAIN" 3 >"$LAB_DIR/lv-channel.out" 2>&1 &
lvc=$!
for _ in $(seq 300); do
	grep -q '^open$' "$LAB_DIR/lv-channel.out" && break
	kill -0 $lvc 2>/dev/null || break
	sleep 0.1
done
grep -q '^open$' "$LAB_DIR/lv-channel.out" || {
	cat "$LAB_DIR/lv-channel.out" >&2
	lab_die "lv-channel: open/use/close rounds failed"
}
lv_virsh dst destroy "$LV_DOMAIN" >/dev/null || lab_die "virsh destroy failed"
rc=0
wait $lvc || rc=$?
cat "$LAB_DIR/lv-channel.out" >&2
[ $rc = 0 ] || lab_die "lv-channel: the channel was not released after the domain went away (exit $rc)"
lab_log "channels closed or ended by the domain's end left nothing behind"
