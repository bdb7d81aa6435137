# Runs inside the L1 SR-IOV host (t-sriov-lv-failover.sh): vfmigrate's failover mode through
# libvirt on real igbvf VFs. A libvirtd per lab host (the namespaces of this L1, as in
# sriov-libvirt.sh); the guest as libvirt users run QEMU failover: a virtio <interface> ua-net0
# with <teaming type='persistent'/>, its VF (pf0's VF 0) an <interface type='hostdev'
# managed='yes'> ua-vf0 with <teaming type='transient' persistent='ua-net0'/>, both on the
# virtio MAC; no bond: the guest kernel's net_failover pairs them. Then:
#   0. a network: source for that VF: setup refuses it; hand-written metadata naming one is
#      refused by pre-flight (exit 3, problem failover-source), nothing changed
#   1. src -> dst, failover mode picked by itself, the destination VF an explicit one of pf1
#      (hostdev:BDF; a network: source cannot replace a type='hostdev' VF, libvirt's ABI check
#      refuses the change of type): the destination's definition holds the VF interface with
#      that source and the destination QEMU plugs it once the guest arrived; libvirt gives the
#      source VF back to igbvf
#   2. rollback: the guest paused on dst, a migration back with timeouts.unplug=20s: cancelled
#      at the deadline and rolled back (exit 4), the guest resumed, its primary active again
#      on dst, nothing left on src
#   3. recover: dst -> src (an explicit VF of pf0, hostdev:BDF), vfmigrate SIGKILLed once its
#      progress shows the migration done (it then waits for the primary); `vfmigrate recover`
#      finishes: the guest on one host with its primary active, the journal finished
#   4. a failover VF of type='network' (a hostdev network "physnet" on each host's PF): the
#      guest's VF swapped for one of its host's physnet, migrated with a network: source; on
#      the other host its ua-vf0 a physnet interface with its teaming, the primary active
# Each migration is probed; the figures go to $SRIOV_OUT/figures.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../lib-libvirt.sh"
source "$(dirname "$0")/../lib-sriov.sh"
lab_init sriov-lvfo
sriov_lv_hosts_up
# libvirt gives a managed VF back to igbvf, whose new netdev appears in the L1's own namespace,
# where that host's daemon cannot see it (a later attach of that VF fails: "Could not find
# any network device under PCI device"); on a host the daemon sees every netdev. So VF netdevs
# go back to their host's namespace as they appear, under a name of their own (a new igbvf
# netdev is an ethN that the namespace may already have: "File exists").
vf_dirs=()
for n in $(seq 0 $((SRIOV_NUMVFS - 1))); do
	vf_dirs+=("/sys/bus/pci/devices/$(sriov_vf_bdf pf0 "$n")/net:$NS_SRC"
		"/sys/bus/pci/devices/$(sriov_vf_bdf pf1 "$n")/net:$NS_DST")
