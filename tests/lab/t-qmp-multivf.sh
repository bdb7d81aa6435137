#!/usr/bin/env bash
# vfmigrate over QMP, a guest with two VFs: two emulated VFs (e1000e vf0 on root port rp1, vf1
# on rp3), each in its own active-backup bond with its own virtio backup (bond0: vf0 + net0,
# address LAB_GUEST_IP; bond1: vf1 + net1, LAB_GUEST_IP2 on a subnet of its own), described
# by two [vf NAME] sections. Migrated src -> dst and back with a probe on each bond's address;
# after each run both VFs are plugged on the new host only, each the active slave of its
# bond, both addresses reachable, each probe's longest loss window under 1 s, the report lists
# both VFs (none degraded) and status reads both bonds. Then a run SIGKILLed after both
# unplugs: recover ends with both VFs active on one host.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
export LAB_VF2=1

lab_init qmpmvf
lab_image
lab_net_up

# The config of guest 0 with its two VFs, the guest on FROM going to TO (whose pool is its
# taps f0 on rp1 and f0b on rp3). Usage: mvf_config FROM TO TO_MIGRATION_IP
mvf_config() {
	local from=$1 to=$2 to_ip=$3 f2
	f2=$(lab_tap_f2)
	{
		cat <<EOF
[source]
qmp = $LAB_DIR/g0-$from.qmp
agent = $LAB_DIR/g0-$from.agent
vf-driver = e1000e

[destination]
qmp = $LAB_DIR/g0-$to.qmp
agent = $LAB_DIR/g0-$to.agent
vf-pool = f0:rp1 $f2:rp3
migrate-uri = tcp:$to_ip:$LAB_MIG_PORT
incoming = defer
EOF
		lab_vf_section net0 bond0 "$LAB_MAC_VF" "$LAB_MAC_VIRTIO" vf0 rp1 f0
		lab_vf_section net1 bond1 "$LAB_MAC_VF2" "$LAB_MAC_VIRTIO2" vf1 rp3 "$f2"
	} >"$LAB_DIR/g0.conf"
}

# The second bond's address: its own probe (LAB_PROBE=probe2), its own reachability.
at2() { LAB_PROBE=probe2 LAB_GUEST_IP=$LAB_GUEST_IP2 "$@"; }

# Both VFs active in their bonds on SIDE, plugged there and not on OTHER.
both_vfs_on() {
	local side=$1 other=$2 devs
	lab_wait_vf_active "$side" 30 || lab_die "vf0 not active in bond0 on $side"
	lab_wait_vf_active "$side" 30 lab_guest_exec bond1 "$LAB_MAC_VF2" || lab_die "vf1 not active in bond1 on $side"
	devs=$(lab_devices "$side")
	for d in vf0 vf1; do
		echo "$devs" | grep -qw "$d" || lab_die "$d not plugged on $side ($devs)"
	done
	# The other QEMU, if it is still there (a rollback quits the destination's).
	if [ -S "$LAB_DIR/g0-$other.qmp" ] && LAB_CALL_TIMEOUT=2000 lab_qmp "$other" query-status >/dev/null 2>&1; then
		devs=$(lab_devices "$other")
		echo "$devs" | grep -qwE 'vf0|vf1' && lab_die "a VF is still plugged on $other ($devs)"
	fi
	return 0
}

migrate_once() {
	local from=$1 to=$2 rc=0 report=$LAB_DIR/report-$2.json
	lab_probe_start --rate 1000
	at2 lab_probe_start --rate 1000
	sleep 1
	LAB_VFM_ON_RETRY='lab_probe_stop; at2 lab_probe_stop; lab_probe_start --rate 1000; at2 lab_probe_start --rate 1000; sleep 1' \
		lab_vfm_migrate "$from" "$to" "$report" || rc=$?
	sleep 2
	lab_probe_stop
	at2 lab_probe_stop
	jq . "$report" >&2 || true
	[ $rc = 0 ] || lab_die "vfmigrate migrate to $to exited $rc"
	[ "$(jq -r .outcome "$report")" = migrated ] || lab_die "outcome is not migrated"
	jq -e '[.vfs[] | select(.degraded | not) | .name] == ["net0", "net1"]' "$report" >/dev/null ||
		lab_die "the report does not list net0 and net1, neither degraded: $(jq -c .vfs "$report")"
	both_vfs_on "$to" "$from"
	lab_probe_assert 1000 100
	at2 lab_probe_assert 1000 100
	lab_wait_reachable 10
	at2 lab_wait_reachable 10
	lab_vfm status --json >"$LAB_DIR/status-$to.json" || true
	jq -e '.bond.name == "bond0" and ([.more_bonds[].bond.name] == ["bond1"])' "$LAB_DIR/status-$to.json" >/dev/null ||
		lab_die "status does not read both bonds: $(jq -c '{bond, more_bonds}' "$LAB_DIR/status-$to.json")"
	lab_log "both VFs migrated $from -> $to, each active in its bond"
}

lab_guest_start src
lab_guest_start dst --incoming
lab_guest_wait_ready src
lab_agent_wait src
both_vfs_on src dst
lab_wait_reachable
at2 lab_wait_reachable

mvf_config src dst "$LAB_MIG_DST"
lab_vfm check
migrate_once src dst
[ "$(lab_vfm status | head -1)" = "g0: journal finished, destination tcp:$LAB_MIG_DST:$LAB_MIG_PORT (outcome migrated)" ] ||
	lab_die "journal not finished: $(lab_vfm status | head -1)"

# And back: the paused source QEMU goes, a new one waits for the guest.
lab_guest_stop src
lab_guest_start src --incoming
mvf_config dst src "$LAB_MIG_SRC"
lab_vfm check
migrate_once dst src
lab_log "a guest with two VFs in two bonds migrated there and back with both VFs active at each end"

# A run SIGKILLed once both VFs are unplugged, while the (slowed) migration runs: recover
# brings both back on one host, from the journal's records of each VF.
lab_guest_stop dst
lab_guest_start dst --incoming
mvf_config src dst "$LAB_MIG_DST"
lab_vfm_bg "$LAB_DIR/run.txt" migrate --max-bandwidth 10000000
lab_kill_after_unplug "$LAB_DIR/run.txt" "$LAB_VFM_PID"
cat "$LAB_DIR/run.txt" >&2
lab_devices src | grep -qwE 'vf0|vf1' && lab_die "a VF still plugged on src after the unplug ($(lab_devices src))"
grep -q '"vf":1' "$LAB_DIR/state/g0.journal" || lab_die "the journal has no record of the second VF"
rc=0
lab_vfm recover --json >"$LAB_DIR/recover.json" || rc=$?
jq -c '{outcome, exit_code, vfs, steps: [.steps[]? | {name, result}]}' "$LAB_DIR/recover.json" >&2 || cat "$LAB_DIR/recover.json" >&2
outcome=$(jq -r .outcome "$LAB_DIR/recover.json")
case "$outcome" in
rolled-back) [ $rc = 4 ] || lab_die "rolled back with exit $rc"; both_vfs_on src dst ;;
migrated) [ $rc = 0 ] || lab_die "migrated with exit $rc"; both_vfs_on dst src ;;
*) lab_die "recover ended with outcome '$outcome' (exit $rc)" ;;
esac
lab_wait_reachable 20
at2 lab_wait_reachable 20
lab_vfm status | head -1 | grep -q "^g0: journal finished, .* (outcome $outcome)$" || lab_die "journal: $(lab_vfm status | head -1)"
lab_log "killed after the unplug of both VFs: recover ended $outcome with both VFs active on one host"
