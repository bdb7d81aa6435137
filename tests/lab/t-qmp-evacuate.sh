#!/usr/bin/env bash
# vfmigrate evacuate over QMP, three real guests (g0, g1, g2; each its own VF, MACs, address)
# whose runs share each host's emulated pool (pool-host, LAB_POOL_HOSTS=1):
#  1. dst's pool has one VF too few (f0, f1 for three guests): the plan is refused, exit 3, a
#     capacity problem for the guest that does not fit, before anything moves: every guest
#     still on src with its VF active, no journal, no reservation.
#  2. src -> dst with --parallel 3 and the full pool: a vfprobe on each guest (from the client,
#     run by evacuate itself), all three migrated, each on dst with a VF of its own active,
#     reachable, every reservation a VF a guest holds; the summary in JSON has the loss windows.
#  3. and back dst -> src, --parallel 3.
#  4. one guest fails mid-way: its destination QEMU dies after its unplug; its run rolls back
#     (g1 on src with its VF) while g0 and g2 migrate; exit 4 (the worst per-guest outcome).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib-faults.sh"
export LAB_POOL_HOSTS=1 LAB_GUEST_MEM=${LAB_GUEST_MEM:-192}
K=3
# Each host's pool: f0 on root port rp1, f1 on rp3, f2 on rp4 (spare ports every guest has
# here: the emulated pool puts each VF on its own port).
export LAB_SPARE_PORT=2
bus_of() { case $1 in f0) echo rp1 ;; f1) echo rp3 ;; *) echo rp4 ;; esac; }
POOL="f0:rp1 f1:rp3 f2:rp4"
# TCG guests, six QEMUs on two cores: the lab's timeouts, not the product's.
T=(-o timeouts.command=30s -o timeouts.alive=90s -o timeouts.link=40s -o timeouts.unplug=20s)

lab_init qevac
lab_image
lab_net_up
lab_guests_add $K
for ((k = 0; k < K; k++)); do lab_as $k lab_guest_start src; done
for ((k = 0; k < K; k++)); do
	lab_as $k lab_guest_wait_ready src 180
	lab_as $k lab_agent_wait src 120
	lab_as $k lab_qga_wait src 120
	lab_as $k lab_wait_vf_active src 60 || lab_die "g$k: VF not active at start"
	lab_as $k lab_wait_reachable
done

# The tap of HOST's pool reserved for guest K's MAC (from its marker), or nothing.
tap_of() { grep -l "^mac=52:54:00:77:01:1$2\$" "$LAB_DIR"/state/vfpool-emul/"$1"@* 2>/dev/null | sed 's/.*@//'; }

# configs SIDE-FROM POOL: every guest's config for a run from SIDE-FROM (src: as started;
# dst: back), the destination pool POOL; the source VF is the tap the guest holds now.
configs() {
	local from=$1 pool=$2 k tap rev=
	[ "$from" = dst ] && rev=--reverse
	for ((k = 0; k < K; k++)); do
		tap=f$k
		[ "$from" = dst ] && { tap=$(tap_of dst $k) || true; }
		[ -n "$tap" ] || lab_die "g$k holds no VF on $from"
		LAB_VFM_POOL=$pool LAB_AS_TAP_F=$tap LAB_AS_VF_BUS=$([ "$from" = dst ] && bus_of "$tap" || echo rp1) \
			lab_as $k lab_vfm_config $rev
	done
}

# evacuate OUT ARGS...: vfmigrate evacuate of g0..g2 (GUEST=CONFIG), from the client
# namespace (so its probes reach the guests; QMP and agent sockets are files).
evacuate() {
	local out=$1 args=() k
	shift
	for ((k = 0; k < K; k++)); do args+=("g$k=$LAB_DIR/g$k.conf"); done
	ip netns exec "$NS_CLI" "$VFM_BUILDDIR/src/cli/vfmigrate" -s "$LAB_DIR/state" "${T[@]}" evacuate \
		--vfprobe "$VFM_BUILDDIR/src/probe/vfprobe" "$@" "${args[@]}" >"$out" 2>"$out.err"
}
probes() { local k; for ((k = 0; k < K; k++)); do echo "--probe g$k=$LAB_NET.1$k"; done; }

# settled SIDE: every guest runs on SIDE with a VF active, reachable; its QEMU on the other
# host runs nothing; journal finished; each holds its own tap; markers all held.
settled() {
	local side=$1 other k st taps=
	other=$(fault_other "$side")
	for ((k = 0; k < K; k++)); do
		[ "$(lab_as $k lab_qmp "$side" query-status | jq -r .status)" = running ] || lab_die "g$k does not run on $side"
		lab_as $k lab_wait_vf_active "$side" 60 || lab_die "g$k: VF not active on $side"
		if [ -S "$LAB_DIR/g$k-$other.qmp" ] && st=$(LAB_CALL_TIMEOUT=2000 lab_as $k lab_qmp "$other" query-status 2>/dev/null); then
			[ "$(echo "$st" | jq -r .status)" != running ] || lab_die "g$k runs on $other too"
			lab_as $k lab_devices "$other" | grep -qw vf0 && lab_die "g$k still has a VF on $other"
		fi
		lab_as $k lab_vfm status | head -1 | grep -q "^g$k: journal finished" || lab_die "g$k journal: $(lab_as $k lab_vfm status | head -1)"
		lab_as $k lab_wait_reachable 30
	done
	fault_markers_held
}