done
(
	set +e
	# A 50 ms tick without a fork per tick (read -t on a descriptor that never has data).
	exec {tick}<> <(:)
	while :; do
		for e in "${vf_dirs[@]}"; do
			for nd in "${e%:*}"/*; do
				[ -e "$nd" ] || continue
				# A name of its own first: the namespace may have an eth1 already.
				bdf=${nd%/net/*}
				bdf=${bdf##*/}
				nm=vf${bdf//[:.]/}
				ip link set dev "${nd##*/}" name "$nm" 2>>"$LAB_DIR/vf-netdevs.log" || nm=${nd##*/}
				ip link set dev "$nm" netns "${e##*:}" 2>>"$LAB_DIR/vf-netdevs.log" &&
					echo "$(date +%T.%N) $bdf ${nd##*/} as $nm -> ${e##*:}" >>"$LAB_DIR/vf-netdevs.log"
			done
		done
		read -r -t 0.05 -u "$tick" _
	done
) &

t0=$(date +%s)
lv_daemon_start src
lv_daemon_start dst
lab_log "libvirt: $(lv_virsh src version | grep -E '^(Using library|Running hypervisor)' | sed 's/.*: //' | tr '\n' ' ')(both daemons up in $(($(date +%s) - t0)) s)"

VF_SRC=$(sriov_vf_bdf pf0 0)
VF_DST=$(sriov_vf_bdf pf1 1)
VF_BACK=$(sriov_vf_bdf pf0 1)
FO_MAC=$LAB_MAC_VIRTIO

# The agent channel's socket on SIDE (the daemon's path, seen from here).
lv_agent_sock() {
	local p
	p=$(lv_virsh "$1" dumpxml "$LV_DOMAIN" | grep -B3 "name='org.vfmigrate.agent.0'" | sed -n "s/.*path='\([^']*\)'.*/\1/p" | head -1)
	echo "$(lv_dir "$1")/lib${p#/var/lib/libvirt}"
}
lv_agent() {
	local side=$1
	shift
	"$VFM_BUILDDIR/tools/qga-call" --timeout 20000 "$(lv_agent_sock "$side")" "$@"
}

# Succeeds when, on SIDE, vfmigrate-agent reports the failover master sending on its primary
# and the guest's sysfs (read through qemu-ga) has that primary, an igbvf VF, enslaved to that
# master with carrier. Waits up to SECS.
lv_fo_primary_active() {
	local side=$1 end=$((SECONDS + ${2:-60})) st= m p link carrier drv
	while [ $SECONDS -lt $end ]; do
		st=$(lv_agent "$side" guest-failover-status "{\"mac\":\"$FO_MAC\"}" 2>/dev/null) || st=
		m=$(echo "$st" | jq -r '.master // empty' 2>/dev/null)
		p=$(echo "$st" | jq -r '.primary.name // empty' 2>/dev/null)
		if [ "$(echo "$st" | jq -r '.active // empty' 2>/dev/null)" = primary ] &&
			[[ $m =~ ^[a-z0-9]+$ ]] && [[ $p =~ ^[a-z0-9]+$ ]]; then
			link=$(lv_guest_exec "$side" /bin/readlink "/sys/class/net/$p/master") || link=
			carrier=$(lv_guest_exec "$side" /bin/cat "/sys/class/net/$p/carrier") || carrier=
			drv=$(lv_guest_exec "$side" /bin/readlink "/sys/class/net/$p/device/driver") || drv=
			if [ "${link##*/}" = "$m" ] && [ "$carrier" = 1 ] && [ "${drv##*/}" = igbvf ]; then
				lab_log "$side: failover master $m sends on primary $p (igbvf)"
				return 0
			fi
		fi
		sleep 1
	done
	lab_log "$side: failover status: ${st:-none}"
	return 1
}

# The VF of PF whose MAC (as the PF reports it) is the guest's ("" when none is).
vf_with_mac() { sriov_state "$1" | awk -v m="$FO_MAC" '$4 == m { print $1 }'; }
# Whether the domain is defined (active or not) on SIDE.
lv_has_domain() { lv_virsh "$1" list --all --name 2>/dev/null | grep -qx "$LV_DOMAIN"; }

export LAB_GUEST_MEM=192
t0=$(date +%s)
lv_guest_define_start src --failover "$VF_SRC"
lv_wait_ready 600
lv_qga_wait src 300
lab_log "guest ready on src after $(($(date +%s) - t0)) s (nested TCG boot)"
echo "l2_boot_s $(($(date +%s) - t0))" >>"$SRIOV_OUT/figures"
lv_fo_primary_active src 180 || lab_die "the failover primary is not active on src after boot"
lab_wait_reachable 120

# The nested lab's timeouts (the product's defaults are for real hosts), as sriov-libvirt.sh.
LV_T=(-o timeouts.command=60s -o timeouts.unplug=60s -o timeouts.link=90s -o timeouts.alive=180s
	-o timeouts.migrate=300s)
VFM=("$VFM_BUILDDIR/src/cli/vfmigrate")

# 0. A network: source cannot replace this type='hostdev' VF: setup refuses it (exit 2), and
# metadata that names one all the same (written by hand) is refused by pre-flight (exit 3,
# problem failover-source) before anything changes.
rc=0
"${VFM[@]}" -c "$(lv_uri src)" setup "$LV_DOMAIN" --vf-alias ua-vf0 --vf-source network:physnet \
	>"$LAB_DIR/setup-net.out" 2>&1 || rc=$?
[ $rc = 2 ] && grep -q "source network:physnet cannot replace it" "$LAB_DIR/setup-net.out" ||
	lab_die "setup with a network: source for a hostdev failover VF: exit $rc, $(cat "$LAB_DIR/setup-net.out")"
lv_virsh src metadata "$LV_DOMAIN" https://vfmigrate.org/xmlns/libvirt/1 --key vfm --live --set \
	"<vfmigrate><vf alias='ua-vf0' mac='$FO_MAC'/><backup mac='$FO_MAC'/><source value='network:physnet'/></vfmigrate>" ||
	lab_die "cannot write the hand-made metadata"
rc=0
lv_vfm src check --json "${LV_T[@]}" >"$LAB_DIR/check-net.json" || rc=$?
[ $rc = 3 ] && jq -e '[.problems[] | select(.code == "failover-source" and .side == "destination")] | length == 1' \
	"$LAB_DIR/check-net.json" >/dev/null ||
	lab_die "check with a network: source: exit $rc, $(jq -c .problems "$LAB_DIR/check-net.json")"
lv_fo_primary_active src 30 || lab_die "the refused check changed the guest"
lab_log "a network: source for the hostdev failover VF: refused by setup and by pre-flight ($(jq -r '.problems[] | select(.code == "failover-source") | .text' "$LAB_DIR/check-net.json"))"

# No --bond: a failover VF (its <teaming>) needs none.
"${VFM[@]}" -c "$(lv_uri src)" setup "$LV_DOMAIN" --vf-alias ua-vf0 --vf-source "hostdev:$VF_DST" >&2 ||
	lab_die "vfmigrate setup failed"
lv_vfm src check --json "${LV_T[@]}" >"$LAB_DIR/check.json" || lab_die "check src -> dst refused: $(cat "$LAB_DIR/check.json")"
[ "$(jq -r .mode "$LAB_DIR/check.json")" = failover ] || lab_die "check picked mode $(jq -r .mode "$LAB_DIR/check.json")"

# 1. src -> dst.
lab_probe_start --rate 200 --timeout 2000
t0=$(date +%s%N)
rc=0
lv_vfm src migrate --json "${LV_T[@]}" >"$LAB_DIR/failover.json" || rc=$?
wall=$((($(date +%s%N) - t0) / 1000000))
lab_probe_stop
cp "$LAB_DIR/failover.json" "$SRIOV_OUT/failover.json"
cp "$LAB_DIR/probe.json" "$SRIOV_OUT/failover.probe.json"
[ $rc = 0 ] || lab_die "failover: vfmigrate exit $rc: $(jq -c '.error' "$LAB_DIR/failover.json")"
[ "$(jq -r .mode "$LAB_DIR/failover.json")" = failover ] || lab_die "failover: mode $(jq -r .mode "$LAB_DIR/failover.json")"
lab_log "failover: $(jq -r '[.steps[] | select(.result != "skipped") | "\(.name) \(.ms)"] | join(", ")' "$LAB_DIR/failover.json")"
lab_log "failover: notes: $(jq -c '[.notes[]?]' "$LAB_DIR/failover.json")"
read -r ms pk lost sent < <(lab_probe_summary)
lab_log "failover: probe sent $sent, lost $lost, longest window $ms ms; without VF $(jq .without_vf_ms "$LAB_DIR/failover.json") ms; downtime $(jq .migration.downtime_ms "$LAB_DIR/failover.json") ms"
echo "failover wall_ms $wall without_vf_ms $(jq .without_vf_ms "$LAB_DIR/failover.json") longest_ms $ms lost $lost sent $sent downtime_ms $(jq .migration.downtime_ms "$LAB_DIR/failover.json")" >>"$SRIOV_OUT/figures"
lv_fo_primary_active dst 120 || lab_die "failover: the primary is not active on dst"
lab_wait_reachable 60
lv_has_domain src && lab_die "failover: the guest is still defined on src"
vf_dst=$(vf_with_mac pf1)
[ "$vf_dst" = "$VF_DST" ] || lab_die "failover: $VF_DST does not hold the guest's MAC: $(sriov_state pf1)"
[ "$(sriov_vf_driver "$vf_dst")" = vfio-pci ] || lab_die "failover: $vf_dst is not on vfio-pci"
# dst's ua-vf0: that VF, still paired with ua-net0.
vf_xml=$(lv_virsh dst dumpxml "$LV_DOMAIN" | awk '/<interface /{ b = "" } { b = b $0 } /<\/interface>/{ if (b ~ /ua-vf0/) print b }' | tr -s ' ')
lab_log "failover: dst's VF interface: $vf_xml"
a=(${vf_dst//[:.]/ })
echo "$vf_xml" | grep -q "bus='0x${a[1]}' slot='0x${a[2]}' function='0x${a[3]}'" || lab_die "failover: dst's ua-vf0 is not $vf_dst"
echo "$vf_xml" | grep -q "<teaming type='transient' persistent='ua-net0'/>" || lab_die "failover: dst's ua-vf0 lost its teaming"
# libvirt gave the managed source VF back: igbvf, not the guest's MAC.
lab_log "failover: source VF now: $(sriov_state pf0 | grep "^$VF_SRC ")"
[ "$(sriov_vf_driver "$VF_SRC")" = igbvf ] || lab_die "failover: source VF $VF_SRC is on $(sriov_vf_driver "$VF_SRC")"
[ -z "$(vf_with_mac pf0)" ] || lab_die "failover: a VF of pf0 still holds the guest's MAC: $(sriov_state pf0)"
lv_vfm_nodest dst status >&2 || true

# 2. Rollback: the guest paused on dst, a migration back, the guest never lets the primary go.
"${VFM[@]}" -c "$(lv_uri dst)" setup "$LV_DOMAIN" --vf-alias ua-vf0 --vf-source "hostdev:$VF_BACK" >&2 ||
	lab_die "vfmigrate setup on dst failed"
# Pre-flight needs the guest's agent: the guest is paused as the migrate step begins (libvirt
# then still prepares the destination, seconds before QEMU asks the guest for the unplug).
t0=$(date +%s%N)
: >"$LAB_DIR/rollback.progress"
"${VFM[@]}" -c "$(lv_uri dst)" -s "$LAB_DIR/state" --src-path-map "/var/lib/libvirt=$(lv_dir dst)/lib" \
	--dst-path-map "/var/lib/libvirt=$(lv_dir src)/lib" --migrate-uri "tcp://$(lv_addr src)" \
	"${LV_T[@]}" -o timeouts.unplug=20s migrate --json --progress-fd 3 "$LV_DOMAIN" "$(lv_uri src)" \
	>"$LAB_DIR/rollback.json" 2>"$LAB_DIR/rollback.err" 3>"$LAB_DIR/rollback.progress" &
pid=$!
for _ in $(seq 3000); do
	grep -q '"step-begin".*"migrate"\|"migrate".*"step-begin"' "$LAB_DIR/rollback.progress" && break
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
lv_virsh dst suspend "$LV_DOMAIN" >/dev/null || lab_die "virsh suspend failed"
lab_log "rollback: guest suspended on dst as the migrate step began ($((($(date +%s%N) - t0) / 1000000)) ms)"
t0=$(date +%s%N)
rc=0
wait "$pid" || rc=$?
cat "$LAB_DIR/rollback.err" >&2
wall=$((($(date +%s%N) - t0) / 1000000))
cp "$LAB_DIR/rollback.json" "$SRIOV_OUT/rollback.json"
lab_log "rollback: exit $rc after $wall ms: $(jq -c '{outcome, error, error2, steps: [.steps[] | select(.result != "skipped" and .result != "not-run") | "\(.name) \(.result) \(.ms) undo \(.undo_ms)"], notes}' "$LAB_DIR/rollback.json")"
echo "rollback wall_ms $wall exit $rc" >>"$SRIOV_OUT/figures"
if [ $rc != 4 ]; then
	cp "$LAB_DIR/vf-netdevs.log" "$SRIOV_OUT/" 2>/dev/null
	lab_log "rollback: VF netdev moves: $(tail -5 "$LAB_DIR/vf-netdevs.log" 2>/dev/null | tr '\n' ';')"
	lab_log "rollback: pf1: $(sriov_state pf1 | tr '\n' ';') net of $VF_DST here: $(ls "/sys/bus/pci/devices/$VF_DST/net" 2>&1), in $NS_DST: $(ip netns exec "$NS_DST" ls "/sys/bus/pci/devices/$VF_DST/net" 2>&1)"
	lab_die "rollback: exit $rc, expected 4 (rolled back)"
fi
[ "$(jq -r .outcome "$LAB_DIR/rollback.json")" = rolled-back ] || lab_die "rollback: outcome $(jq -r .outcome "$LAB_DIR/rollback.json")"
# 20 s deadline, up to 5 s for the first cancel, then QEMU's cancel and the primary's return.
[ "$wall" -lt 150000 ] || lab_die "rollback: took $wall ms"
[ "$(lv_virsh dst domstate "$LV_DOMAIN")" = running ] || lab_die "rollback: the guest is $(lv_virsh dst domstate "$LV_DOMAIN") on dst"
lv_fo_primary_active dst 120 || lab_die "rollback: the primary is not active on dst again"
lab_wait_reachable 60
lv_has_domain src && lab_die "rollback: the guest is defined on src"
[ -z "$(vf_with_mac pf0)" ] || lab_die "rollback: a VF of pf0 holds the guest's MAC: $(sriov_state pf0)"
[ "$(sriov_vf_driver "$VF_BACK")" = igbvf ] || lab_die "rollback: $VF_BACK is on $(sriov_vf_driver "$VF_BACK")"
lv_vfm_nodest dst status | head -1 | grep -q 'journal finished' || lab_die "rollback: journal $(lv_vfm_nodest dst status | head -1)"

# 3. Recover: dst -> src, SIGKILLed once the migration is done (the run then waits for the
# primary on src); `vfmigrate recover` finishes it.
[ "${SRIOV_CASES:-all}" = no-recover ] && { lab_log "PASS (without the recover case)"; exit 0; }
lv_vfm_bg "$LAB_DIR/run.txt" dst migrate "${LV_T[@]}"
for _ in $(seq 3000); do
	grep -q 'migrate  *ok' "$LAB_DIR/run.txt" && break
	kill -0 "$LV_VFM_PID" 2>/dev/null || break
	sleep 0.1
done
grep -q 'migrate  *ok' "$LAB_DIR/run.txt" || { cat "$LAB_DIR/run.txt" >&2; lab_die "recover: the migration did not finish"; }
kill -9 "$LV_VFM_PID"
wait "$LV_VFM_PID" 2>/dev/null || true
cat "$LAB_DIR/run.txt" >&2
st=$(lv_vfm_nodest dst status 2>&1 || true)
[[ $st == *"journal unfinished"* ]] || lab_die "recover: journal after the kill: $st"
rc=0
t0=$(date +%s%N)
lv_vfm_nodest dst recover --json "${LV_T[@]}" >"$LAB_DIR/recover.json" || rc=$?
wall=$((($(date +%s%N) - t0) / 1000000))
cp "$LAB_DIR/recover.json" "$SRIOV_OUT/recover.json"
outcome=$(jq -r .outcome "$LAB_DIR/recover.json")
lab_log "recover: exit $rc after $wall ms: $(jq -c '{outcome, mode, error, steps: [.steps[] | select(.result != "skipped" and .result != "not-run") | "\(.name) \(.result) \(.ms)"]}' "$LAB_DIR/recover.json")"
echo "recover wall_ms $wall exit $rc outcome $outcome" >>"$SRIOV_OUT/figures"
[ "$(jq -r .mode "$LAB_DIR/recover.json")" = failover ] || lab_die "recover did not take the journal's mode"
case "$outcome" in
migrated)
	[ $rc = 0 ] || lab_die "recover: outcome migrated, exit $rc"
	lv_fo_primary_active src 120 || lab_die "recover: the primary is not active on src"
	lv_has_domain dst && lab_die "recover: the guest is still defined on dst"
	[ "$(vf_with_mac pf0)" = "$VF_BACK" ] || lab_die "recover: $VF_BACK does not hold the guest's MAC: $(sriov_state pf0)"
	[ -z "$(vf_with_mac pf1)" ] || lab_die "recover: a VF of pf1 still holds the guest's MAC: $(sriov_state pf1)"
	;;
rolled-back)
	[ $rc = 4 ] || lab_die "recover: outcome rolled-back, exit $rc"
	lv_fo_primary_active dst 120 || lab_die "recover: the primary is not active on dst"
	lv_has_domain src && lab_die "recover: the guest is defined on src"
	;;
*) lab_die "recover ended with outcome '$outcome' (exit $rc)" ;;
esac
lab_wait_reachable 60
lv_vfm_nodest dst status | head -1 | grep -q 'journal finished' || lab_die "recover: journal $(lv_vfm_nodest dst status | head -1)"

