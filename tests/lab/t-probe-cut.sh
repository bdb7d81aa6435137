#!/usr/bin/env bash
# Lab test: vfprobe measures a link cut of known length, and loses nothing without one.
#
# Two network namespaces joined by a veth (addresses inside them only, no route out). vfprobe
# at 1000/s from a to b; after ~1 s the bridge in b goes down and ~400 ms later up again, with
# the time taken before and after each `ip` command. vfprobe must report exactly one loss
# window, as long as the measured cut within 20 ms and starting while the cut was made (give or
# take 20 ms), and no other loss. Both ICMP echo and UDP (to `vfprobe --echo` in b). Also: 3 s with no cut loses
# nothing.
#
# Exit 0 pass, 1 fail, 77 skip (not root). VFM_BUILDDIR: absolute build dir (tests/lab/run).
set -uo pipefail

TOLERANCE_MS=20
CUT_S=0.4
RATE=1000

log() { printf '[%s] %s\n' "$(date +%H:%M:%S.%3N)" "$*" >&2; }
fail() {
	log "FAIL: $*"
	exit 1
}

[ "$(id -u)" = 0 ] || {
	echo "skip: t-probe-cut needs root (network namespaces)"
	exit 77
}
for c in ip jq flock; do
	command -v "$c" >/dev/null || {
		echo "skip: $c is not installed"
		exit 77
	}
done

top=$(cd "$(dirname "$0")/../.." && pwd)
: "${VFM_BUILDDIR:=$top/build}"
vfprobe=$VFM_BUILDDIR/src/probe/vfprobe
[ -x "$vfprobe" ] || fail "vfprobe not built at $vfprobe"

# The lab lock (tests/lab/lib.sh): held by a holder process, never inherited by our children.
source "$top/tests/lab/lib.sh"
lab_lock

run=vfmp-$$-$RANDOM
NSA=$run-a
NSB=$run-b
ADDR_A=10.251.0.1
ADDR_B=10.251.0.2
UDP_PORT=9097
tmp=$(mktemp -d "/tmp/$run.XXXXXX")
pids=()

cleanup() {
	local p
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null
	done
	for p in "${pids[@]}"; do
		wait "$p" 2>/dev/null
	done
	ip netns del "$NSA" 2>/dev/null
	ip netns del "$NSB" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ -n "${EPOCHREALTIME:-}" ] || {
	echo "skip: needs bash 5 (EPOCHREALTIME)"
	exit 77
}
# The cut commands and the probe run at a real-time priority when the machine allows it: on a
# busy machine an `ip` command otherwise takes 10-110 ms to start, which blurs when the cut
# happened far more than the probe's own resolution. Both sleep nearly all the time.
rt=()
if command -v chrt >/dev/null && chrt -f 10 true 2>/dev/null; then
	rt=(chrt -f 10)
fi

log "run $run: namespaces $NSA, $NSB; real-time priority: ${rt[*]:-no}"
ip netns add "$NSA" || fail "ip netns add $NSA"
ip netns add "$NSB" || fail "ip netns add $NSB"
ip -n "$NSA" link add va type veth peer name vb netns "$NSB" || fail "veth"
# b's address sits on a bridge with the veth as its port, and the cut downs the bridge: the
# veth keeps its carrier, so a keeps its link and its ARP entry for b, as a client on a
# switched network does during a migration. (Downing the veth itself drops a's carrier, which
# flushes a's ARP entry; packets then queue in the unresolved entry and ARP retries only once
# a second: a 400 ms cut looked like 750 ms plus a second window of stale packets.)
ip -n "$NSB" link add br0 type bridge || fail "bridge"
ip -n "$NSB" link set vb master br0
ip -n "$NSA" addr add "$ADDR_A/24" dev va
ip -n "$NSB" addr add "$ADDR_B/24" dev br0
for ns in "$NSA" "$NSB"; do
	ip -n "$ns" link set lo up
done
ip -n "$NSA" link set va up
ip -n "$NSB" link set vb up
ip -n "$NSB" link set br0 up
for _ in $(seq 50); do
	ip netns exec "$NSA" ping -c 1 -W 1 "$ADDR_B" >/dev/null 2>&1 && break
	sleep 0.1
done
ip netns exec "$NSA" ping -c 1 -W 1 "$ADDR_B" >/dev/null 2>&1 || fail "b not reachable from a"

ip netns exec "$NSB" "$vfprobe" --echo --port "$UDP_PORT" --quiet --ready-file "$tmp/echo.ready" \
	2>"$tmp/echo.err" &
pids+=($!)
for _ in $(seq 50); do
	[ -e "$tmp/echo.ready" ] && break
	sleep 0.1
done
[ -e "$tmp/echo.ready" ] || fail "vfprobe --echo did not start: $(cat "$tmp/echo.err")"

# Prints a report's essentials to the log.
show() {
	jq -c '{mode, sent, received, lost, late, duplicates, windows_total, longest_window_ms,
		longest_window_packets, max_send_lateness_ms, skipped_sends, send_errors}' "$1" >&2
}

