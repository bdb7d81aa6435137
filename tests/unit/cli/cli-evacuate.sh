#!/usr/bin/env bash
# vfmigrate evacuate's command line and its refusals before anything moves, without a
# hypervisor (the sockets do not exist): usage errors exit 2, a plan whose guests fail their
# pre-flight exits 3 with one problem per guest (text on stderr, JSON records with codes),
# --dry-run and a refused plan leave no journal.
set -u
V=$1
GOLDEN=$2
tmp=$(mktemp -d /tmp/vfm-evac-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
source "$(dirname "$0")/expect.sh"
cfg=$GOLDEN/lab.conf
S=(-s "$tmp/state")
expect 2 "no guest" "$V" "${S[@]}" evacuate
expect 2 "--parallel 0" "$V" "${S[@]}" evacuate --parallel 0 "g1=$cfg"
expect 2 "--parallel x" "$V" "${S[@]}" evacuate --parallel x "g1=$cfg"
expect 2 "--parallel 33" "$V" "${S[@]}" evacuate --parallel 33 "g1=$cfg"
expect 2 "a bad guest name" "$V" "${S[@]}" evacuate "../g1=$cfg"
expect 2 "a guest name that reads as an option" "$V" "${S[@]}" evacuate -- "-h=$cfg"
expect 2 "a guest named twice" "$V" "${S[@]}" evacuate "g1=$cfg" "g1=$cfg"
grep -q "g1 named twice" "$tmp/err" || failed "named twice: not said"
expect 2 "--config with two guests" "$V" "${S[@]}" -f "$cfg" evacuate g1 g2
expect 2 "--probe without =" "$V" "${S[@]}" evacuate --probe g1 "g1=$cfg"
expect 2 "JSON usage error" "$V" "${S[@]}" --json evacuate --parallel 0 "g1=$cfg"
# qmp: the destination is the config's; --to is for libvirt.
expect 3 "--to with qmp" "$V" "${S[@]}" evacuate --to qemu+tcp://h/system "g1=$cfg"
grep -q "qmp: a guest's destination is its config's" "$tmp/err" || failed "--to with qmp: not said"
# Several guests at once into an emulated pool need its reservations shared (pool-host).
expect 3 "--parallel 2 without pool-host" "$V" "${S[@]}" evacuate --parallel 2 "g1=$cfg" "g2=$cfg"
grep -q "pool-host is needed" "$tmp/err" || failed "pool-host: not said"
# Guests whose hypervisors are not there: refused, one preflight problem each, nothing moved.
expect 3 "pre-flight fails" "$V" "${S[@]}" -o destination.pool-host=d evacuate --parallel 2 "g1=$cfg" "g2=$cfg"
[ "$(grep -c 'vfmigrate: evacuate: preflight: g[12]:' "$tmp/err")" = 2 ] || failed "not one problem per guest"
grep -q 'the plan does not fit: nothing moved; exit 3 (refused)' "$tmp/out" || failed "refusal line"
expect 3 "pre-flight fails, JSON" "$V" "${S[@]}" -o destination.pool-host=d --json evacuate "g1=$cfg" "g2=$cfg"
jq -e '.command == "evacuate" and .exit_code == 3 and (.problems | length) == 2 and
	([.problems[].code] | unique) == ["preflight"] and .problems[0].guest == "g1" and
	(.problems[0].checks | length) >= 1 and (.plan | length) == 2' "$tmp/out" >/dev/null ||
	failed "JSON refusal"
expect 3 "dry run of a plan that does not fit" "$V" "${S[@]}" evacuate --dry-run "g1=$cfg"
[ ! -e "$tmp/state/g1.journal" ] || failed "a journal after a refused plan"
# A guest with an unfinished journal is refused in pre-flight, named with recover.
mkdir -p "$tmp/state"
printf '%s\n' '{"seq":1,"t":1,"rec":"begin","guest":"g1","bond":"bond0","has_vf":true,"vf_mac":"52:54:00:aa:00:0f","backup_mac":"52:54:00:aa:00:0b"}' '{"seq":2,"t":2,"rec":"intent","step":"unplug"}' >"$tmp/state/g1.journal"
expect 3 "an unfinished journal" "$V" "${S[@]}" evacuate "g1=$cfg"
grep -q "run 'vfmigrate recover g1'" "$tmp/err" || failed "unfinished journal: not said"
# libvirt (built with it: third argument "libvirt"), its test driver: --all takes the running
# domains with vfmigrate metadata and no other; --all is libvirt's, without names.
if [ "${3:-}" = libvirt ]; then
	meta="<metadata><vfm:vfmigrate xmlns:vfm='https://vfmigrate.org/xmlns/libvirt/1'><vfm:bond name='bond0'/></vfm:vfmigrate></metadata>"
	dom() { echo "<domain type='test'><name>$1</name><memory>262144</memory><vcpu>1</vcpu><os><type arch='x86_64'>hvm</type></os>$2</domain>"; }
	echo "<node>$(dom lv0 "$meta")$(dom plain "")$(dom lv1 "$meta")</node>" >"$tmp/src.xml"
	echo '<node/>' >"$tmp/dst.xml"
	LV=(-c "test://$tmp/src.xml" "${S[@]}")
	expect 3 "--all --dry-run" "$V" "${LV[@]}" --json evacuate --all --dry-run --to "test://$tmp/dst.xml"
	[ "$(jq -c '[.plan[].guest]' "$tmp/out")" = '["lv0","lv1"]' ] || failed "--all: not the two domains with metadata"
	expect 2 "--all with names" "$V" "${LV[@]}" evacuate --all lv0
	expect 2 "--all with qmp" "$V" "${S[@]}" evacuate --all
	expect 3 "libvirt without --to" "$V" "${LV[@]}" evacuate lv0
	grep -q "libvirt: name the destinations with --to URI" "$tmp/err" || failed "libvirt without --to: not said"
fi
# migrate's progress stream option.
expect 2 "--progress-fd x" "$V" -f "$cfg" migrate --progress-fd x g1
[ $fails = 0 ] && echo "cli-evacuate: all passed"
exit $((fails > 0))
