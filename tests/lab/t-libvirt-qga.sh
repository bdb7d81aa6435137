#!/usr/bin/env bash
# The fallback agent: a libvirt guest without vfmigrate-agent's channel is driven through the
# stock qemu-ga via libvirt's agent API (bond through /proc and sysfs, no guest-exec). One boot
# of the guest for three cases:
# 1. rollback: a migration src -> dst (bandwidth-limited so it lasts seconds) whose destination
#    QEMU is SIGKILLed after the VF was detached: exit 4, outcome rolled-back naming the
#    migrate step, the guest running on src with the VF attached again (live XML) and active in
#    its bond, reachable, no such domain on dst, the journal finished;
# 2. migrate src -> dst with the probe running: outcome migrated, the report naming qemu-ga on
#    both sides, the VF active in the bond on dst, the same loss bounds as the other migrations;
# 3. recover: vfmigrate (dst -> src) SIGKILLed after the unplug, then `vfmigrate recover`
#    (destination from the journal): the journal finished, the guest running on exactly one
#    host with its VF active there, reachable (libvirt aborts a migration whose client died:
#    this one usually ends rolled back);
# 4. recover past the point of no return: vfmigrate SIGKILLed as soon as its migrate step is
#    done, then `vfmigrate recover` must roll forward through the destination's qemu-ga:
#    outcome migrated, the guest on the destination only, its VF attached there and active.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib-libvirt.sh"

lv_require
lv_lab_up lvqga --no-agent-channel
lv_setup_meta
lv_vfm src check >&2 || lab_die "check failed"

# The journal of the last run, as `status --json` on SIDE says it: "STATE OUTCOME".
journal_state() {
	lv_vfm_nodest "$1" status --json 2>/dev/null | jq -r '.journal + " " + .journal_outcome'
}

# After a recover (WHAT, for messages) that ended OUTCOME, its journal read from SIDE: the guest
# runs on ON only (on OFF the domain is gone or shut off, not running, not paused), its VF
# attached and active there, the journal finished, the guest reachable.
assert_recovered() {
	local what=$1 on=$2 off=$3 side=$4 outcome=$5 st xml
	[ "$(lv_virsh "$on" domstate "$LV_DOMAIN")" = running ] || lab_die "$what: guest not running on $on"
	st=$(lv_virsh "$off" domstate "$LV_DOMAIN" 2>/dev/null || true)
	case "$st" in
	"" | "shut off") ;;
	*) lab_die "$what: the guest is also on $off ($st)" ;;
	esac
	# Not `dumpxml | grep -q`: grep quits at the match, virsh may still be writing (the XML is
	# several of its buffers), and under pipefail its SIGPIPE fails the check.
	xml=$(lv_virsh "$on" dumpxml "$LV_DOMAIN") || lab_die "$what: no domain XML on $on"
	[[ $xml == *"<alias name='ua-vf0'/>"* ]] || lab_die "$what: no VF attached on $on"
	lv_wait_vf_active "$on" 30 || lab_die "$what: VF not active on $on"
	[ "$(journal_state "$side")" = "finished $outcome" ] || lab_die "$what: journal $(journal_state "$side")"
	lab_wait_reachable 20
}

# 1. Rollback: the destination QEMU killed while libvirt migrates (the VF already detached).
rc=0
lv_vfm src migrate --json --max-bandwidth 8388608 >"$LAB_DIR/rollback.json" 2>"$LAB_DIR/rollback.err" &
vfm=$!
# The destination QEMU exists once libvirt prepared the incoming side, after the unplug.
qpid=
for _ in $(seq 600); do
	qpid=$(cat "$(lv_dir dst)/run/qemu/$LV_DOMAIN.pid" 2>/dev/null) && [ -n "$qpid" ] && break
	kill -0 $vfm 2>/dev/null || break
	sleep 0.1
done
[ -n "$qpid" ] || { cat "$LAB_DIR/rollback.json" "$LAB_DIR/rollback.err" >&2; lab_die "no destination QEMU appeared"; }
sleep 1.5
lab_log "killing the destination QEMU ($qpid) mid-migration"
kill -9 "$qpid"
wait $vfm || rc=$?
jq -c '{outcome, exit_code, error, agent, steps: [.steps[]? | {name, result}]}' "$LAB_DIR/rollback.json" >&2 ||
	cat "$LAB_DIR/rollback.json" "$LAB_DIR/rollback.err" >&2
[ $rc = 4 ] || lab_die "rollback: exit $rc, expected 4 (rolled back)"
[ "$(jq -r .outcome "$LAB_DIR/rollback.json")" = rolled-back ] || lab_die "rollback: outcome is not rolled-back"
jq -r '.error.step' "$LAB_DIR/rollback.json" | grep -q migrate || lab_die "rollback: the error does not name the migrate step"
# The unplug ran before the failure: it was undone (the VF re-attached), not skipped.
jq -e '.steps[] | select(.name == "unplug" and .result == "undone")' "$LAB_DIR/rollback.json" >/dev/null ||
	lab_die "rollback: the VF was not detached before the failure"
