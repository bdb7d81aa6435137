# shellcheck shell=bash
# Helpers of the evacuation lab test and bench (t-qmp-evacuate.sh, bench/evacuation), on top
# of lib.sh: K guests (lab_as K), the guests listed in EVAC_VF2 with two VFs each (LAB_VF2:
# a second VF in a second bond), each host's emulated pool of one VF per guest's VF (f0 on rp1,
# fN on rpN+2) shared between runs (pool-host), evacuate run from the client namespace.
#
#   evac_boot                  the lab and K guests on src, each with its VFs active, reachable
#   evac_as K CMD...           lab_as K, with LAB_VF2=1 for a guest of EVAC_VF2
#   tap_of HOST K [2]          the tap HOST's pool reserved for guest K's VF (2: its second VF),
#                              from its marker, or nothing
#   nvfs K                     how many VFs guest K has (1 or 2)
#   configs FROM POOL [KS]     guest configs (guests KS, default all) for a run from FROM
#   evacuate OUT ARGS...       vfmigrate evacuate of the guests (EVAC_GUESTS, default all)
#   probes                     --probe options for every guest
#   evac_incoming SIDE [KS]    guests KS' QEMUs on SIDE (default all) restarted to wait for them
export LAB_POOL_HOSTS=1 LAB_GUEST_MEM=${LAB_GUEST_MEM:-192}
: "${K:=3}"
: "${EVAC_VF2:=}"
# The guests' VFs in all: one each, two for those in EVAC_VF2.
NVF=$K
for _k in $EVAC_VF2; do NVF=$((NVF + 1)); done
# Each host's pool: f0 on root port rp1, fN on rpN+2 (spare ports every guest has here: the
# emulated pool puts each VF on its own port); NVF VFs, one per guest's VF.
export LAB_SPARE_PORT=$((NVF - 1))
bus_of() { local n=${1#f}; [ "$n" = 0 ] && echo rp1 || echo "rp$((n + 2))"; }
POOL="f0:rp1"
for ((_k = 1; _k < NVF; _k++)); do POOL+=" f$_k:rp$((_k + 2))"; done
# TCG guests, six QEMUs on two cores: the lab's timeouts, not the product's.
T=(-o timeouts.command=30s -o timeouts.alive=90s -o timeouts.link=40s -o timeouts.unplug=20s)

has_vf2() { [[ " $EVAC_VF2 " == *" $1 "* ]]; }
nvfs() { if has_vf2 "$1"; then echo 2; else echo 1; fi; }
evac_as() {
	local k=$1
	shift
	if has_vf2 "$k"; then LAB_VF2=1 lab_as "$k" "$@"; else lab_as "$k" "$@"; fi
}

evac_boot() {
	local k
	lab_image
	lab_net_up
	lab_guests_add $K
	# The pool's VFs beyond the guests' own taps (fK..), and the second bonds' taps.
	for ((k = K; k < NVF; k++)); do lab_taps_add "f$k"; done
	for k in $EVAC_VF2; do lab_as "$k" lab_vf2_net_add; done
	for ((k = 0; k < K; k++)); do evac_as $k lab_guest_start src; done
	for ((k = 0; k < K; k++)); do
		lab_as $k lab_guest_wait_ready src 180
		lab_as $k lab_agent_wait src 120
		lab_as $k lab_qga_wait src 120
		evac_vfs_active $k src 60 || lab_die "g$k: VF not active at start"
		evac_reachable $k 60
	done
}

# Succeeds when every VF of guest K is the active slave of its bond on SIDE (within SECS).
evac_vfs_active() {
	local k=$1 side=$2 secs=${3:-60}
	lab_as "$k" lab_wait_vf_active "$side" "$secs" || return 1
	if has_vf2 "$k"; then lab_as "$k" evac_vf2_active "$side" "$secs" || return 1; fi
	return 0
}
evac_vf2_active() { lab_wait_vf_active "$1" "$2" lab_guest_exec bond1 "$LAB_MAC_VF2"; }

# Guest K answers the client on every bond's address.
evac_reachable() {
	local k=$1 secs=${2:-30}
	lab_as "$k" lab_wait_reachable "$secs"
	if has_vf2 "$k"; then lab_as "$k" evac_reachable2 "$secs"; fi
	return 0
}
evac_reachable2() { LAB_GUEST_IP=$LAB_GUEST_IP2 lab_wait_reachable "$1"; }

evac_incoming() {
	local side=$1 k
	for k in ${2:-$(seq 0 $((K - 1)))}; do
		lab_as "$k" lab_guest_stop "$side"
		evac_as "$k" lab_guest_start "$side" --incoming
	done
}

# The tap of HOST's pool reserved for guest K's VF (its second with 2), from its marker, or nothing.
tap_of() { grep -l "^mac=52:54:00:77:01:${3:-1}$2\$" "$LAB_DIR"/state/vfpool-emul/"$1"@* 2>/dev/null | sed 's/.*@//'; }

# configs SIDE-FROM POOL: every guest's config for a run from SIDE-FROM (src: as started;
# dst: back), the destination pool POOL; the source VFs are the taps the guest holds now.
configs() {
	local from=$1 pool=$2 k tap bus tap2="" bus2="" rev=""
	[ "$from" = dst ] && rev=--reverse
	for k in ${3:-$(seq 0 $((K - 1)))}; do
		# As started: fK on rp1 (and fKb on rp3); once a pool gave it VFs: those taps, on
		# their root ports.
		tap=$(tap_of "$from" $k) || true
		if [ -n "$tap" ]; then
			bus=$(bus_of "$tap")
		elif [ "$from" = src ]; then
			tap=f$k bus=rp1
		else
			lab_die "g$k holds no VF on $from"
		fi
		if has_vf2 "$k"; then
			tap2=$(tap_of "$from" $k 2) || true
			if [ -n "$tap2" ]; then
				bus2=$(bus_of "$tap2")
			elif [ "$from" = src ]; then
				tap2=f${k}b bus2=rp3
			else
				lab_die "g$k holds no second VF on $from"
			fi
		fi
		LAB_VFM_POOL=$pool LAB_AS_TAP_F=$tap LAB_AS_VF_BUS=$bus LAB_AS_TAP_F2=$tap2 LAB_AS_VF2_BUS=$bus2 \
			evac_as $k lab_vfm_config $rev
	done
}

# evacuate OUT ARGS...: vfmigrate evacuate of g0..g2 (GUEST=CONFIG), from the client
# namespace (so its probes reach the guests; QMP and agent sockets are files).
evacuate() {
	local out=$1 args=() k
	shift
	for k in ${EVAC_GUESTS:-$(seq 0 $((K - 1)))}; do args+=("g$k=$LAB_DIR/g$k.conf"); done
	ip netns exec "$NS_CLI" "$VFM_BUILDDIR/src/cli/vfmigrate" -s "$LAB_DIR/state" "${T[@]}" evacuate \
		--vfprobe "$VFM_BUILDDIR/src/probe/vfprobe" "$@" "${args[@]}" >"$out" 2>"$out.err"
}
probes() { local k; for ((k = 0; k < K; k++)); do echo "--probe g$k=$LAB_NET.1$k"; done; }
