#!/usr/bin/env bash
# vfmigrate evacuate over QMP, three real guests (g0, g1, g2; each its own VFs, MACs, addresses)
# whose runs share each host's emulated pool (pool-host, LAB_POOL_HOSTS=1). g0 has two VFs
# (EVAC_VF2=0: vf0 in bond0 and vf1 in bond1, each with its own virtio backup, [vf NAME]
# sections), g1 and g2 one each: four VFs in all, each host's pool f0..f3.
#  1. dst's pool has one VF too few (f0, f1, f2 for four VFs; enough for three guests if g0
#     counted one): the plan is refused, exit 3, a capacity problem for g2, the guest that
#     does not fit after g0's two and g1's one, before anything moves: every guest still on
#     src with its VFs active, no journal, no reservation; in JSON the plan counts 2 VFs for g0.
#  2. src -> dst with --parallel 3 and the full pool (the dry run's JSON counting 2 VFs for g0
#     and 4 free): a vfprobe on each guest (from the client, run by evacuate itself), all three
#     migrated, each on dst with its VFs active in their bonds on VFs of its own (four distinct
#     taps), reachable on every bond's address, every reservation a VF a guest holds; the
#     summary in JSON has the loss windows.
#  3. and back dst -> src, --parallel 3.
#  3b. two evacuations at once ({g1, g2} and {g0}, each fitting alone) into one pool of two
#     VFs: at most two VFs move, on distinct taps (g0 with both or neither of its VFs); the
#     rest stay on src, nothing changed for them.
#  4. one guest fails mid-way: its destination QEMU dies after its unplug; its run rolls back
#     (g1 on src with its VF) while g0 and g2 migrate; exit 4 (the worst per-guest outcome).
#  5. SIGINT during an evacuation of two, one at a time: the running guest finishes, the other
#     is not started (exit 3).
#  6. an evacuation SIGKILLed with its runs after their unplugs: recover of each guest with an
#     unfinished journal settles it (on one host, VF active, nothing reserved that no guest holds).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib-faults.sh"
# shellcheck disable=SC2034 # EVAC_VF2: read by lib-evacuate.sh
K=3 EVAC_VF2=0
source "$(dirname "$0")/lib-evacuate.sh"
lab_init qevac
evac_boot

# settled SIDE: every guest runs on SIDE with its VFs active, reachable; its QEMU on the other
# host runs nothing and holds no VF; no journal unfinished; markers all held.
settled() {
	local side=$1 other k st
	other=$(fault_other "$side")
	for ((k = 0; k < K; k++)); do
		[ "$(lab_as $k lab_qmp "$side" query-status | jq -r .status)" = running ] || lab_die "g$k does not run on $side"
		evac_vfs_active $k "$side" 60 || lab_die "g$k: VF not active on $side"
		if has_vf2 $k; then
			lab_as $k lab_devices "$side" | grep -qw vf1 || lab_die "g$k: vf1 not plugged on $side"
		fi
		if [ -S "$LAB_DIR/g$k-$other.qmp" ] && st=$(LAB_CALL_TIMEOUT=2000 lab_as $k lab_qmp "$other" query-status 2>/dev/null); then
			[ "$(echo "$st" | jq -r .status)" != running ] || lab_die "g$k runs on $other too"
			lab_as $k lab_devices "$other" | grep -qwE 'vf0|vf1' && lab_die "g$k still has a VF on $other"
		fi
		# finished; none: its last run was refused before it began (case 3b).
		lab_as $k lab_vfm status | head -1 | grep -Eq "^g$k: journal (finished|none)" || lab_die "g$k journal: $(lab_as $k lab_vfm status | head -1)"
		evac_reachable $k 30
	done
	fault_markers_held
}

# The taps the pools reserved on HOST for the guests' VFs, one a line.
held_taps() {
	local k
	for ((k = 0; k < K; k++)); do
		tap_of "$1" $k
		if has_vf2 $k; then tap_of "$1" $k 2; fi
	done
}

# 1. one VF too few (three for g0's two, g1's and g2's): refused before anything moves.
evac_incoming dst
configs src "f0:rp1 f1:rp3 f2:rp4"
fault_begin one-vf-too-few qmp
rc=0
evacuate "$LAB_DIR/e1.txt" --parallel 3 || rc=$?
cat "$LAB_DIR/e1.txt" "$LAB_DIR/e1.txt.err" >&2
[ $rc = 3 ] || lab_die "a plan one VF short: exit $rc, not 3"
grep -q 'capacity: g2: dst has 0 VF left' "$LAB_DIR/e1.txt.err" || lab_die "no capacity problem for g2"
for ((k = 0; k < K; k++)); do
	[ ! -e "$LAB_DIR/state/g$k.journal" ] || lab_die "g$k has a journal: something moved"
	[ "$(lab_as $k lab_qmp src query-status | jq -r .status)" = running ] || lab_die "g$k stopped on src"
	evac_vfs_active $k src 10 || lab_die "g$k: VF not active on src"
done
[ -z "$(fault_markers)" ] || lab_die "reservations after a refused plan: $(fault_markers)"
# The same in JSON: a problem record with its code, g2 short of its one VF with none left,
# the plan counting g0's two VFs against dst's three.
evacuate "$LAB_DIR/e1.json" --json --parallel 3 || true
jq -e '.problems[0] | .code == "capacity" and .guest == "g2" and .left == 0 and .need == 1' "$LAB_DIR/e1.json" >/dev/null ||
	lab_die "JSON: $(cat "$LAB_DIR/e1.json")"
