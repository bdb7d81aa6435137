#!/usr/bin/env bash
# recover and status with the libvirt backend, against libvirt's test driver (test:///FILE: in
# the process, no daemon): the destination comes from the journal when DEST is not given; a
# DEST that differs from the journal's is refused and changes nothing. The source host has the
# guest paused (as after an interrupted migration), so undoing the migration asks the
# destination to stop its copy: that is how the tests see which destination was used.
set -u
V=$1
tmp=$(mktemp -d /tmp/vfm-cli-lv-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
source "$(dirname "$0")/expect.sh"
cat >"$tmp/src.xml" <<'EOF'
<node>
  <domain type='test' xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>
    <name>g0</name><memory>262144</memory><vcpu>1</vcpu>
    <os><type arch='x86_64'>hvm</type></os>
    <test:runstate>3</test:runstate>
  </domain>
</node>
EOF
echo '<node/>' >"$tmp/dst.xml"
SRC="test://$tmp/src.xml"
DST="test://$tmp/dst.xml"
GONE="test://$tmp/gone.xml" # no such file: connecting fails, naming the URI
lv() { "$V" -c "$SRC" -s "$tmp/state" "$@"; }
# An interrupted run: the migration was started, nothing recorded after it.
journal() { # [DEST]: the journal of such a run, recording DEST (none: as before the field)
	local dest=""
	[ $# = 1 ] && dest=",\"dest\":\"$1\""
	rm -rf "$tmp/state"
	mkdir -p "$tmp/state"
	printf '%s\n' "{\"seq\":1,\"t\":1,\"rec\":\"begin\",\"guest\":\"g0\",\"bond\":\"\",\"has_vf\":false,\"vf_mac\":\"00:00:00:00:00:00\",\"backup_mac\":\"00:00:00:00:00:00\"$dest}" \
		'{"seq":2,"t":2,"rec":"intent","step":"migrate"}' >"$tmp/state/g0.journal"
	cp "$tmp/state/g0.journal" "$tmp/journal.orig"
}

journal "$DST"
expect 6 "status of an unfinished journal" lv status g0
grep -q "journal unfinished, destination $DST " "$tmp/out" || failed "status does not show the destination"
expect 6 "status --json of an unfinished journal" lv --json status g0
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["destination"]==sys.argv[2], r' "$tmp/out" "$DST" ||
	failed "status --json: destination"
expect 4 "recover without DEST rolls back through the journal's destination" lv recover g0
grep -q '"rec":"end","outcome":"rolled-back"' "$tmp/state/g0.journal" || failed "recover did not finish the journal"
expect 0 "status of the finished journal" lv --json status g0
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["journal"]=="finished" and r["destination"]==sys.argv[2], r' "$tmp/out" "$DST" ||
	failed "status --json after recover"

# The journal's destination is the one used: one that cannot be reached says so by name.
journal "$GONE"
expect 6 "recover without DEST reaches for the journal's destination" lv recover g0
grep -q "stopping the destination: connect to $GONE" "$tmp/err" || failed "recover did not use the journal's destination"

journal "$DST"
expect 4 "recover with the journal's DEST" lv recover g0 "$DST"

journal "$DST"
expect 2 "recover with another DEST is refused" lv recover g0 "$GONE"
grep -q "DEST $GONE differs from the destination $DST recorded in the journal of guest g0" "$tmp/err" ||
	failed "the refusal does not name both destinations"
cmp -s "$tmp/state/g0.journal" "$tmp/journal.orig" || failed "the refused recover changed the journal"
expect 2 "recover --json with another DEST is refused" lv --json recover g0 "$GONE"
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["outcome"]=="usage" and r["exit_code"]==2, r' "$tmp/out" ||
	failed "recover --json refusal"
cmp -s "$tmp/state/g0.journal" "$tmp/journal.orig" || failed "the refused recover --json changed the journal"

# A journaled destination that would make libvirt run a program is not opened unless named.
printf '#!/bin/sh\ntouch "%s.ran"\n' "$tmp/evil" >"$tmp/evil"
chmod +x "$tmp/evil"
for evil in "qemu+ext:///system?command=$tmp/evil" "qemu+ssh://h/system?no_verify=1&command=$tmp/evil"; do
	journal "$evil"
	expect 2 "recover without DEST of a journal naming a program ($evil)" lv recover g0
	grep -q "recorded in the journal would run a program" "$tmp/err" || failed "program URI: no refusal message"
	cmp -s "$tmp/state/g0.journal" "$tmp/journal.orig" || failed "the refused recover changed the journal"
	expect 6 "status of a journal naming a program" lv status g0
done
[ ! -e "$tmp/evil.ran" ] || failed "a program named in the journal ran"

# A journal of the previous version records no destination: DEST is needed, and enough.
journal
expect 2 "recover of an old journal without DEST" lv recover g0
grep -q "DEST (the destination libvirt URI) is required with libvirt" "$tmp/err" || failed "old journal: no DEST message"
cmp -s "$tmp/state/g0.journal" "$tmp/journal.orig" || failed "the refused recover changed the old journal"
expect 6 "status of an old journal" lv --json status g0
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["destination"] is None, r' "$tmp/out" ||
	failed "status --json of an old journal: destination not null"
expect 4 "recover of an old journal with DEST" lv recover g0 "$DST"

# No journal: without DEST the message it always was; with DEST, no journal.
rm -rf "$tmp/state"
expect 2 "recover without journal and DEST" lv recover g0
grep -q "DEST (the destination libvirt URI) is required with libvirt$" "$tmp/err" || failed "no journal, no DEST: message"
expect 1 "recover without journal" lv recover g0 "$DST"
grep -q "no journal for guest g0" "$tmp/err" || failed "no journal: message"
expect 0 "status without journal" lv --json status g0
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["journal"]=="none" and r["destination"] is None, r' "$tmp/out" ||
	failed "status --json without journal"

# A DEST the journal could not hold is a usage error before anything happens.
expect 2 "migrate with a DEST holding a newline" lv migrate g0 "$DST
x"
[ ! -e "$tmp/state/g0.journal" ] || failed "a refused migrate left a journal"
expect 2 "migrate with an overlong DEST" lv migrate g0 "test:///$(printf 'x%.0s' $(seq 300))"

# A test-driver file FILE holding one domain NAME, its <devices> read from stdin.
test_domain() {
	{
		printf '%s\n' "<node>" "  <domain type='test'>" \
			"    <name>$2</name><memory>262144</memory><vcpu>1</vcpu>" \
			"    <os><type arch='x86_64'>hvm</type></os>" "    <devices>"
		cat
		printf '%s\n' "    </devices>" "  </domain>" "</node>"
	} >"$1"
}

# setup of a guest with two VFs: --vf-alias starts each VF, the options after it are its own;
# the metadata holds one <nic> per VF.
test_domain "$tmp/mvf.xml" g2 <<'EOF'
      <interface type='ethernet'><mac address='52:54:00:77:00:10'/><model type='virtio'/><alias name='ua-net0'/></interface>
      <interface type='ethernet'><mac address='52:54:00:77:01:10'/><model type='e1000e'/><target dev='f0'/><alias name='ua-vf0'/></interface>
      <interface type='ethernet'><mac address='52:54:00:77:00:20'/><model type='virtio'/><alias name='ua-net1'/></interface>
      <interface type='ethernet'><mac address='52:54:00:77:01:20'/><model type='e1000e'/><target dev='f1'/><alias name='ua-vf1'/></interface>
EOF
MVF="test://$tmp/mvf.xml"
expect 2 "setup of two VFs without --backup-mac" "$V" -c "$MVF" setup g2 --vf-alias ua-vf0 --bond bond0 --vf-alias ua-vf1 --bond bond1
grep -q "more than one other NIC" "$tmp/err" || failed "two VFs without --backup-mac: message"
expect 0 "setup of two VFs" "$V" -c "$MVF" setup g2 --vf-alias ua-vf0 --bond bond0 --backup-mac 52:54:00:77:00:10 \
	--vf-alias ua-vf1 --bond bond1 --backup-mac 52:54:00:77:00:20 --vlan 12
grep -q "<nic><bond name='bond0'/><vf alias='ua-vf0' mac='52:54:00:77:01:10'/><backup mac='52:54:00:77:00:10'/></nic><nic><bond name='bond1'/><vf alias='ua-vf1' mac='52:54:00:77:01:20'/><backup mac='52:54:00:77:00:20'/><vlan id='12'/></nic>" "$tmp/out" ||
	failed "setup of two VFs: metadata"
expect 2 "setup of five VFs" "$V" -c "$MVF" setup g2 --vf-alias a --bond b --vf-alias b --bond b --vf-alias c --bond b --vf-alias d --bond b --vf-alias e --bond b
grep -q "more than 4 --vf-alias options" "$tmp/err" || failed "five VFs: message"

# setup of a failover VF (<teaming>): libvirt keeps its <interface> in a migration and changes
# only the source, so a source of another kind is refused, naming the kind it needs.
test_domain "$tmp/fo.xml" g3 <<'EOF'
      <interface type='ethernet'><mac address='52:54:00:77:00:30'/><model type='virtio'/><teaming type='persistent'/><alias name='ua-net0'/></interface>
      <interface type='hostdev' managed='yes'><mac address='52:54:00:77:00:30'/><source><address type='pci' domain='0x0000' bus='0x02' slot='0x10' function='0x2'/></source><teaming type='transient' persistent='ua-net0'/><alias name='ua-vf0'/></interface>
EOF
FO="test://$tmp/fo.xml"
expect 2 "setup of a hostdev failover VF with a network: source" "$V" -c "$FO" setup g3 --vf-alias ua-vf0 \
	--vf-source hostdev:0000:02:10.4 --vf-source network:physnet
grep -q "VF ua-vf0 is an <interface type='hostdev'> of a failover pair: source network:physnet cannot replace it .*give it hostdev: sources" "$tmp/err" ||
	failed "failover VF with a network: source: message"
grep -q "<vfmigrate" "$tmp/out" && failed "a refused setup wrote metadata"
expect 0 "setup of a hostdev failover VF" "$V" -c "$FO" setup g3 --vf-alias ua-vf0 --vf-source hostdev:0000:02:10.4
grep -q "<vfmigrate><vf alias='ua-vf0' mac='52:54:00:77:00:30'/><backup mac='52:54:00:77:00:30'/><source value='hostdev:0000:02:10.4'/></vfmigrate>" "$tmp/out" ||
	failed "setup of a failover VF: metadata"
# With --bond the VF goes through the guest's bond (dropped from the destination XML and plugged
# anew): any kind of source will do.
expect 0 "setup of that VF for bond mode with a network: source" "$V" -c "$FO" setup g3 --vf-alias ua-vf0 \
	--bond bond0 --vf-source network:physnet
grep -q "<source value='network:physnet'/>" "$tmp/out" || failed "bond-mode setup of a teaming VF: metadata"
# A type='network' failover VF takes network: sources only.
test_domain "$tmp/fo-net.xml" g4 <<'EOF'
      <interface type='ethernet'><mac address='52:54:00:77:00:30'/><model type='virtio'/><teaming type='persistent'/><alias name='ua-net0'/></interface>
      <interface type='network'><mac address='52:54:00:77:00:30'/><source network='physnet'/><teaming type='transient' persistent='ua-net0'/><alias name='ua-vf0'/></interface>
EOF
FON="test://$tmp/fo-net.xml"
expect 2 "setup of a network failover VF with a hostdev: source" "$V" -c "$FON" setup g4 --vf-alias ua-vf0 \
	--vf-source hostdev:0000:02:10.4
grep -q "VF ua-vf0 is an <interface type='network'> of a failover pair: .*--vf-source network:NAME" "$tmp/err" ||
	failed "network failover VF with a hostdev: source: message"
expect 0 "setup of a network failover VF" "$V" -c "$FON" setup g4 --vf-alias ua-vf0 --vf-source network:physnet

[ "$fails" = 0 ] && echo "all cli libvirt checks passed"
exit $((fails > 0))