# 4. A failover VF of type='network': a hostdev network "physnet" on each host's PF, the
# guest's hostdev VF swapped (live and config) for one of its host's network, then migrated
# to the other host with a network: source.
[ "$outcome" = migrated ] && on=src off=dst || on=dst off=src
for side in src dst; do
	pf=pf0
	[ $side = dst ] && pf=pf1
	printf '%s\n' "<network><name>physnet</name><forward mode='hostdev' managed='yes'><pf dev='$pf'/></forward></network>" \
		>"$LAB_DIR/physnet-$side.xml"
	lv_virsh $side net-define "$LAB_DIR/physnet-$side.xml" >/dev/null || lab_die "net-define physnet on $side failed"
	lv_virsh $side net-start physnet >/dev/null || lab_die "net-start physnet on $side failed"
done
lv_virsh $on detach-device-alias "$LV_DOMAIN" ua-vf0 --live --config >/dev/null ||
	lab_die "network VF: detach of the hostdev VF on $on failed"
for _ in $(seq 120); do
	xml=$(lv_virsh $on dumpxml "$LV_DOMAIN")
	[[ $xml == *"<alias name='ua-vf0'/>"* ]] || break
	sleep 1
done
[[ $xml == *"<alias name='ua-vf0'/>"* ]] && lab_die "network VF: the hostdev VF did not leave the guest on $on"
cat >"$LAB_DIR/vf-net.xml" <<EOF
<interface type='network'><mac address='$FO_MAC'/><source network='physnet'/><teaming type='transient' persistent='ua-net0'/><rom bar='off'/><alias name='ua-vf0'/></interface>
EOF
lv_virsh $on attach-device "$LV_DOMAIN" "$LAB_DIR/vf-net.xml" --live --config >/dev/null ||
	lab_die "network VF: attach of a physnet VF on $on failed"
