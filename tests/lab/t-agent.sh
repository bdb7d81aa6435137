#!/usr/bin/env bash
# vfmigrate-agent against the real guest kernel (Debian 6.1, bonding over virtio-net + an e1000e
# "VF"): create a bond, status, set-active both ways, release, hot-unplug + replug the e1000e
# and enslave it by MAC with its link wait, every error class, a client that hangs up mid-request
# and oversized input; the agent must never restart.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

[ -x "$VFM_BUILDDIR/guest/vfmigrate-agent" ] || lab_skip "vfmigrate-agent not built in $VFM_BUILDDIR"
[ -x "$LAB_TOOLS/qga-call" ] || lab_skip "qga-call not built"
[ -x "$LAB_TOOLS/qmp-call" ] || lab_skip "qmp-call not built"

lab_init agent
lab_image
lab_net_up
lab_guest_start src --no-bond
lab_guest_wait_ready src
lab_agent_wait src

V=$LAB_MAC_VIRTIO
F=$LAB_MAC_VF
AGENT_SOCK=$LAB_DIR/g0-src.agent

# Runs an agent command that must succeed; prints its return value.
ok() {
	local out
	out=$(lab_agent src "$@" 2>&1) || lab_die "$1 $* failed: $out"
	echo "$out"
}

# Runs an agent command that must fail with error class $1 (qga-call exit 3).
expect_err() {
	local cls=$1 out rc=0
	shift
	out=$(lab_agent src "$@" 2>&1) || rc=$?
	[ "$rc" = 3 ] || lab_die "$*: expected $cls (exit 3), got exit $rc: $out"
	case "$out" in
	"qga-call: $cls: "*) lab_log "ok: $1 -> $out" ;;
	*) lab_die "$*: expected class $cls, got: $out" ;;
	esac
}

# Polls guest-bond-status until the jq filter $1 holds (10 s).
wait_status() {
	local st i
	for i in $(seq 50); do
		st=$(lab_agent src guest-bond-status 2>/dev/null) || st=
		[ -n "$st" ] && echo "$st" | jq -e "$1" >/dev/null && {
			echo "$st"
			return 0
		}
		sleep 0.2
	done
	lab_die "bond status never satisfied $1; last: $st"
}

info=$(ok guest-info)
echo "$info" | jq -e '.supported_commands | map(.name) | index("guest-bond-enslave")' >/dev/null ||
	lab_die "guest-info lacks guest-bond-enslave: $info"
links=$(ok guest-link-list)
echo "$links" | jq -e --arg v "$V" --arg f "$F" \
	'(map(.mac) | index($v)) and (map(select(.mac == $f))[0].pci | test("^[0-9a-f]{4}:"))' >/dev/null ||
	lab_die "guest-link-list does not show both NICs with the VF's PCI address: $links"
lab_log "NICs: $(echo "$links" | jq -c 'map({mac, name, pci})')"

# Errors before there is a bond.
expect_err DeviceNotFound guest-bond-status
expect_err CommandNotFound guest-frobnicate
expect_err InvalidParameter guest-bond-release '{"mac":5}'
expect_err InvalidParameter guest-bond-release '{"mac":"52:54:zz:00:00:01"}'
expect_err InvalidParameter guest-bond-set-active "{\"mac\":\"$V\",\"bogus\":1}"
expect_err InvalidParameter guest-bond-create "{\"slaves\":[\"$V\"],\"mode\":\"balance-rr\"}"
expect_err Timeout guest-link-wait '{"mac":"02:00:00:00:00:99","timeout":300}'

# Create: active-backup over virtio + VF, the VF primary.
created=$(ok guest-bond-create "{\"slaves\":[\"$V\",\"$F\"],\"primary\":\"$F\",\"miimon\":100}")
echo "$created" | jq -e '.mode == "active-backup" and (.slaves | length) == 2' >/dev/null ||
	lab_die "bond not created as asked: $created"
expect_err InvalidState guest-bond-create "{\"slaves\":[\"$V\"]}"
ok guest-link-wait "{\"mac\":\"$F\",\"timeout\":15000}" >/dev/null
st=$(wait_status ".active == \"$F\" and .primary == \"$F\"")
echo "$st" | jq -e --arg f "$F" '[.slaves[] | select(.link == "up")] | length == 2' >/dev/null ||
	lab_die "both slaves should have link: $st"
echo "$st" | jq -e --arg f "$F" '.slaves[] | select(.mac == $f) | .pci != null and .active' >/dev/null ||
	lab_die "VF slave lacks pci/active: $st"
lab_log "status: $(echo "$st" | jq -c '{mode, active, primary, slaves: [.slaves[] | {mac, name, link, pci}]}')"

# The kernel's own view agrees.
lab_qga_wait src
kview=$(lab_guest_exec src /bin/cat /proc/net/bonding/bond0)
echo "$kview" | grep -q '^Bonding Mode: fault-tolerance (active-backup)' || lab_die "kernel: not active-backup"
vfname=$(echo "$st" | jq -r --arg f "$F" '.slaves[] | select(.mac == $f) | .name')
echo "$kview" | grep -q "^Currently Active Slave: $vfname" || lab_die "kernel: active is not $vfname: $kview"