jq -e '(.plan[] | select(.guest == "g0") | [.needs[].count] | add) == 2 and
	([.destinations[0].physnets[].free] | add) == 3' "$LAB_DIR/e1.json" >/dev/null ||
	lab_die "the refused plan does not count 2 VFs for g0 against 3 free: $(jq -c '{plan, destinations}' "$LAB_DIR/e1.json")"
fault_end refused

# 2. src -> dst, three at once, each probed.
configs src "$POOL"
evacuate "$LAB_DIR/e2.txt" --dry-run --parallel 3
grep -q 'dry run: nothing moved' "$LAB_DIR/e2.txt" || lab_die "dry run: $(cat "$LAB_DIR/e2.txt")"
grep -Eq '^ +g0 +-> dst \(2 VF' "$LAB_DIR/e2.txt" || lab_die "the dry run does not count 2 VFs for g0: $(cat "$LAB_DIR/e2.txt")"
evacuate "$LAB_DIR/e2-dry.json" --dry-run --json --parallel 3
cat "$LAB_DIR/e2-dry.json" >&2
jq -e '.dry_run and ([.plan[] | {(.guest): ([.needs[].count] | add)}] | add) == {"g0": 2, "g1": 1, "g2": 1} and
	([.destinations[0].physnets[].free] | add) == 4 and ([.destinations[0].physnets[].left] | add) == 0' \
	"$LAB_DIR/e2-dry.json" >/dev/null || lab_die "dry run JSON: $(jq -c '{plan, destinations}' "$LAB_DIR/e2-dry.json")"
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
# Each VF its own tap: four distinct taps reserved on dst (g0's two among them).
[ "$(held_taps dst | sort -u | wc -l)" = $NVF ] || lab_die "VFs share a tap: $(fault_markers)"
lab_log "on dst: g0 holds $(tap_of dst 0) and $(tap_of dst 0 2); markers: $(fault_markers | tr '\n' ' ')"
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

# 3b. two evacuations at once into one pool of two VFs: {g1, g2} and {g0} (two VFs). Each plan
# fits alone (two free); together they are two short: at most two VFs move, each on its own
# tap, g0 with both or neither (its reservation is all or nothing); the rest (a guest whose run
# found no VF, or a plan refused whole) stay on src unchanged.
evac_incoming dst
configs src "f0:rp1 f1:rp3"
fault_begin two-evacuations-one-pool qmp
ra=0 rb=0
EVAC_GUESTS="1 2" evacuate "$LAB_DIR/e3a.json" --json --parallel 2 &
pa=$!
EVAC_GUESTS=0 evacuate "$LAB_DIR/e3b.json" --json &
pb=$!
wait $pa || ra=$?
wait $pb || rb=$?
cat "$LAB_DIR/e3a.json" "$LAB_DIR/e3a.json.err" "$LAB_DIR/e3b.json" "$LAB_DIR/e3b.json.err" >&2
lab_log "two evacuations: exit $ra and $rb"
# Who moved, from both summaries (a refused plan has none: nothing of it moved).
moved=$(jq -rs '[.[].guests[]? | select(.outcome == "migrated") | .guest[1:]] | join(" ")' "$LAB_DIR/e3a.json" "$LAB_DIR/e3b.json")
n=$(echo "$moved" | wc -w)
nv=0
for j in $moved; do nv=$((nv + $(nvfs "$j"))); done
# Which plan sees the other's reservation depends on timing: both fit and a run finds no VF at
# its reserve, or one plan finds VFs short and is refused whole. At least one guest moves
# (the first to reserve gets what it needs), never more VFs than the pool's two, never two on
# one tap.
[ "$n" -ge 1 ] && [ "$nv" -le 2 ] || lab_die "$n guests with $nv VFs moved into a pool of two"
for j in 0 1 2; do
	if [[ " $moved " == *" $j "* ]]; then
		evac_vfs_active $j dst 60 || lab_die "g$j: VF not active on dst"
		evac_reachable $j 30
	else
		evac_vfs_active $j src 60 || lab_die "g$j: VF not active on src"
		[ "$(lab_as $j lab_qmp src query-status | jq -r .status)" = running ] || lab_die "g$j does not run on src"
	fi
done
[ "$(held_taps dst | sort -u | wc -l)" = "$nv" ] || lab_die "two VFs on one tap: $(fault_markers)"
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
	evac_vfs_active $k dst 60 || lab_die "g$k: VF not active on dst"
	evac_reachable $k 30
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
evac_vfs_active 0 src 60 || lab_die "g0: VF not active on src"
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
	evac_vfs_active $k $side 60 || lab_die "g$k: VF not active on $side after recover"
	lab_as $k lab_vfm status | head -1 | grep -q "^g$k: journal finished" || lab_die "g$k journal: $(lab_as $k lab_vfm status | head -1)"
	evac_reachable $k 30
done
fault_markers_held
fault_end recovered
lab_log "evacuations: refused one short, there and back with three at once, two at once into one pool, one rolled back while two went on, SIGINT, killed and recovered"
