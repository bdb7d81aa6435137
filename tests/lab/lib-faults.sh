# shellcheck shell=bash
# Helpers of the fault tests (t-fault-*.sh), on top of lib.sh: how a case ends is checked
# the same way everywhere, and every case leaves one machine-readable line in the log
#   FAULT-CASE <name> <backend> <pass|fail> <outcome> <seconds>
# that bench/faults counts.
#
#   fault_begin NAME BACKEND      starts the clock of a case
#   fault_end OUTCOME             prints its FAULT-CASE line (pass)
#   fault_tap_held SIDE           succeeds if a process holds the emulated VF's tap f0 on SIDE
#   fault_settled_qmp SIDE        the QMP lab's end state: the guest runs on SIDE only, its VF
#                                 active, reachable; the other host holds no VF and runs no
#                                 guest; the journal finished; no reservation marker but of a VF a guest holds
#   fault_stall_start SIDE TRIGGER [TARGET [N]]   the agent-stall proxy in front of SIDE's
#                                 agent socket (or TARGET, a glob), stalling at the N-th TRIGGER
#   fault_stall_wait_hit / fault_stall_go / fault_stall_stop
#   fault_agent_signal SIDE SIG   SIGSTOP/SIGCONT to vfmigrate-agent in the guest (via qemu-ga)

FAULT_CASE= FAULT_BACKEND= FAULT_T0=
fault_begin() {
	FAULT_CASE=$1 FAULT_BACKEND=$2 FAULT_T0=$(date +%s%N)
	lab_log "=== fault case $FAULT_CASE ($FAULT_BACKEND)"
	trap 'fault_on_exit $?' EXIT
}
fault_secs() { awk -v a="$FAULT_T0" -v b="$(date +%s%N)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }'; }
fault_end() {
	echo "FAULT-CASE $FAULT_CASE $FAULT_BACKEND pass $1 $(fault_secs)"
	FAULT_CASE=
}
# A case that dies (lab_die) is counted as failed, then lib.sh's exit handler runs.
fault_on_exit() {
	[ -n "$FAULT_CASE" ] && echo "FAULT-CASE $FAULT_CASE $FAULT_BACKEND fail - $(fault_secs)"
	lab_on_exit "$1"
}

fault_tap_held() {
	ip -n "$(lab_ns_of "$1")" link show "${LAB_TAP_F:-f0}" 2>/dev/null | grep -q LOWER_UP
}

fault_other() { [ "$1" = src ] && echo dst || echo src; }

# The pools' reservation markers (LAB_POOL_HOSTS=1: STATE/vfpool-emul/HOST@TAP), one a line.
fault_markers() {
	find "$LAB_DIR/state" -path '*vfpool*' -type f ! -name '*.lock' 2>/dev/null | sed 's|.*/||' | sort
}
# Fails unless every marker is HOST@TAP of a tap that a QEMU on HOST holds (a guest's VF).
fault_markers_held() {
	local m host tap
	for m in $(fault_markers); do
		host=${m%@*} tap=${m#*@}
		ip -n "$(lab_ns_of "$host")" link show "$tap" 2>/dev/null | grep -q LOWER_UP ||
			lab_die "reservation $m: no guest holds that VF"
	done
}

fault_settled_qmp() {
	local side=$1 other st
	other=$(fault_other "$side")
	[ "$(lab_qmp "$side" query-status | jq -r .status)" = running ] || lab_die "the guest does not run on $side"
	lab_wait_vf_active "$side" 30 || lab_die "VF not active on $side"
	fault_tap_held "$side" || lab_die "the VF's tap on $side is not held by the guest"
	if [ -S "$LAB_DIR/g0-$other.qmp" ] && st=$(LAB_CALL_TIMEOUT=2000 lab_qmp "$other" query-status 2>/dev/null); then
		[ "$(echo "$st" | jq -r .status)" != running ] || lab_die "the guest runs on $other too"
		lab_devices "$other" | grep -qw vf0 && lab_die "$other still has a VF plugged ($(lab_devices "$other"))"
	fi
	fault_tap_held "$other" && lab_die "a process on $other still holds its VF's tap f0"
	lab_vfm status | head -1 | grep -q '^g0: journal finished' || lab_die "journal: $(lab_vfm status | head -1)"
	fault_markers_held
	lab_wait_reachable 20
}

fault_stall_start() {
	local side=$1 trigger=$2 target=${3:-$LAB_DIR/${LAB_G:-g0}-$1.agent} nth=${4:-1}
	FAULT_STALL_DIR=$LAB_DIR/stall-${LAB_G:-g0}-$side-$trigger
	rm -rf "$FAULT_STALL_DIR"
	mkdir -p "$FAULT_STALL_DIR"
	"$LAB_TOP/tests/lab/agent-stall" "$FAULT_STALL_DIR/sock" "$target" "$trigger" "$FAULT_STALL_DIR" "$nth" &
	echo $! >"$FAULT_STALL_DIR/proxy.pid"
	for _ in $(seq 100); do
		[ -e "$FAULT_STALL_DIR/stall.ready" ] && return 0
		sleep 0.1
	done
	lab_die "the agent-stall proxy did not start"
}
fault_stall_sock() { echo "$FAULT_STALL_DIR/sock"; }
fault_stall_wait_hit() {
	local secs=${1:-60} end=$((SECONDS + ${1:-60}))
	while [ $SECONDS -lt $end ]; do
		[ -e "$FAULT_STALL_DIR/stall.hit" ] && return 0
		sleep 0.05
	done
	return 1
}
fault_stall_go() { touch "$FAULT_STALL_DIR/stall.go"; }
fault_stall_stop() {
	local pid
	pid=$(cat "$FAULT_STALL_DIR/proxy.pid" 2>/dev/null) || return 0
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null || true
}

# Stops or continues vfmigrate-agent in the guest on SIDE (qemu-ga is another process).
# EXEC: how to run a command in the guest (default lab_guest_exec).
fault_agent_signal() {
	local side=$1 sig=$2 exec=${3:-lab_guest_exec}
	"$exec" "$side" /bin/sh -c "kill -$sig \$(pidof vfmigrate-agent)" >/dev/null ||
		lab_die "kill -$sig vfmigrate-agent in the guest on $side failed"
}

# Waits (up to $3 s, default 20) for a line matching $2 in file $1.
fault_wait_line() {
	local f=$1 re=$2 n=$((${3:-20} * 10))
	for _ in $(seq "$n"); do
		grep -q "$re" "$f" 2>/dev/null && return 0
		sleep 0.1
	done
	cat "$f" >&2
	lab_die "no '$re' in $(basename "$f")"
}

# The libvirt lab's end state (lib-libvirt.sh): as fault_settled_qmp, through the daemons.
fault_settled_lv() {
	local side=$1 other
	other=$(fault_other "$side")
	[ "$(lv_virsh "$side" domstate "$LV_DOMAIN")" = running ] || lab_die "the guest does not run on $side"
	lv_wait_vf_active "$side" 30 || lab_die "VF not active on $side"
	fault_tap_held "$side" || lab_die "the VF's tap on $side is not held by the guest"
	if lv_virsh "$other" domstate "$LV_DOMAIN" 2>/dev/null | grep -q running; then
		lab_die "the guest runs on $other too"
	fi
	fault_tap_held "$other" && lab_die "a process on $other still holds its VF's tap f0"
	lv_vfm_nodest "$side" status | head -1 | grep -q 'journal finished' ||
		lab_die "journal: $(lv_vfm_nodest "$side" status | head -1)"
	fault_markers_held
	lab_wait_reachable 20
}
