# Runs inside the L1 SR-IOV host (t-sriov-mac.sh): the six steps on a real igbvf VF. Two lab
# hosts as namespaces of this L1 (pf0 the source's PF, pf1 the destination's), the guest's
# virtio NIC on each host's bridge, both PFs' wire on the source bridge (through "uplink"),
# a client probing the guest.
# One guest boot serves every case, in this order:
#   1. fail_over_mac=active: migrated src -> dst, VF active there with vf-mac
#   2. fail_over_mac=none with the VF's own MAC (VF enslaved first): migrated back dst -> src,
#      the new VF given the bond's MAC by its PF, active
#   3. no bond: `check` and `migrate --create-bond --fail-over-mac none` refused (exit 3,
#      nothing changed: a real VF could not take the virtio NIC's MAC); `migrate
#      --create-bond` builds it (fail_over_mac=active) and migrates src -> dst
#   4. a migration back that fails before the point of no return: rolled back, the VF's MAC
#      set again on its PF and the VF active on dst again
#   5. shared MAC: the bond at fail_over_mac=none on the virtio NIC's MAC (the VF trusted, so
#      it took it): the destination VF is given that MAC by its PF, vfmigrate-agent tells the
#      two NICs that carry it apart by kind; migrated dst -> src, the VF active
# Each migration is probed; the figures go to $SRIOV_OUT/figures.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../lib-sriov.sh"
lab_init sriov-mig
mkdir -p "$LAB_DIR/state"
: "${SRIOV_CASES:=active none create rollback shared}"

lab_net_up
# The PFs' wire joins the source host's bridge: VF and virtio share one L2 network.
ip link set uplink netns "$NS_SRC"
ip -n "$NS_SRC" link set uplink master br0 up

VF_SRC=$(sriov_vf_bdf pf0 0)
# The operator's side of a guest with a VF: MAC on the PF, the VF on vfio-pci.
ip link set pf0 vf 0 mac "$LAB_MAC_VF"
sriov_vf_bind_vfio "$VF_SRC"
lab_log "source VF $VF_SRC: $(sriov_vf_mac pf0 0) on $(sriov_vf_driver "$VF_SRC")"

first_fom=active first_first=backup
export LAB_VF_HOST=$VF_SRC LAB_GUEST_MEM=192 LAB_PING_TIMEOUT=5000
export LAB_GUEST_APPEND="vfm.fom=$first_fom vfm.first=$first_first"
t0=$(date +%s)
lab_guest_start src
lab_guest_wait_ready src 600
lab_agent_wait src 300
lab_qga_wait src 120
lab_log "guest ready on src after $(($(date +%s) - t0)) s (nested TCG boot)"
echo "l2_boot_s $(($(date +%s) - t0))" >>"$SRIOV_OUT/figures"
lab_wait_vf_active src 120 || lab_die "the VF is not the active slave on src after boot"
lab_wait_reachable 120

# The guest's bond as its kernel sees it: "MODE ACTIVE-PERM-MAC SLAVES BOND-MAC".
bond_line() {
	local side=$1 b
	b=$(lab_guest_exec "$side" /bin/cat /proc/net/bonding/bond0) || return 1
	echo "$(echo "$b" | grep -o 'fail_over_mac [a-z]*' | cut -d' ' -f2 || echo none)" \
		"$(lab_bond_state "$side")" "$(lab_guest_exec "$side" /bin/cat /sys/class/net/bond0/address)"
}

