#!/usr/bin/env bash
# The vfmigrate binary as scripts see it: exit codes, config output, JSON validity, journal
# refusal. No hypervisor needed (the sockets do not exist).
set -u
V=$1
GOLDEN=$2
tmp=$(mktemp -d /tmp/vfm-cli-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
source "$(dirname "$0")/expect.sh"
cfg=$GOLDEN/lab.conf
expect 2 "no arguments" "$V"
expect 2 "unknown command" "$V" frobnicate g1
expect 2 "bad guest name" "$V" -f "$cfg" check ../g1
expect 2 "missing config" "$V" -f "$tmp/nope.conf" check g1
# A FIFO as the config file: a config error that names it, at once (an open() without
# O_NONBLOCK would wait for a writer forever; timeout turns that into a failure).
mkfifo "$tmp/fifo.conf"
expect 2 "a FIFO as the config file" timeout 10 "$V" -f "$tmp/fifo.conf" config g1
grep -qF "vfmigrate: $tmp/fifo.conf: a FIFO, not a regular file" "$tmp/err" || {
	echo "FAIL: a FIFO as the config file is not named as such"
	cat "$tmp/err"
	fails=$((fails + 1))
}
expect 2 "bad override" "$V" -f "$cfg" -o guest.nope=1 check g1
expect 2 "bad duration" "$V" -f "$cfg" --unplug-timeout 10m check g1
expect 2 "unknown backend" "$V" -f "$cfg" -b xen check g1
expect 0 "config" "$V" -f "$cfg" config g1
cmp -s "$tmp/out" "$GOLDEN/lab.expected" || {
	echo "FAIL: config output differs from lab.expected"
	fails=$((fails + 1))
}
expect 0 "help" "$V" --help
expect 2 "bad --fail-over-mac" "$V" -f "$cfg" --fail-over-mac swap config g1
expect 0 "--fail-over-mac" "$V" -f "$cfg" --fail-over-mac none config g1
grep -qx "fail-over-mac = none" "$tmp/out" || {
	echo "FAIL: --fail-over-mac does not reach guest.fail-over-mac"
	fails=$((fails + 1))
}
expect 2 "bad --mode" "$V" -f "$cfg" -s "$tmp/state" --mode swap check g1
grep -q "guest.mode (--mode) must be auto, bond or failover" "$tmp/err" || {
	echo "FAIL: a bad --mode is not named"
	fails=$((fails + 1))
}
expect 0 "--mode" "$V" -f "$cfg" --mode failover config g1
grep -qx "mode = failover" "$tmp/out" || {
	echo "FAIL: --mode does not reach guest.mode"
	fails=$((fails + 1))
}
# Forced failover mode, nothing reachable: refused, the mode in the report.
expect 3 "check --mode failover --json" "$V" -f "$cfg" -s "$tmp/state" --mode failover --json check g1
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["mode"]=="failover" and "failover-pair" in [p["code"] for p in r["problems"]], r' "$tmp/out" || {
	echo "FAIL: check --mode failover --json report"
	fails=$((fails + 1))
}
expect 3 "check without hypervisors is refused" "$V" -f "$cfg" -s "$tmp/state" check g1
grep -q "source hypervisor" "$tmp/err" || {
	echo "FAIL: check does not name the source hypervisor problem"
	fails=$((fails + 1))
}
expect 3 "check --json" "$V" -f "$cfg" -s "$tmp/state" --json check g1
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["outcome"]=="refused" and r["exit_code"]==3 and r["error"]["step"]=="preflight"' "$tmp/out" || {
	echo "FAIL: check --json report"
	fails=$((fails + 1))
}
# Pre-flight problems are records from the plan to the printer: a ';' inside one (here in a
# socket path; a guest's message can hold one too) does not make it two lines.
forged="source.qmp=$tmp/q;vfmigrate:check:all-fine"
expect 3 "check with a ';' in a problem" "$V" -f "$cfg" -s "$tmp/state" -o "$forged" check g1
[ "$(grep -c '^vfmigrate: check: ' "$tmp/err")" = 3 ] && ! grep -q '^vfmigrate: check: vfmigrate:check' "$tmp/err" &&
	grep -q "^vfmigrate: check: source hypervisor: QMP $tmp/q;vfmigrate:check:all-fine: " "$tmp/err" || {
	echo "FAIL: check splits a problem on ';'"
	cat "$tmp/err"
	fails=$((fails + 1))
}
expect 3 "check --json with a ';' in a problem" "$V" -f "$cfg" -s "$tmp/state" -o "$forged" --json check g1
python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
p = r["problems"]
assert [(x["code"], x["side"]) for x in p] == [("hypervisor", "source"), ("hypervisor", "destination"), ("agent", "guest")], p
assert ";vfmigrate:check:all-fine: " in p[0]["text"] and r["error"]["message"] == p[0]["text"], p
' "$tmp/out" || {
	echo "FAIL: check --json problems"
	fails=$((fails + 1))
}
# The report names only the agent transports used (the destination's never is in check), and
# an agent's error has one prefix that names its side.
expect 3 "check --json: agent transports and messages" "$V" -f "$cfg" -s "$tmp/state" --json check g1
python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
assert r["agent"] == {"source": "socket", "destination": None}, r["agent"]
t = [p["text"] for p in r["problems"] if p["code"] == "agent"]
assert t == ["source guest agent: connect to /run/vfm/g1-src.agent: No such file or directory"], t
' "$tmp/out" || {
	echo "FAIL: check --json: agent transports or the agent message"
	fails=$((fails + 1))
}
expect 3 "migrate is refused by pre-flight, no journal left open" "$V" -f "$cfg" -s "$tmp/state" migrate g1
expect 0 "status without journal" "$V" -f "$cfg" -s "$tmp/state" status g1
# The agent's failure names its side, once.
grep -qx "g1: bond bond0: unavailable (source guest agent: connect to /run/vfm/g1-src.agent: No such file or directory)" "$tmp/out" || {
	echo "FAIL: status: the agent's error does not name its side once"
	cat "$tmp/out"
	fails=$((fails + 1))
}
# An unfinished journal blocks a new run and makes status say so.
mkdir -p "$tmp/state"
printf '%s\n' '{"seq":1,"t":1,"rec":"begin","guest":"g1","bond":"bond0","has_vf":true,"vf_mac":"52:54:00:aa:00:0f","backup_mac":"52:54:00:aa:00:0b"}' '{"seq":2,"t":2,"rec":"intent","step":"unplug"}' >"$tmp/state/g1.journal"
expect 6 "status with an unfinished journal" "$V" -f "$cfg" -s "$tmp/state" status g1
grep -q "recover" "$tmp/out" || {
	echo "FAIL: status does not say recover"
	fails=$((fails + 1))
}
expect 6 "migrate refuses while a journal is unfinished" "$V" -f "$cfg" -s "$tmp/state" migrate g1
grep -q "vfmigrate recover g1" "$tmp/err" || {
	echo "FAIL: migrate does not name recover"
	fails=$((fails + 1))
}
# The exit code and --json's "code" come from the journal's errno, not from its message.
expect 6 "migrate --json refuses while a journal is unfinished" "$V" -f "$cfg" -s "$tmp/state" --json migrate g1
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["code"]=="journal-unfinished" and r["exit_code"]==6 and "recover" in r["message"], r' "$tmp/out" || {
	echo "FAIL: migrate --json: code of an unfinished journal"
	fails=$((fails + 1))
}
expect 2 "usage error --json" "$V" -f "$cfg" -s "$tmp/state" --json --unplug-timeout 10m check g1
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["code"]=="usage" and r["outcome"]=="usage" and r["exit_code"]==2, r' "$tmp/out" || {
	echo "FAIL: usage --json: code"
	fails=$((fails + 1))
}
expect 6 "recover without hypervisors cannot finish" "$V" -f "$cfg" -s "$tmp/state" --json recover g1
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["outcome"]=="needs-recover" and r["error"]["code"] in ("peer-gone", "failed"), r' "$tmp/out" || {
	echo "FAIL: recover --json report"
	fails=$((fails + 1))
}
# The journal names the destination (here the migration URI): status shows it.
mkdir -p "$tmp/state2"
printf '%s\n' '{"seq":1,"t":1,"rec":"begin","guest":"g1","bond":"bond0","has_vf":true,"vf_mac":"52:54:00:aa:00:0f","backup_mac":"52:54:00:aa:00:0b","dest":"tcp:10.78.0.2:4444"}' '{"seq":2,"t":2,"rec":"intent","step":"unplug"}' >"$tmp/state2/g1.journal"
expect 6 "status names the journal's destination" "$V" -f "$cfg" -s "$tmp/state2" status g1
grep -q "journal unfinished, destination tcp:10.78.0.2:4444 " "$tmp/out" || {
	echo "FAIL: status does not name the destination"
	fails=$((fails + 1))
}
expect 6 "status --json names the journal's destination" "$V" -f "$cfg" -s "$tmp/state2" --json status g1
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["destination"]=="tcp:10.78.0.2:4444"; assert r["mode"]=="bond"' "$tmp/out" || {
	echo "FAIL: status --json destination, mode"
	fails=$((fails + 1))
}
# A failover mode run's journal: status says the mode (text only then, --json always).
mkdir -p "$tmp/state4"
printf '%s\n' '{"seq":1,"t":1,"rec":"begin","guest":"g1","bond":"","has_vf":true,"vf_mac":"52:54:00:aa:00:0f","backup_mac":"52:54:00:aa:00:0f","dest":"tcp:10.78.0.2:4444","mode":"failover"}' '{"seq":2,"t":2,"rec":"intent","step":"migrate"}' >"$tmp/state4/g1.journal"
expect 6 "status of a failover journal" "$V" -f "$cfg" -s "$tmp/state4" status g1
grep -q "^g1: journal unfinished, destination tcp:10.78.0.2:4444 (last: intent migrate; .*, failover mode$" "$tmp/out" || failed "status does not say failover mode"
expect 6 "status --json of a failover journal" "$V" -f "$cfg" -s "$tmp/state4" --json status g1
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["mode"]=="failover"' "$tmp/out" || failed "status --json mode"
# DEST goes into the journal: one it could not hold is a usage error, before any journal.
expect 2 "DEST with a control character" "$V" -f "$cfg" -s "$tmp/state3" migrate g1 "$(printf 'tcp:10.78.0.2:4444\033')"
[ ! -e "$tmp/state3/g1.journal" ] || {
	echo "FAIL: a refused DEST left a journal"
	fails=$((fails + 1))
}
# Real SR-IOV VFs (vf-pool = sysfs:PF): the pool reads sysfs-root; an empty one has no PF.
scfg=$GOLDEN/sysfs.conf
mkdir -p "$tmp/sys"
expect 0 "sysfs config" "$V" -f "$scfg" config g2
cmp -s "$tmp/out" "$GOLDEN/sysfs.expected" || {
	echo "FAIL: config output differs from sysfs.expected"
	fails=$((fails + 1))
}
expect 3 "check names a missing PF" "$V" -f "$scfg" -o "destination.sysfs-root=$tmp/sys" -s "$tmp/state4" check g2
grep -q "destination VF pool: PF ens1f0: no $tmp/sys/class/net/ens1f0/device/sriov_numvfs" "$tmp/err" || {
	echo "FAIL: check does not name the missing PF"
	cat "$tmp/err"
	fails=$((fails + 1))
}
expect 2 "vf-host without a sysfs pool on the source" "$V" -f "$scfg" -o source.vf-pool= -s "$tmp/state4" check g2
grep -q "source.vf-host needs source.vf-pool = sysfs:PF" "$tmp/err" || {
	echo "FAIL: vf-host without a sysfs pool is not explained"
	fails=$((fails + 1))
}
expect 2 "vf-host and vf-tap" "$V" -f "$scfg" -o source.vf-tap=t0 -s "$tmp/state4" check g2
# A guest with two VFs ([vf] sections): status of a run stopped at the second VF's unplug
# names that VF and reads each VF's bond (unavailable here); a config with both forms, or two
# VFs sharing a device, is a usage error.
mcfg=$GOLDEN/multivf.conf
mkdir -p "$tmp/state5"
printf '%s\n' '{"seq":1,"t":1,"rec":"begin","guest":"g1","bond":"bond0","has_vf":true,"vf_mac":"52:54:00:aa:00:0f","backup_mac":"52:54:00:aa:00:0b","vf_name":"net0","vfs":[{"name":"net1","bond":"bond1","vf_mac":"52:54:00:aa:01:0f","backup_mac":"52:54:00:aa:01:0b","spec":{"device_id":"vf1","driver":"e1000e","bus":"rp2","backend_kind":"tap","backend":"vfm-s1","netdev_id":"","vlan":12}}],"spec":{"device_id":"vf0","driver":"e1000e","bus":"rp1","backend_kind":"tap","backend":"vfm-s0","netdev_id":"","vlan":-1}}' \
	'{"seq":2,"t":2,"rec":"intent","step":"unplug"}' '{"seq":3,"t":3,"rec":"done","step":"unplug"}' \
	'{"seq":4,"t":4,"rec":"intent","step":"unplug","vf":1}' >"$tmp/state5/g1.journal"
expect 6 "status of a two-VF run stopped at the second unplug" "$V" -f "$mcfg" -s "$tmp/state5" status g1
grep -q "(last: intent unplug of VF net1; point of no return not passed)" "$tmp/out" ||
	failed "two-VF status does not name the VF"
grep -q "^g1: bond bond1: unavailable" "$tmp/out" || failed "two-VF status does not read the second bond"
expect 6 "status --json of that run" "$V" -f "$mcfg" -s "$tmp/state5" --json status g1
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["last_vf"]=="net1" and r["bond"] is None and len(r["more_bonds"])==1, r' "$tmp/out" ||
	failed "two-VF status --json"
expect 2 "[vf] sections with [guest] vf-mac" "$V" -f "$mcfg" -o guest.vf-mac=52:54:00:00:00:01 -s "$tmp/state6" check g1
grep -q "describe every VF in its \[vf\] section" "$tmp/err" || failed "both VF forms: message"
[ "$fails" = 0 ] && echo "all cli checks passed"
exit $((fails > 0))