# set-active both ways.
st=$(ok guest-bond-set-active "{\"mac\":\"$V\",\"primary\":false}")
echo "$st" | jq -e ".active == \"$V\" and .primary == null" >/dev/null || lab_die "set-active virtio: $st"
st=$(ok guest-bond-set-active "{\"mac\":\"$F\"}")
echo "$st" | jq -e ".active == \"$F\" and .primary == \"$F\"" >/dev/null || lab_die "set-active VF: $st"
expect_err DeviceNotFound guest-bond-set-active '{"mac":"02:00:00:00:00:99"}'

# Steps 1 and 2 of a migration: backup active, release the VF.
ok guest-bond-set-active "{\"mac\":\"$V\",\"primary\":false}" >/dev/null
rel=$(ok guest-bond-release "{\"mac\":\"$F\"}")
echo "$rel" | jq -e '(.bond.slaves | length) == 1 and .bond.active != null' >/dev/null ||
	lab_die "release: $rel"
expect_err InvalidState guest-bond-release "{\"mac\":\"$F\"}"
expect_err InvalidState guest-bond-set-active "{\"mac\":\"$F\"}"
expect_err DeviceNotFound guest-bond-release '{"mac":"02:00:00:00:00:99"}'

# Hot-unplug the e1000e, wait until the guest no longer sees it.
lab_qmp src device_del '{"id":"vf0"}' >/dev/null
for i in $(seq 100); do
	lab_agent src guest-link-list | jq -e --arg f "$F" 'map(.mac) | index($f) | not' >/dev/null && break
	[ "$i" = 100 ] && lab_die "the VF did not disappear from the guest"
	sleep 0.1
done
lab_log "VF unplugged"
lab_qmp src netdev_del '{"id":"nd-vf0"}' >/dev/null || true

# Step 6: enslave by MAC, started before the NIC exists; it waits for the NIC and its link.
LAB_CALL_TIMEOUT=30000 lab_agent src guest-bond-enslave \
	"{\"mac\":\"$F\",\"timeout\":20000,\"active\":true}" >"$LAB_DIR/enslave.out" 2>&1 &
enslave_pid=$!
sleep 0.5
lab_qmp src netdev_add '{"type":"tap","id":"hnvf1","ifname":"f0","script":"no","downscript":"no"}' >/dev/null
lab_qmp src device_add "{\"driver\":\"e1000e\",\"netdev\":\"hnvf1\",\"id\":\"vf1\",\"mac\":\"$F\",\"bus\":\"rp1\",\"romfile\":\"\"}" >/dev/null
wait "$enslave_pid" || lab_die "enslave failed: $(cat "$LAB_DIR/enslave.out")"
ens=$(cat "$LAB_DIR/enslave.out")
lab_log "enslave: $(echo "$ens" | jq -c '{appeared_ms, link_ms, name: .slave.name, pci: .slave.pci}')"
echo "$ens" | jq -e '.appeared_ms > 0 and .link_ms >= .appeared_ms and .slave.active and .slave.primary' >/dev/null ||
	lab_die "enslave result: $ens"
st=$(ok guest-bond-status)
echo "$st" | jq -e ".active == \"$F\" and (.slaves | length) == 2" >/dev/null || lab_die "after enslave: $st"

# More error classes on the real kernel.
expect_err Timeout guest-bond-enslave '{"mac":"02:00:00:00:00:99","timeout":300}'
expect_err InvalidParameter guest-bond-enslave "{\"mac\":\"$F\",\"timeout\":600000}"

# A client that hangs up mid-request, junk, and an oversized request: each answered or
# dropped, and the agent keeps serving.
python3 - "$AGENT_SOCK" <<'EOF' || lab_die "raw socket checks failed"
import socket, sys
def conn():
    s = socket.socket(socket.AF_UNIX)
    s.connect(sys.argv[1])
    s.settimeout(10)
    return s
def reply(s):
    buf = b""
    while not buf.endswith(b"\n"):
        c = s.recv(65536)
        if not c:
            raise SystemExit("agent closed")
        buf += c
    return buf
s = conn()
s.sendall(b'{"execute":"guest-bond-status","argu')  # hang up mid-request
s.close()
s = conn()
s.sendall(b"\xff" + b"x" * 70000 + b"\n")
r = reply(s)
assert b"GenericError" in r and b"exceeds the limit" in r, r
s.sendall(b"not json\n")
r = reply(s)
assert b"GenericError" in r, r
s.sendall(b'{"execute":"guest-ping","id":"after-junk"}')
r = reply(s)
assert b'"return"' in r and b"after-junk" in r, r
s.close()
EOF
ok guest-ping >/dev/null
lab_log "agent still serving after hangup, junk and oversized input"

# It never restarted (guest-init restarts it in a loop when it dies).
starts=$(lab_guest_exec src /bin/grep -c 'starting' /tmp/vfmigrate-agent.log || true)
[ "$starts" = 1 ] || lab_die "vfmigrate-agent started $starts times: $(lab_guest_exec src /bin/cat /tmp/vfmigrate-agent.log)"
lab_log "PASS"