# A migration FROM -> TO with the probe on; checks the outcome, prints and records figures.
migrate_case() {
	local name=$1 from=$2 to=$3 vfhost=$4 rc=0
	if [ "$from" = src ]; then sriov_conf src pf0 "$vfhost" dst pf1; else sriov_conf dst pf1 "$vfhost" src pf0; fi
	lab_guest_start "$to" --incoming
	lab_probe_start --rate 200 --timeout 2000
	t0=$(date +%s%N)
	lab_vfm_migrate "$from" "$to" "$LAB_DIR/$name.json" || rc=$?
	lab_probe_stop
	cp "$LAB_DIR/$name.json" "$SRIOV_OUT/$name.json"
	cp "$LAB_DIR/probe.json" "$SRIOV_OUT/$name.probe.json"
	[ $rc = 0 ] || lab_die "$name: vfmigrate exit $rc: $(jq -c '.error' "$LAB_DIR/$name.json")"
	lab_log "$name: $(jq -r '[.steps[] | "\(.name) \(.ms)"] | join(", ")' "$LAB_DIR/$name.json")"
	lab_log "$name: without VF $(jq .without_vf_ms "$LAB_DIR/$name.json") ms, QEMU downtime $(jq '.migration.downtime_ms' "$LAB_DIR/$name.json") ms"
	read -r ms pk lost sent < <(lab_probe_summary)
	lab_log "$name: probe sent $sent, lost $lost, longest window $ms ms; windows:"
	jq -r '[.windows[]?][:20][] | "    at \(.start_s) s: \(.packets) packets, \(.duration_ms) ms"' "$LAB_DIR/probe.json" >&2
	jq -r '.notes[]?' "$LAB_DIR/$name.json" | sed 's/^/    note: /' >&2
	echo "$name wall_s $((($(date +%s%N) - t0) / 1000000000)) without_vf_ms $(jq .without_vf_ms "$LAB_DIR/$name.json") longest_ms $ms lost $lost sent $sent" >>"$SRIOV_OUT/figures"
	lab_guest_stop "$from"
	if [ "${5:-}" = shared ]; then
		# Both NICs carry one MAC: the active slave must be the VF by its driver.
		for _ in $(seq 240); do
			[ "$(active_driver "$to")" = igbvf ] && break
			sleep 0.5
		done
		[ "$(active_driver "$to")" = igbvf ] || lab_die "$name: the VF is not active on $to ($(active_driver "$to"))"
	else
		lab_wait_vf_active "$to" 120 || lab_die "$name: the VF is not active on $to"
	fi
	lab_wait_reachable 60
}

# The driver of the bond's active slave in the guest on SIDE.
active_driver() {
	lab_guest_exec "$1" /bin/sh -c 'a=$(sed -n "s/^Currently Active Slave: //p" /proc/net/bonding/bond0); basename "$(readlink "/sys/class/net/$a/device/driver")"' 2>/dev/null
}

# Everything pre-flight must leave as it was, on both hosts.
world() {
	echo "bond: $(bond_line src)"
	echo "devices: $(lab_devices src)"
	sriov_state pf0
	sriov_state pf1
}

case " $SRIOV_CASES " in *" active "*)
	VF_DST=$(sriov_vf_bdf pf1 0)
	migrate_case active src dst "$VF_SRC"
	line=$(bond_line dst)
	lab_log "active: bond on dst: $line"
	[ "$line" = "active $LAB_MAC_VF 2 $LAB_MAC_VF" ] || lab_die "active: bond on dst: $line"
	# The source VF went back to igbvf without the guest's MAC; the destination VF is the
	# guest's, on vfio-pci with vf-mac.
	st=$(sriov_state pf0 | grep "^$VF_SRC ")
	echo "$st" | grep -q " igbvf (null) " && ! echo "$st" | grep -q "$LAB_MAC_VF" || lab_die "source VF after migration: $st"
	sriov_state pf1 | grep " vfio-pci vfio-pci $LAB_MAC_VF 0 marked$" >/dev/null || lab_die "destination VF: $(sriov_state pf1)"
	;;
esac
case " $SRIOV_CASES " in *" none "*)
	# Back to the source host, the bond at none on the VF's own MAC (the VF enslaved first):
	# the source host's new VF must be given the bond's MAC by its PF.
	VF_BACK=$(sriov_state pf1 | awk -v m="$LAB_MAC_VF" '$4 == m { print $1 }')
	[ -n "$VF_BACK" ] || lab_die "none: no VF of pf1 holds the guest's MAC"
	lab_guest_exec dst /sbin/vfm-bond bond0 "$LAB_MAC_VF" "$LAB_MAC_VIRTIO" none vf "$LAB_GUEST_IP/24" ||
		lab_die "none: rebuilding the bond at none failed"
	lab_wait_vf_active dst 120 || lab_die "none: the VF is not active after the rebuild"
	lab_wait_reachable 120
	line=$(bond_line dst)
	[ "$line" = "none $LAB_MAC_VF 2 $LAB_MAC_VF" ] || lab_die "none: bond on dst before: $line"
	migrate_case none dst src "$VF_BACK"
	line=$(bond_line src)
	lab_log "none: bond on src: $line"
	[ "$line" = "none $LAB_MAC_VF 2 $LAB_MAC_VF" ] || lab_die "none: bond on src: $line"
	grep -q "source-handoff" <(jq -r '.steps[] | select(.result == "ok") | .name' "$LAB_DIR/none.json") ||
		lab_die "none: no source-handoff step: $(jq -c .steps "$LAB_DIR/none.json")"
	sriov_state pf0 | grep " vfio-pci vfio-pci $LAB_MAC_VF 0 marked$" >/dev/null || lab_die "none: destination VF: $(sriov_state pf0)"
	st=$(sriov_state pf1 | grep "^$VF_BACK ")
	echo "$st" | grep -q " igbvf (null) " && ! echo "$st" | grep -q "$LAB_MAC_VF" || lab_die "none: source VF after migration: $st"
	;;
