# Runs inside the L1 SR-IOV host (t-sriov-libvirt.sh): vfmigrate's libvirt backend on real
# igbvf VFs. A libvirtd per lab host (the namespaces of this L1, as in the libvirt lab), the
# guest started on src with its VF as an operator gives one: a bare PCI
# <hostdev managed='no'> the operator bound to vfio-pci, its MAC set on pf0. Then:
#   1. src -> dst, the destination VF from dst's <forward mode='hostdev'><pf dev='pf1'/>
#      network: libvirt picks a free VF, sets the guest's MAC on pf1 and binds it to vfio-pci;
#      the source's bare hostdev is unplugged by alias and stays the operator's
#   2. dst -> src, the VF an explicit one (hostdev:BDF of pf0, <interface type='hostdev'
#      managed='yes'>): libvirt binds it and sets the MAC; dst's network VF goes back to pf1
# The bond is at fail_over_mac=active (issue 15's MAC model). Each migration is probed; the
# figures go to $SRIOV_OUT/figures.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../lib-libvirt.sh"
source "$(dirname "$0")/../lib-sriov.sh"
lab_init sriov-lv
sriov_lv_hosts_up

t0=$(date +%s)
lv_daemon_start src
lv_daemon_start dst
lab_log "libvirt: $(lv_virsh src version | grep -E '^(Using library|Running hypervisor)' | sed 's/.*: //' | tr '\n' ' ')(both daemons up in $(($(date +%s) - t0)) s)"

# dst's pool: a hostdev network on pf1, as a compute node's physnet.
cat >"$LAB_DIR/physnet.xml" <<EOF
<network>
  <name>physnet</name>
  <forward mode='hostdev' managed='yes'><pf dev='pf1'/></forward>
</network>
EOF
lv_virsh dst net-define "$LAB_DIR/physnet.xml" >/dev/null || lab_die "net-define on dst failed"
lv_virsh dst net-start physnet >/dev/null || lab_die "net-start on dst failed"
lab_log "dst network physnet: $(lv_virsh dst net-dumpxml physnet | grep -c '<address type=.pci.') VFs of pf1"

# The operator's side of a guest with a bare VF: MAC on the PF, the VF on vfio-pci.
VF_SRC=$(sriov_vf_bdf pf0 0)
ip -n "$NS_SRC" link set pf0 vf 0 mac "$LAB_MAC_VF"
sriov_vf_bind_vfio "$VF_SRC"
lab_log "source VF $VF_SRC: $(sriov_vf_mac pf0 0) on $(sriov_vf_driver "$VF_SRC")"

export LAB_GUEST_MEM=192 LAB_GUEST_APPEND="vfm.fom=active"
t0=$(date +%s)
lv_guest_define_start src --vf-hostdev "$VF_SRC"
lv_wait_ready 600
lv_qga_wait src 300
lab_log "guest ready on src after $(($(date +%s) - t0)) s (nested TCG boot)"
echo "l2_boot_s $(($(date +%s) - t0))" >>"$SRIOV_OUT/figures"
lv_wait_vf_active src 120 || lab_die "the VF is not the active slave on src after boot"
lab_wait_reachable 120

# The nested lab's timeouts (the product's defaults are for real hosts).
LV_T=(-o timeouts.command=60s -o timeouts.unplug=60s -o timeouts.link=90s -o timeouts.alive=180s
	-o timeouts.migrate=300s)

# The VF of PF whose MAC (as the PF reports it) is the guest's ("" when none is).
vf_with_mac() { sriov_state "$1" | awk -v m="$LAB_MAC_VF" '$4 == m { print $1 }'; }

