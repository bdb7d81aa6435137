#!/usr/bin/env bash
# A libvirt migration that fails mid-way is rolled back: vfmigrate runs with a bandwidth
# limit so the migration lasts seconds, the destination QEMU is SIGKILLed while it runs.
# vfmigrate exits 4 (rolled back) with libvirt's error text and the step, the guest runs on the
# source with the VF attached again (live XML) and active in its bond, the destination has no
# such domain, and the journal is finished; the guest then still migrates.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib-libvirt.sh"

lv_require
lv_lab_up lvroll
lv_setup_meta

rc=0
lv_vfm src migrate --json --max-bandwidth 8388608 >"$LAB_DIR/r1.json" 2>"$LAB_DIR/r1.err" &
vfm=$!
# The destination QEMU exists once libvirt prepared the incoming side.
qpid=
for _ in $(seq 300); do
	qpid=$(cat "$(lv_dir dst)/run/qemu/$LV_DOMAIN.pid" 2>/dev/null) && [ -n "$qpid" ] && break
	sleep 0.1
done
[ -n "$qpid" ] || lab_die "no destination QEMU appeared"
sleep 1.5
lab_log "killing the destination QEMU ($qpid) mid-migration"
kill -9 "$qpid"
wait $vfm || rc=$?
jq -c '{outcome, exit_code, error, steps: [.steps[]? | {name, result}]}' "$LAB_DIR/r1.json" >&2 || cat "$LAB_DIR/r1.json" "$LAB_DIR/r1.err" >&2
[ $rc = 4 ] || lab_die "exit $rc, expected 4 (rolled back)"
[ "$(jq -r .outcome "$LAB_DIR/r1.json")" = rolled-back ] || lab_die "outcome is not rolled-back"
jq -r '.error.step' "$LAB_DIR/r1.json" | grep -q migrate || lab_die "the error does not name the migrate step"
lv_virsh src dumpxml "$LV_DOMAIN" >"$LAB_DIR/live.xml"
grep -q "<alias name='ua-vf0'/>" "$LAB_DIR/live.xml" || lab_die "VF not re-attached on src"
[ "$(lv_virsh src domstate "$LV_DOMAIN")" = running ] || lab_die "guest not running on src"
lv_wait_vf_active src 30 || lab_die "VF not active on src after the rollback"
if lv_virsh dst dominfo "$LV_DOMAIN" >/dev/null 2>&1; then
	lab_die "the destination still has the domain"
fi
lv_vfm src status >&2 || lab_die "journal not finished"
n=$(lv_virsh src dumpxml --inactive "$LV_DOMAIN" | grep -c "<alias name='ua-vf0'/>" || true)
[ "$n" = 1 ] || lab_die "the source's persistent config has the VF $n times"
lab_wait_reachable 10

# And it still migrates.
lv_vfm src migrate >&2 || lab_die "migrate after the rollback failed"
lv_wait_vf_active dst 30 || lab_die "VF not active on dst"
lab_log "rolled back with the VF re-attached; migrated afterwards"