esac
case " $SRIOV_CASES " in *" create "*)
	# --create-bond on a real VF whose MAC its PF set: no bond in the guest, vfmigrate builds
	# it (at fail_over_mac=active, its default) and migrates src -> dst.
	VF_NOW=$(sriov_state pf0 | awk -v m="$LAB_MAC_VF" '$4 == m { print $1 }')
	[ -n "$VF_NOW" ] || lab_die "create: no VF of pf0 holds the guest's MAC"
	lab_guest_exec src /bin/sh -c 'ip link set bond0 down; echo -bond0 >/sys/class/net/bonding_masters' ||
		lab_die "create: deleting the guest's bond failed"
	sriov_conf src pf0 "$VF_NOW" dst pf1
	lab_guest_start dst --incoming
	# At none the new bond would take the virtio NIC's MAC, which a destination VF whose MAC
	# its PF sets could carry only if the two could be told apart: refused, nothing changed.
	before=$(world)
	for cmd in check migrate; do
		rc=0
		lab_vfm "$cmd" --json --create-bond --fail-over-mac none >"$LAB_DIR/create-none-$cmd.json" || rc=$?
		cp "$LAB_DIR/create-none-$cmd.json" "$SRIOV_OUT/"
		[ $rc = 3 ] || lab_die "create: $cmd --fail-over-mac none: exit $rc, want 3"
		[ "$(jq -r '[.problems[].code] | join(",")' "$LAB_DIR/create-none-$cmd.json")" = mac-model ] ||
			lab_die "create: $cmd --fail-over-mac none: $(jq -c .problems "$LAB_DIR/create-none-$cmd.json")"
		[ "$(world)" = "$before" ] || lab_die "create: $cmd changed something: $(diff <(echo "$before") <(world))"
		lab_log "create: $cmd --create-bond --fail-over-mac none refused, exit 3, nothing changed: $(jq -r '.problems[0].text' "$LAB_DIR/create-none-$cmd.json")"
	done
	rc=0
	lab_vfm_migrate src dst "$LAB_DIR/create.json" --create-bond || rc=$?
	cp "$LAB_DIR/create.json" "$SRIOV_OUT/create.json"
	[ $rc = 0 ] || lab_die "create: vfmigrate exit $rc: $(jq -c '.error' "$LAB_DIR/create.json")"
	lab_log "create: $(jq -r '[.steps[] | "\(.name) \(.ms)"] | join(", ")' "$LAB_DIR/create.json")"
	lab_guest_stop src
	lab_wait_vf_active dst 120 || lab_die "create: the VF is not active on dst"
	line=$(bond_line dst)
	lab_log "create: bond on dst: $line"
	[ "$line" = "active $LAB_MAC_VF 2 $LAB_MAC_VF" ] || lab_die "create: bond on dst: $line"
	lab_guest_exec dst /bin/ip addr add "$LAB_GUEST_IP/24" dev bond0 || lab_die "create: no address"
	lab_wait_reachable 120
	;;