# A migration FROM -> TO with the probe on; checks exit 0 and the VF active on TO.
migrate_case() {
	local name=$1 from=$2 to=$3 rc=0
	lab_probe_start --rate 200 --timeout 2000
	t0=$(date +%s%N)
	lv_vfm "$from" migrate --json "${LV_T[@]}" >"$LAB_DIR/$name.json" || rc=$?
	lab_probe_stop
	cp "$LAB_DIR/$name.json" "$SRIOV_OUT/$name.json"
	cp "$LAB_DIR/probe.json" "$SRIOV_OUT/$name.probe.json"
	[ $rc = 0 ] || lab_die "$name: vfmigrate exit $rc: $(jq -c '.error' "$LAB_DIR/$name.json")"
	lab_log "$name: $(jq -r '[.steps[] | "\(.name) \(.ms)"] | join(", ")' "$LAB_DIR/$name.json")"
	lab_log "$name: agent $(jq -c .agent "$LAB_DIR/$name.json"), without VF $(jq .without_vf_ms "$LAB_DIR/$name.json") ms"
	read -r ms pk lost sent < <(lab_probe_summary)
	lab_log "$name: probe sent $sent, lost $lost, longest window $ms ms"
	echo "$name wall_s $((($(date +%s%N) - t0) / 1000000000)) without_vf_ms $(jq .without_vf_ms "$LAB_DIR/$name.json") longest_ms $ms lost $lost sent $sent" >>"$SRIOV_OUT/figures"
	lv_wait_vf_active "$to" 120 || lab_die "$name: the VF is not active on $to"
	lab_wait_reachable 60
	[ -z "$(lv_virsh "$from" list --name 2>/dev/null | grep -x "$LV_DOMAIN")" ] || lab_die "$name: the guest still runs on $from"
}

# 1. src (bare hostdev) -> dst (hostdev network on pf1).
"$VFM_BUILDDIR/src/cli/vfmigrate" -c "$(lv_uri src)" setup "$LV_DOMAIN" --bond bond0 --vf-alias ua-vf0 \
	--vf-mac "$LAB_MAC_VF" --vf-source network:physnet >&2 || lab_die "vfmigrate setup failed"
lv_vfm src check "${LV_T[@]}" >&2 || lab_die "check src -> dst refused"
migrate_case network src dst
vf_dst=$(vf_with_mac pf1)
[ -n "$vf_dst" ] || lab_die "network: no VF of pf1 holds the guest's MAC: $(sriov_state pf1)"
[ "$(sriov_vf_driver "$vf_dst")" = vfio-pci ] || lab_die "network: $vf_dst is not on vfio-pci"
# The device with the VF's alias in dst's live XML: a network interface that libvirt resolved
# to that VF (type hostdev in the live XML), at its PCI address.
vf_xml=$(lv_virsh dst dumpxml "$LV_DOMAIN" | awk '/<interface |<hostdev /{ b = "" } { b = b $0 } /<\/interface>|<\/hostdev>/{ if (b ~ /ua-vf0/) print b }' | tr -s ' ')
lab_log "network: dst's VF device: $vf_xml"
a=(${vf_dst//[:.]/ })
echo "$vf_xml" | grep -q "bus='0x${a[1]}' slot='0x${a[2]}' function='0x${a[3]}'" || lab_die "network: dst's domain does not hold $vf_dst as ua-vf0"
# The operator's bare VF: unplugged, still theirs (vfio-pci, the MAC they set).
lab_log "network: dst VF $vf_dst; source VF now: $(sriov_state pf0 | grep "^$VF_SRC ")"
[ "$(sriov_vf_driver "$VF_SRC")" = vfio-pci ] || lab_die "network: the source's bare VF left vfio-pci"

# 2. dst -> src, an explicit VF of pf0 (not the operator's bare one).
VF_BACK=$(sriov_vf_bdf pf0 1)
"$VFM_BUILDDIR/src/cli/vfmigrate" -c "$(lv_uri dst)" setup "$LV_DOMAIN" --bond bond0 --vf-alias ua-vf0 \
	--vf-source "hostdev:$VF_BACK" >&2 || lab_die "vfmigrate setup on dst failed"
migrate_case hostdev dst src
[ "$(vf_with_mac pf0 | grep -c "^$VF_BACK$")" = 1 ] || lab_die "hostdev: $VF_BACK does not hold the guest's MAC: $(sriov_state pf0)"
[ "$(sriov_vf_driver "$VF_BACK")" = vfio-pci ] || lab_die "hostdev: $VF_BACK is not on vfio-pci"
# libvirt gave the network's VF back to its PF: igbvf, not the guest's MAC.
lab_log "hostdev: dst VF after: $(sriov_state pf1 | grep "^$vf_dst ")"
[ "$(sriov_vf_driver "$vf_dst")" = igbvf ] || lab_die "hostdev: dst's network VF $vf_dst is still on $(sriov_vf_driver "$vf_dst")"
[ -z "$(vf_with_mac pf1)" ] || lab_die "hostdev: a VF of pf1 still holds the guest's MAC: $(sriov_state pf1)"
lab_log "PASS"