lv_fo_primary_active $on 180 || lab_die "network VF: the primary (from physnet) is not active on $on"
"${VFM[@]}" -c "$(lv_uri $on)" setup "$LV_DOMAIN" --vf-alias ua-vf0 --vf-source network:physnet >&2 ||
	lab_die "network VF: vfmigrate setup failed"
lab_probe_start --rate 200 --timeout 2000
t0=$(date +%s%N)
rc=0
lv_vfm $on migrate --json "${LV_T[@]}" >"$LAB_DIR/netvf.json" || rc=$?
wall=$((($(date +%s%N) - t0) / 1000000))
lab_probe_stop
cp "$LAB_DIR/netvf.json" "$SRIOV_OUT/netvf.json"
[ $rc = 0 ] || lab_die "network VF: vfmigrate exit $rc: $(jq -c '.error' "$LAB_DIR/netvf.json")"
[ "$(jq -r .mode "$LAB_DIR/netvf.json")" = failover ] || lab_die "network VF: mode $(jq -r .mode "$LAB_DIR/netvf.json")"
read -r ms pk lost sent < <(lab_probe_summary)
lab_log "network VF: $on -> $off: $(jq -r '[.steps[] | select(.result != "skipped") | "\(.name) \(.ms)"] | join(", ")' "$LAB_DIR/netvf.json"); probe sent $sent, lost $lost, longest window $ms ms"
echo "netvf wall_ms $wall without_vf_ms $(jq .without_vf_ms "$LAB_DIR/netvf.json") longest_ms $ms lost $lost sent $sent" >>"$SRIOV_OUT/figures"
lv_fo_primary_active $off 120 || lab_die "network VF: the primary is not active on $off"
lab_wait_reachable 60
lv_has_domain $on && lab_die "network VF: the guest is still defined on $on"
# Its definition (what a migration sends; the live XML shows the network's VF as a hostdev).
xml=$(lv_virsh $off dumpxml --migratable "$LV_DOMAIN")
vf_xml=$(awk '/<interface /{ b = "" } { b = b $0 } /<\/interface>/{ if (b ~ /ua-vf0/) print b }' <<<"$xml" | tr -s ' ')
lab_log "network VF: $off's VF interface: $vf_xml"
[[ $vf_xml == *"<interface type='network'"* && $vf_xml == *"<source network='physnet'"* &&
	$vf_xml == *"<teaming type='transient' persistent='ua-net0'/>"* ]] ||
	lab_die "network VF: $off's ua-vf0 is not a physnet interface paired with ua-net0"
pf=pf0
[ $off = dst ] && pf=pf1
[ -n "$(vf_with_mac $pf)" ] || lab_die "network VF: no VF of $pf holds the guest's MAC: $(sriov_state $pf)"
lab_log "PASS"
