# shellcheck shell=bash
# Helpers of the evacuation lab test and bench (t-qmp-evacuate.sh, bench/evacuation), on top
# of lib.sh: K guests (lab_as K), each host's emulated pool of K VFs (f0 on rp1, fN on rpN+2) shared
# between runs (pool-host), evacuate run from the client namespace.
#
#   evac_boot                  the lab and K guests on src, each with its VF active, reachable
#   tap_of HOST K              the tap HOST's pool reserved for guest K (its marker), or nothing
#   configs FROM POOL [KS]     guest configs (guests KS, default all) for a run from FROM
#   evacuate OUT ARGS...       vfmigrate evacuate of the guests (EVAC_GUESTS, default all)
#   probes                     --probe options for every guest
#   evac_incoming SIDE [KS]    guests KS' QEMUs on SIDE (default all) restarted to wait for them
export LAB_POOL_HOSTS=1 LAB_GUEST_MEM=${LAB_GUEST_MEM:-192}
: "${K:=3}"
# Each host's pool: f0 on root port rp1, fN on rpN+2 (spare ports every guest has here: the
# emulated pool puts each VF on its own port); K VFs, one per guest.
export LAB_SPARE_PORT=$((K - 1))
bus_of() { local n=${1#f}; [ "$n" = 0 ] && echo rp1 || echo "rp$((n + 2))"; }
POOL="f0:rp1"
for ((_k = 1; _k < K; _k++)); do POOL+=" f$_k:rp$((_k + 2))"; done
# TCG guests, six QEMUs on two cores: the lab's timeouts, not the product's.
T=(-o timeouts.command=30s -o timeouts.alive=90s -o timeouts.link=40s -o timeouts.unplug=20s)

evac_boot() {
	local k
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
}

evac_incoming() {
	local side=$1 k
	for k in ${2:-$(seq 0 $((K - 1)))}; do
		lab_as "$k" lab_guest_stop "$side"
		lab_as "$k" lab_guest_start "$side" --incoming
	done
}

# The tap of HOST's pool reserved for guest K's MAC (from its marker), or nothing.
tap_of() { grep -l "^mac=52:54:00:77:01:1$2\$" "$LAB_DIR"/state/vfpool-emul/"$1"@* 2>/dev/null | sed 's/.*@//'; }

# configs SIDE-FROM POOL: every guest's config for a run from SIDE-FROM (src: as started;
# dst: back), the destination pool POOL; the source VF is the tap the guest holds now.
configs() {
	local from=$1 pool=$2 k tap bus rev=
	[ "$from" = dst ] && rev=--reverse
	for k in ${3:-$(seq 0 $((K - 1)))}; do
		# As started: fK on rp1; once a pool gave it one: that tap, on its root port.
		tap=$(tap_of "$from" $k) || true
		if [ -n "$tap" ]; then
			bus=$(bus_of "$tap")
		elif [ "$from" = src ]; then
			tap=f$k bus=rp1
		else
			lab_die "g$k holds no VF on $from"
		fi
		LAB_VFM_POOL=$pool LAB_AS_TAP_F=$tap LAB_AS_VF_BUS=$bus lab_as $k lab_vfm_config $rev
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