[ "$(lv_virsh src domstate "$LV_DOMAIN")" = running ] || lab_die "rollback: guest not running on src"
lv_virsh src dumpxml "$LV_DOMAIN" >"$LAB_DIR/rollback.xml"
grep -q "<alias name='ua-vf0'/>" "$LAB_DIR/rollback.xml" || lab_die "rollback: VF not re-attached on src"
lv_wait_vf_active src 30 || lab_die "rollback: VF not active on src"
if lv_virsh dst dominfo "$LV_DOMAIN" >/dev/null 2>&1; then
	lab_die "rollback: the destination still has the domain"
fi
[ "$(journal_state src)" = "finished rolled-back" ] || lab_die "rollback: journal $(journal_state src)"
lab_wait_reachable 20
lab_log "rolled back through qemu-ga with the VF active on src"

# 2. src -> dst with the probe running.
lab_probe_start --rate 1000
sleep 1
rc=0
lv_vfm src migrate --json >"$LAB_DIR/report.json" || rc=$?
sleep 2
lab_probe_stop
jq -c '{outcome, exit_code, error, agent, migration, without_vf_ms, steps: [.steps[]? | {name, result, ms}]}' "$LAB_DIR/report.json" >&2 || cat "$LAB_DIR/report.json" >&2
[ $rc = 0 ] || lab_die "vfmigrate exited $rc"
[ "$(jq -r '.agent.source + " " + .agent.destination' "$LAB_DIR/report.json")" = "qemu-ga qemu-ga" ] ||
	lab_die "the report names agents $(jq -c .agent "$LAB_DIR/report.json")"
lv_wait_vf_active dst 30 || lab_die "VF not active on dst"
lab_probe_assert 1000 100
lab_log "migrated through the qemu-ga fallback with the VF active on dst"

# 3. dst -> src, vfmigrate SIGKILLed after the unplug (while libvirt migrates), then recover.
lv_vfm_bg "$LAB_DIR/run.txt" dst migrate --max-bandwidth 8388608
lab_kill_after_unplug "$LAB_DIR/run.txt" "$LV_VFM_PID" 1
cat "$LAB_DIR/run.txt" >&2
lab_log "vfmigrate killed after the unplug"
# Let libvirt notice that its client is gone.
sleep 2
rc=0
lv_vfm_nodest dst recover --json >"$LAB_DIR/recover.json" || rc=$?
jq -c '{outcome, exit_code, error, error2, agent, steps: [.steps[]? | {name, result}]}' "$LAB_DIR/recover.json" >&2 || cat "$LAB_DIR/recover.json" >&2
outcome=$(jq -r .outcome "$LAB_DIR/recover.json")
lab_log "recover: exit $rc, outcome $outcome"
case "$outcome" in
rolled-back)
	[ $rc = 4 ] || lab_die "recover: rolled back with exit $rc"
	on=dst off=src
	;;
migrated)
	[ $rc = 0 ] || lab_die "recover: migrated with exit $rc"
	on=src off=dst
	;;
*) lab_die "recover ended with outcome '$outcome' (exit $rc)" ;;
esac
assert_recovered recover "$on" "$off" dst "$outcome"
lab_log "recovered through qemu-ga: the guest on $on with its VF active"

# 4. From where the guest is now, vfmigrate SIGKILLed once the migration is done and the guest
# answered on the other host: recover rolls forward (plug and enslave through qemu-ga there).
from=$on to=$off
lv_vfm_bg "$LAB_DIR/run4.txt" "$from" migrate
lab_kill_after_step "$LAB_DIR/run4.txt" "$LV_VFM_PID" migrate
cat "$LAB_DIR/run4.txt" >&2
lab_log "vfmigrate ($from -> $to) killed after its migrate step"
rc=0
lv_vfm_nodest "$from" recover --json >"$LAB_DIR/recover4.json" || rc=$?
jq -c '{outcome, exit_code, error, agent, steps: [.steps[]? | {name, result}]}' "$LAB_DIR/recover4.json" >&2 || cat "$LAB_DIR/recover4.json" >&2
[ "$(jq -r .outcome "$LAB_DIR/recover4.json")" = migrated ] && [ $rc = 0 ] ||
	lab_die "recover past the point of no return: outcome $(jq -r .outcome "$LAB_DIR/recover4.json"), exit $rc"
assert_recovered recover4 "$to" "$from" "$from" migrated
lab_log "rolled forward by recover through qemu-ga: the guest on $to with its VF active"
