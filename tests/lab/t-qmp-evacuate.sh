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
#  3b. two evacuations at once ({g0, g1} and {g2}) into one pool of two VFs: at most two guests
#     migrate, on distinct VFs; the rest stay on src, nothing changed for them.
#  4. one guest fails mid-way: its destination QEMU dies after its unplug; its run rolls back
#     (g1 on src with its VF) while g0 and g2 migrate; exit 4 (the worst per-guest outcome).
#  5. SIGINT during an evacuation of two, one at a time: the running guest finishes, the other
#     is not started (exit 3).
#  6. an evacuation SIGKILLed with its runs after their unplugs: recover of each guest with an
#     unfinished journal settles it (on one host, VF active, nothing reserved that no guest holds).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib-faults.sh"
K=3
source "$(dirname "$0")/lib-evacuate.sh"
lab_init qevac
evac_boot

# settled SIDE: every guest runs on SIDE with a VF active, reachable; its QEMU on the other
# host runs nothing; no journal unfinished; markers all held.
settled() {
	local side=$1 other k st
	other=$(fault_other "$side")
	for ((k = 0; k < K; k++)); do
		[ "$(lab_as $k lab_qmp "$side" query-status | jq -r .status)" = running ] || lab_die "g$k does not run on $side"
		lab_as $k lab_wait_vf_active "$side" 60 || lab_die "g$k: VF not active on $side"
		if [ -S "$LAB_DIR/g$k-$other.qmp" ] && st=$(LAB_CALL_TIMEOUT=2000 lab_as $k lab_qmp "$other" query-status 2>/dev/null); then
			[ "$(echo "$st" | jq -r .status)" != running ] || lab_die "g$k runs on $other too"
			lab_as $k lab_devices "$other" | grep -qw vf0 && lab_die "g$k still has a VF on $other"
		fi
		# finished; none: its last run was refused before it began (case 3b).
		lab_as $k lab_vfm status | head -1 | grep -Eq "^g$k: journal (finished|none)" || lab_die "g$k journal: $(lab_as $k lab_vfm status | head -1)"
		lab_as $k lab_wait_reachable 30
	done
	fault_markers_held
}

# 1. one VF too few: refused before anything moves.
evac_incoming dst
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
evac_incoming src
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

# 3b. two evacuations at once into one pool of two VFs: {g0, g1} and {g2}. Each plan fits
# alone (two free); together they are one short: at most two guests migrate, each with its own
# VF; the rest (a guest whose run found no VF, or a plan refused whole) stay on src unchanged.
evac_incoming dst
configs src "f0:rp1 f1:rp3"
fault_begin two-evacuations-one-pool qmp
ra=0 rb=0
EVAC_GUESTS="0 1" evacuate "$LAB_DIR/e3a.json" --json --parallel 2 &
pa=$!
EVAC_GUESTS=2 evacuate "$LAB_DIR/e3b.json" --json &
pb=$!
wait $pa || ra=$?
wait $pb || rb=$?
cat "$LAB_DIR/e3a.json" "$LAB_DIR/e3a.json.err" "$LAB_DIR/e3b.json" "$LAB_DIR/e3b.json.err" >&2
lab_log "two evacuations: exit $ra and $rb"
# Who moved, from both summaries (a refused plan has none: nothing of it moved).
moved=$(jq -rs '[.[].guests[]? | select(.outcome == "migrated") | .guest[1:]] | join(" ")' "$LAB_DIR/e3a.json" "$LAB_DIR/e3b.json")
n=$(echo "$moved" | wc -w)
# Which plan sees the other's reservation depends on timing: both fit and one guest's run
# finds no VF at its reserve (two move), or one plan finds a VF short and is refused whole
# (one or two move). Never more than the pool's two, never two on one VF.
[ "$n" -ge 1 ] && [ "$n" -le 2 ] || lab_die "$n guests moved into a pool of two"
for j in 0 1 2; do
	if [[ " $moved " == *" $j "* ]]; then
		lab_as $j lab_wait_vf_active dst 60 || lab_die "g$j: VF not active on dst"
		lab_as $j lab_wait_reachable 30
	else
		lab_as $j lab_wait_vf_active src 60 || lab_die "g$j: VF not active on src"
		[ "$(lab_as $j lab_qmp src query-status | jq -r .status)" = running ] || lab_die "g$j does not run on src"
	fi
done
[ "$(for j in $moved; do tap_of dst "$j"; done | sort -u | wc -l)" = "$n" ] || lab_die "two guests on one VF: $(fault_markers)"
fault_markers_held
fault_end "$n-of-3-moved"
# Those that moved back to src (their src QEMUs wait for them), for the next case.
evac_incoming src "$moved"
configs dst "$POOL" "$moved"
rc=0
EVAC_GUESTS=$moved evacuate "$LAB_DIR/e3c.txt" --parallel 2 || rc=$?
cat "$LAB_DIR/e3c.txt" "$LAB_DIR/e3c.txt.err" >&2
[ $rc = 0 ] || lab_die "evacuating them back: exit $rc"
settled src