esac
case " $SRIOV_CASES " in *" rollback "*)
	# A migration that fails before the point of no return (the destination cannot listen on
	# the migration address): vfmigrate undoes everything, and the source VF, whose MAC its PF
	# cleared after the unplug, gets it back before it is plugged in again.
	VF_NOW=$(sriov_state pf1 | awk -v m="$LAB_MAC_VF" '$4 == m { print $1 }')
	[ -n "$VF_NOW" ] || lab_die "rollback: no VF of pf1 holds the guest's MAC"
	sriov_conf dst pf1 "$VF_NOW" src pf0
	lab_guest_start src --incoming
	# The destination's VFs as they were, but for the MAC igb gives a VF handed back.
	pf0_before=$(sriov_state pf0 | awk '{ print $1, $2, $3, $5, $6 }')
	rc=0
	lab_vfm migrate --json -o destination.migrate-uri=tcp:10.78.0.9:$LAB_MIG_PORT >"$LAB_DIR/rollback.json" || rc=$?
	cp "$LAB_DIR/rollback.json" "$SRIOV_OUT/rollback.json"
	lab_log "rollback: exit $rc, $(jq -r '.outcome + ": " + (.error.message // "")' "$LAB_DIR/rollback.json")"
	lab_log "rollback: $(jq -r '[.steps[] | "\(.name) \(.result)"] | join(", ")' "$LAB_DIR/rollback.json")"
	[ $rc = 4 ] || lab_die "rollback: exit $rc, want 4 (rolled back)"
	jq -r '.notes[]?' "$LAB_DIR/rollback.json" | grep -q "set on its PF again" ||
		lab_die "rollback: no note of the source VF's MAC set again: $(jq -c .notes "$LAB_DIR/rollback.json")"
	lab_wait_vf_active dst 120 || lab_die "rollback: the VF is not active on dst again"
	sriov_state pf1 | grep "^$VF_NOW vfio-pci vfio-pci $LAB_MAC_VF 0 " >/dev/null || lab_die "rollback: source VF: $(sriov_state pf1)"
	[ "$(sriov_state pf0 | awk '{ print $1, $2, $3, $5, $6 }')" = "$pf0_before" ] &&
		! sriov_state pf0 | grep "$LAB_MAC_VF" >/dev/null || lab_die "rollback: the destination's VFs changed: $(sriov_state pf0)"
	lab_wait_reachable 120
	lab_guest_stop src
	;;
esac
case " $SRIOV_CASES " in *" shared "*)
	# The bond at none on the virtio NIC's MAC, rebuilt with the VF trusted so that it can
	# take that MAC: bond, virtio NIC and VF all carry it. The source host's new VF is given
	# it by its PF; the agent names each NIC by its kind.
	VF_NOW=$(sriov_state pf1 | awk -v m="$LAB_MAC_VF" '$4 == m { print $1 }')
	[ -n "$VF_NOW" ] || lab_die "shared: no VF of pf1 holds the guest's MAC"
	for n in $(seq 0 $((SRIOV_NUMVFS - 1))); do
		[ "$(sriov_vf_bdf pf1 "$n")" = "$VF_NOW" ] && ip link set pf1 vf "$n" trust on
	done
	lab_guest_exec dst /sbin/vfm-bond bond0 "$LAB_MAC_VF" "$LAB_MAC_VIRTIO" none backup "$LAB_GUEST_IP/24" ||
		lab_die "shared: rebuilding the bond at none failed"
	lab_wait_vf_active dst 120 || lab_die "shared: the VF is not active after the rebuild"
	lab_wait_reachable 120
	line=$(bond_line dst)
	[ "$line" = "none $LAB_MAC_VF 2 $LAB_MAC_VIRTIO" ] || lab_die "shared: bond on dst before: $line"
	migrate_case shared dst src "$VF_NOW" shared
	line=$(bond_line src)
	lab_log "shared: bond on src: $line"
	[ "$line" = "none $LAB_MAC_VIRTIO 2 $LAB_MAC_VIRTIO" ] || lab_die "shared: bond on src: $line"
	sriov_state pf0 | grep " vfio-pci vfio-pci $LAB_MAC_VIRTIO 0 marked$" >/dev/null || lab_die "shared: destination VF: $(sriov_state pf0)"
	st=$(sriov_state pf1 | grep "^$VF_NOW ")
	echo "$st" | grep -q " igbvf (null) " && ! echo "$st" | grep -q "$LAB_MAC_VF" || lab_die "shared: source VF after migration: $st"
	lab_guest_stop src
	;;
esac
lab_log "PASS"