# steady NAME ARGS...: a 3 s run without a cut must lose nothing.
steady() {
	local name=$1 out=$tmp/$1.json
	shift
	log "$name: 3 s at $RATE/s, no cut"
	"${rt[@]}" ip netns exec "$NSA" "$vfprobe" --rate "$RATE" --duration 3 --json --quiet "$@" "$ADDR_B" \
		>"$out" 2>"$tmp/$name.err" || fail "$name: vfprobe failed: $(cat "$tmp/$name.err")"
	show "$out"
	jq -e '.lost == 0 and .received == .sent and .sent >= 2900 and (.windows | length) == 0' \
		"$out" >/dev/null || fail "$name: loss without a cut: $(cat "$out")"
}

# cut NAME ARGS...: cuts the link for ~CUT_S and compares with the reported window.
cut() {
	local name=$1 out=$tmp/$1.json pid t1 t2 t3 t4
	shift
	log "$name: $RATE/s, link in b down for ${CUT_S}s after ~1 s"
	rm -f "$tmp/$name.ready"
	"${rt[@]}" ip netns exec "$NSA" "$vfprobe" --rate "$RATE" --json --quiet \
		--ready-file "$tmp/$name.ready" "$@" "$ADDR_B" >"$out" 2>"$tmp/$name.err" &
	pid=$!
	pids+=("$pid")
	for _ in $(seq 50); do
		[ -e "$tmp/$name.ready" ] && break
		sleep 0.1
	done
	[ -e "$tmp/$name.ready" ] || fail "$name: vfprobe did not start: $(cat "$tmp/$name.err")"
	sleep 1
	# Times (wall clock, us) before and after each command, taken without forking.
	read -r t1 t2 t3 t4 < <("${rt[@]}" bash -c '
		a=$EPOCHREALTIME; ip -n "$1" link set br0 down; b=$EPOCHREALTIME
		sleep "$2"
		c=$EPOCHREALTIME; ip -n "$1" link set br0 up; d=$EPOCHREALTIME
		echo "${a/[.,]/} ${b/[.,]/} ${c/[.,]/} ${d/[.,]/}"' cut "$NSB" "$CUT_S")
	[ -n "$t4" ] || fail "$name: the cut commands failed"
	t1=$((10#$t1)) t2=$((10#$t2)) t3=$((10#$t3)) t4=$((10#$t4))
	sleep 1
	kill -INT "$pid"
	wait "$pid"
	local rc=$?
	unset 'pids[-1]'
	[ "$rc" = 0 ] || fail "$name: vfprobe exited $rc: $(cat "$tmp/$name.err")"
	show "$out"
	jq -e '.windows_total == 1 and (.windows | length) == 1' "$out" >/dev/null ||
		fail "$name: expected exactly one loss window: $(cat "$out")"
	jq -e '.lost == .longest_window_packets and .windows[0].packets == .lost' "$out" \
		>/dev/null || fail "$name: packets lost outside the window: $(cat "$out")"
	jq -e '.late == 0 and .duplicates == 0' "$out" >/dev/null ||
		fail "$name: late or duplicate replies: $(cat "$out")"
	# The cut took effect somewhere inside each command: take the midpoints.
	local cut_us=$(((t3 + t4) / 2 - (t1 + t2) / 2))
	local down_at_us=$(((t1 + t2) / 2))
	local win_us start_us
	win_us=$(jq -r '(.longest_window_ms * 1000) | round' "$out")
	start_us=$(jq -r '((.start_unix_s + .windows[0].start_s) * 1000000) | round' "$out")
	local diff_us=$((win_us - cut_us)) off_us=$((start_us - down_at_us))
	log "$name: cut measured $((cut_us / 1000)).$(printf %03d $((cut_us % 1000))) ms" \
		"(down took $(((t2 - t1) / 1000)) ms, up $(((t4 - t3) / 1000)) ms);" \
		"window $((win_us / 1000)).$(printf %03d $((win_us % 1000))) ms;" \
		"difference ${diff_us} us; window start - down midpoint ${off_us} us"
	echo "RESULT $name cut_us=$cut_us window_us=$win_us diff_us=$diff_us start_offset_us=$off_us" \
		"down_cmd_us=$((t2 - t1)) up_cmd_us=$((t4 - t3))"
	[ "${diff_us#-}" -le $((TOLERANCE_MS * 1000)) ] ||
		fail "$name: window ${win_us} us differs from the cut ${cut_us} us by more than ${TOLERANCE_MS} ms"
	# The window must start while the cut was being made: inside [t1, t2], give or take.
	[ "$start_us" -ge $((t1 - TOLERANCE_MS * 1000)) ] && [ "$start_us" -le $((t2 + TOLERANCE_MS * 1000)) ] ||
		fail "$name: window starts at $start_us us, the cut was made in [$t1, $t2] us"
}

steady steady-icmp
cut cut-icmp
steady steady-udp --udp "$UDP_PORT"
cut cut-udp --udp "$UDP_PORT"
log "PASS"
exit 0