# 1. one VF too few: refused before anything moves.
for ((k = 0; k < K; k++)); do lab_as $k lab_guest_start dst --incoming; done
configs src "f0:rp1 f1:rp3"
fault_begin one-vf-too-few qmp
rc=0
evacuate "$LAB_DIR/e1.txt" --parallel 3 || rc=$?
cat "$LAB_DIR/e1.txt" "$LAB_DIR/e1.txt.err" >&2
[ $rc = 3 ] || lab_die "a plan one VF short: exit $rc, not 3"
grep -q 'capacity: g2: dst has 0 VF left' "$LAB_DIR/e1.txt.err" || lab_die "no capacity problem for g2"
for ((k = 0; k < K; k++)); do
	[ ! -e "$LAB_DIR/state/g$k.journal" ] || lab_die "g$k has a journal: something moved"
	[ "$(lab_as $k lab_qmp src query-status | jq -r .status)" = running ] || lab_die "g$k stopped on src"
	lab_as $k lab_wait_vf_active src 10 || lab_die "g$k: VF not active on src"
done
[ -z "$(fault_markers)" ] || lab_die "reservations after a refused plan: $(fault_markers)"
# The same in JSON: a problem record with its code.
evacuate "$LAB_DIR/e1.json" --json --parallel 3 || true
[ "$(jq -r '.problems[0].code' "$LAB_DIR/e1.json")" = capacity ] || lab_die "JSON: $(cat "$LAB_DIR/e1.json")"
fault_end refused

# 2. src -> dst, three at once, each probed.
configs src "$POOL"
evacuate "$LAB_DIR/e2.txt" --dry-run --parallel 3
grep -q 'dry run: nothing moved' "$LAB_DIR/e2.txt" || lab_die "dry run: $(cat "$LAB_DIR/e2.txt")"
[ -z "$(fault_markers)" ] || lab_die "reservations after a dry run"
fault_begin evacuate-there qmp
rc=0
# shellcheck disable=SC2046
evacuate "$LAB_DIR/e2.json" --json --parallel 3 $(probes) || rc=$?
cat "$LAB_DIR/e2.json" "$LAB_DIR/e2.json.err" >&2
[ $rc = 0 ] || lab_die "evacuate src -> dst: exit $rc"
[ "$(jq -r '[.guests[] | select(.outcome == "migrated")] | length' "$LAB_DIR/e2.json")" = $K ] || lab_die "not all migrated"
jq -e '[.guests[] | select(.loss_window_ms >= 0 and .loss_window_ms < 2000)] | length == 3' "$LAB_DIR/e2.json" >/dev/null ||
	lab_die "loss windows: $(jq -c '[.guests[].loss_window_ms]' "$LAB_DIR/e2.json")"
settled dst
# Each guest its own VF: three distinct taps reserved on dst.
[ "$(for ((k = 0; k < K; k++)); do tap_of dst $k; done | sort -u | wc -l)" = $K ] || lab_die "guests share a VF: $(fault_markers)"
lab_log "there: $(jq -c '[.guests[] | {guest, loss_window_ms, without_vf_ms, ms}]' "$LAB_DIR/e2.json")"
fault_end migrated

# 3. and back, three at once.
for ((k = 0; k < K; k++)); do
	lab_as $k lab_guest_stop src
	lab_as $k lab_guest_start src --incoming
done
configs dst "$POOL"
fault_begin evacuate-back qmp
rc=0
# shellcheck disable=SC2046
evacuate "$LAB_DIR/e3.txt" --parallel 3 $(probes) || rc=$?
cat "$LAB_DIR/e3.txt" "$LAB_DIR/e3.txt.err" >&2
[ $rc = 0 ] || lab_die "evacuate dst -> src: exit $rc"
grep -q '^evacuate: 3 of 3 guests migrated' "$LAB_DIR/e3.txt" || lab_die "summary: $(tail -3 "$LAB_DIR/e3.txt")"
settled src
fault_end migrated

# 4. one guest fails mid-way: g1's destination QEMU dies right after g1's VF left (its
# run's progress says unplug ok): g1's migration fails, its run rolls back (g1 on src with its
# VF); g0 and g2 migrate; exit 4, the worst per-guest outcome.
for ((k = 0; k < K; k++)); do
	lab_as $k lab_guest_stop dst
	lab_as $k lab_guest_start dst --incoming
done
configs src "$POOL"
fault_begin one-fails qmp
evacuate "$LAB_DIR/e4.txt" --parallel 3 &
epid=$!
fault_wait_line "$LAB_DIR/e4.txt" 'g1: unplug ok' 180
kill -9 "$(lab_as 1 lab_guest_pid dst)"
lab_log "killed g1's destination QEMU after its unplug"
rc=0
wait $epid || rc=$?
cat "$LAB_DIR/e4.txt" "$LAB_DIR/e4.txt.err" >&2
[ $rc = 4 ] || lab_die "one guest rolled back: exit $rc, not 4"
grep -Eq '^g1 +dst +rolled-back' "$LAB_DIR/e4.txt" || lab_die "g1 not rolled back in the summary"
[ "$(grep -Ec '^g[02] +dst +migrated' "$LAB_DIR/e4.txt")" = 2 ] || lab_die "g0 and g2 not migrated"
for k in 0 2; do
	lab_as $k lab_wait_vf_active dst 60 || lab_die "g$k: VF not active on dst"
	lab_as $k lab_wait_reachable 30
done
lab_as 1 lab_wait_vf_active src 60 || lab_die "g1: VF not active on src after its rollback"
[ "$(lab_as 1 lab_qmp src query-status | jq -r .status)" = running ] || lab_die "g1 does not run on src"
lab_as 1 lab_vfm status | head -1 | grep -q '^g1: journal finished' || lab_die "g1 journal: $(lab_as 1 lab_vfm status | head -1)"
lab_as 1 lab_wait_reachable 30
fault_markers_held
fault_end rolled-back
lab_log "evacuations: refused one short, there and back with three at once, one rolled back while two went on"