# 4. one guest fails mid-way: g1's destination QEMU dies right after g1's VF left (its
# run's progress says unplug ok): g1's migration fails, its run rolls back (g1 on src with its
# VF); g0 and g2 migrate; exit 4, the worst per-guest outcome.
evac_incoming dst
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
# 5. SIGINT: g0 and g2 back to src, one at a time; SIGINT once g0's run started: g0 finishes
# (migrated), g2 is not started (still on dst with its VF); exit 3, nothing changed for g2.
evac_incoming src "0 2"
configs dst "$POOL" "0 2"
fault_begin sigint-stops-starting qmp
EVAC_GUESTS="0 2" evacuate "$LAB_DIR/e5.txt" --parallel 1 &
epid=$!
fault_wait_line "$LAB_DIR/e5.txt" 'g0: started' 60
# The evacuate function's subshell runs vfmigrate (ip netns exec execs it): signal that.
kill -INT "$(pgrep -P $epid)"
rc=0
wait $epid || rc=$?
cat "$LAB_DIR/e5.txt" "$LAB_DIR/e5.txt.err" >&2
[ $rc = 3 ] || lab_die "SIGINT: exit $rc, not 3"
grep -q 'starting no more guests' "$LAB_DIR/e5.txt.err" || lab_die "SIGINT: not said"
grep -Eq '^g0 +src +migrated' "$LAB_DIR/e5.txt" || lab_die "g0 did not finish after the SIGINT"
grep -Eq '^g2 +src +not-started' "$LAB_DIR/e5.txt" || lab_die "g2 started after the SIGINT"
lab_as 0 lab_wait_vf_active src 60 || lab_die "g0: VF not active on src"
lab_as 2 lab_wait_vf_active dst 60 || lab_die "g2: VF not active on dst (it should not have moved)"
[ "$(lab_as 2 lab_qmp dst query-status | jq -r .status)" = running ] || lab_die "g2 does not run on dst"
fault_markers_held
fault_end not-started

# 6. an evacuation killed mid-way (SIGKILL to it and every guest's run once one run's VF
# left): the journals it leaves are unfinished; recover of each guest finishes or undoes it,
# and every guest ends on one host with its VF, nothing reserved that no guest holds.
evac_incoming src 2
evac_incoming dst "0 1"
configs src "$POOL" "0 1"
configs dst "$POOL" 2
fault_begin killed-evacuation-recover qmp
EVAC_GUESTS="0 1 2" evacuate "$LAB_DIR/e6.txt" --parallel 3 &
epid=$!
# As soon as one run's VF left (the runs take about two seconds here).
fault_wait_line "$LAB_DIR/e6.txt" 'g[012]: unplug ok' 120
vpid=$(pgrep -P $epid)
kids=$(pgrep -P "$vpid" || true)
kill -9 "$vpid" $kids 2>/dev/null || true
wait $epid 2>/dev/null || true
lab_log "killed the evacuation and its runs ($kids)"
unfinished=0
for k in 0 1 2; do
	st=$(lab_as $k lab_vfm status 2>&1 | head -1) || true # exit 6 while unfinished
	lab_log "after the kill: $st"
	if echo "$st" | grep -q 'journal unfinished'; then
		unfinished=$((unfinished + 1))
		r=0
		lab_as $k lab_vfm recover >"$LAB_DIR/e6-rec$k.txt" 2>&1 || r=$?
		cat "$LAB_DIR/e6-rec$k.txt" >&2
		case $r in 0 | 4) ;; *) lab_die "recover g$k: exit $r" ;; esac
	fi
done
[ $unfinished -ge 1 ] || lab_die "the killed evacuation left no unfinished journal"
for k in 0 1 2; do
	if [ "$(LAB_CALL_TIMEOUT=2000 lab_as $k lab_qmp src query-status 2>/dev/null | jq -r .status)" = running ]; then side=src; else side=dst; fi
	lab_as $k lab_wait_vf_active $side 60 || lab_die "g$k: VF not active on $side after recover"
	lab_as $k lab_vfm status | head -1 | grep -q "^g$k: journal finished" || lab_die "g$k journal: $(lab_as $k lab_vfm status | head -1)"
	lab_as $k lab_wait_reachable 30
done
fault_markers_held
fault_end recovered
lab_log "evacuations: refused one short, there and back with three at once, two at once into one pool, one rolled back while two went on, SIGINT, killed and recovered"
