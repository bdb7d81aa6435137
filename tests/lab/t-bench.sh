#!/usr/bin/env bash
# The guest-mode benchmarks run end to end and print well-formed output: bench/modes with one
# run per mode (its table: a row per mode of its MODE_TABLE, native failover included, every
# time positive, no loss count negative; its two ratio lines) and bench/agent-rtt with two
# rounds (both tables: a row per operation, positive numbers; its two ratio lines). The figures themselves are not asserted: they are measured.
# Each bench is its own lab run (it takes the lab lock itself), so this script takes none.
# QEMU 10 only: the benchmarks are measured there (a 7.2 run skips).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
lab_require
[ "$LAB_QEMU" = bpo ] || lab_skip "the benchmarks are measured on QEMU 10 (LAB_QEMU=bpo)"
top=$(cd "$(dirname "$0")/../.." && pwd)
# Not /tmp/vfml-*: the benches' lab_init removes such directories without a live owner.
out=$(mktemp -d /tmp/vfm-tbench.XXXXXX)
trap 'rm -rf "$out"' EXIT

num='[0-9]+(\.[0-9]+)?'

# 1. bench/modes 1
"$top/bench/modes" 1 >"$out/modes.txt" 2>"$out/modes.err" || {
	tail -n 30 "$out/modes.err" >&2
	lab_die "bench/modes failed"
}
cat "$out/modes.txt"
# The rows after the header: label, then window, lost outside, no VF, own, migrate, enslave, total.
awk -v num="^$num\$" '
	/^mode +window ms/ { table = 1; next }
	table && /^(virtio only|bond, |native failover )/ {
		n = NF; rows++
		w = $(n-6); lo = $(n-5); nv = $(n-4); own = $(n-3); mig = $(n-2); en = $(n-1); tot = $n
		if (w !~ num || lo !~ /^[0-9]+$/) { print "bad loss figures: " $0; bad = 1 }
		if (own !~ num || own <= 0 || mig !~ num || mig <= 0 || tot !~ num || tot <= 0) { print "bad times: " $0; bad = 1 }
		vf = ($0 !~ /^virtio only/)
		if ($0 ~ /^native failover /) fo = 1
		if (vf && (nv !~ num || nv <= 0 || en !~ num || en <= 0)) { print "bad VF times: " $0; bad = 1 }
		if (!vf && (nv != "n/a" || en != "n/a")) { print "a guest without VF has VF times: " $0; bad = 1 }
		if (own + mig + (vf ? en : 0) != tot) { print "own + migrate + enslave != total: " $0; bad = 1 }
		next
	}
	table { table = 0 }
	END {
		if (rows != 4) { print rows + 0 " mode rows, want 4"; bad = 1 }
		if (!fo) { print "no native failover row"; bad = 1 }
		exit bad
	}' "$out/modes.txt" ||
	lab_die "bench/modes printed a malformed table"
# The last two lines, in this order.
want=("window ratio failover/bond" "overhead ratio qemu-ga/agent")
mapfile -t ends < <(tail -n 2 "$out/modes.txt")
for i in 0 1; do
	[[ ${ends[$i]:-} =~ ^"${want[$i]}: "([0-9]+\.[0-9][0-9])$ ]] ||
		lab_die "want '${want[$i]}: N.NN', got '${ends[$i]:-}'"
	awk -v r="${BASH_REMATCH[1]}" 'BEGIN { exit !(r > 0) }' || lab_die "ratio not positive: ${ends[$i]}"
done
lab_log "bench/modes: well formed"

# 2. bench/agent-rtt 2
"$top/bench/agent-rtt" 2 >"$out/rtt.txt" 2>"$out/rtt.err" || {
	tail -n 30 "$out/rtt.err" >&2
	lab_die "bench/agent-rtt failed"
}
cat "$out/rtt.txt"
for op in status set-active release enslave; do
	# Round trips: "op  med (min-max)  med (min-max)  ratio"; own shares: "op  own start parse sum ratio".
	grep -Eq "^$op +$num \($num-$num\) +$num \($num-$num\) +$num$" "$out/rtt.txt" ||
		lab_die "no round-trip row for $op"
	row=$(grep -E "^$op +$num +-?$num +$num +-?$num +-?$num$" "$out/rtt.txt") || lab_die "no own-share row for $op"
	read -r _ own start parse sum r <<<"$row"
	awk -v a="$own" -v b="$start" -v c="$parse" -v d="$sum" -v e="$r" \
		'BEGIN { exit !(a > 0 && b > 0 && c >= 0 && d > 0 && e > 0) }' || lab_die "own-share row not positive: $row"
done
grep -Eq "^speedup vs guest-exec: $num$" "$out/rtt.txt" || lab_die "no speedup line"
last=$(tail -n 1 "$out/rtt.txt")
[[ $last =~ ^agent\ overhead\ ratio\ guest-exec/agent:\ ([0-9]+\.[0-9])$ ]] || lab_die "last line: '$last'"
awk -v r="${BASH_REMATCH[1]}" 'BEGIN { exit !(r > 0) }' || lab_die "ratio not positive: $last"
lab_log "bench/agent-rtt: well formed"
echo "PASS"
