# shellcheck shell=bash
# The real-VF lab: an L1 "SR-IOV host", a VM under QEMU 10 (bookworm-backports) with an
# emulated intel-iommu and two igb (82576) PFs whose VFs the L1's own kernel makes (igbvf,
# vfio-pci): every sysfs, rtnetlink and vfio path vfmigrate uses on a compute node is the real
# kernel's here. The L1 holds both lab hosts as network namespaces (pf0 is the source host's
# PF, pf1 the destination's); the L2 guests run inside it under QEMU 10 with a VF passed
# through by vfio-pci. One nested boot instead of two L1 hosts: on 2 cores, nested TCG
# guests are what costs.
#
# The wire: both PFs and the L1's virtio NIC "uplink" are ports of one QEMU hub in the L0
# QEMU, so the VFs' traffic leaves the igb model and comes back into the L1 on uplink, which
# the L1 test bridges with the guests' virtio taps (the guest's VF and virtio NIC share one
# L2 network, as on a compute node). Nothing of it leaves the L0 QEMU process.
#
# Source lib.sh first, then this, then:
#   sriov_host_image       the L1 kernel + initramfs (cached by content); sets SRIOV_INITRD
#   sriov_host_run SCRIPT [SECONDS]
#                          boots the L1, which runs SCRIPT (bash, a file of this tree) with
#                          the lab's environment and powers off; prints where its log is and
#                          returns its exit code. The project tree, the build dir and the lab
#                          cache are 9p shares at the same paths (read-only); $SRIOV_OUT
#                          (= $LAB_DIR/l1 outside, /l1out inside) is shared read-write. SRIOV_IOMMU=0 boots it
#                          without an IOMMU.
#
# Inside the L1 (the script sources lib.sh and this file too): sriov_vf_bdf PF N,
# sriov_vf_driver BDF, sriov_vf_bind_vfio BDF, sriov_vf_mac PF N, and SRIOV_L1=1.

SRIOV_L1_MEM=${SRIOV_L1_MEM:-2560}
SRIOV_NUMVFS=${SRIOV_NUMVFS:-3}
SRIOV_MAC_PF0=52:54:00:77:f0:00
SRIOV_MAC_PF1=52:54:00:77:f1:00
SRIOV_MAC_UPLINK=52:54:00:77:f2:00

# The binaries an L1 test needs beyond busybox (with their libraries): the lab's scripts
# use bash, GNU date/grep/sed, jq, flock, pgrep and iproute2's ip (netns, tuntap).
SRIOV_L1_BINS="/usr/bin/bash /usr/bin/date /usr/bin/grep /usr/bin/sed /usr/bin/jq /usr/bin/flock
/usr/bin/pgrep /usr/bin/pkill /bin/ip /sbin/bridge /usr/bin/mawk /usr/bin/sort /usr/bin/timeout"

# libvirt, as a compute node has it (Debian 12's 9.0): the daemon with its QEMU and network
# drivers, virsh, and the CPU map its QEMU driver reads. Same paths as here.
SRIOV_L1_LIBVIRT="/usr/sbin/libvirtd /usr/bin/virsh
/usr/lib/x86_64-linux-gnu/libvirt/connection-driver/libvirt_driver_qemu.so
/usr/lib/x86_64-linux-gnu/libvirt/connection-driver/libvirt_driver_network.so"

SRIOV_L1_MODULES="virtio_pci virtio_net 9pnet_virtio 9p igb igbvf vfio_pci vfio_iommu_type1 tun
bridge veth 8021q pci_stub"

# Builds the L1 initramfs: busybox, the modules, QEMU 10 with its firmware as
# /usr/bin/qemu-system-x86_64, the tools above, and the shared libraries of vfmigrate's
# programs (which themselves come from the build dir share, so a rebuild needs no new image).
sriov_host_image() {
	lab_kernel
	lab_qemu_bpo
	local progs=("$VFM_BUILDDIR/src/cli/vfmigrate" "$VFM_BUILDDIR/src/probe/vfprobe"
		"$VFM_BUILDDIR/tools/qmp-call" "$VFM_BUILDDIR/tools/qga-call")
	[ -x "$VFM_BUILDDIR/tools/vfpool-call" ] && progs+=("$VFM_BUILDDIR/tools/vfpool-call")
	local p mods hash stage b lib qdir
	for p in "${progs[@]}"; do
		[ -x "$p" ] || lab_die "$p is not built"
	done
	mods=$(_lab_module_closure $SRIOV_L1_MODULES)
	qdir=$(dirname "$(dirname "$LAB_QEMU10")")/share
	hash=$({
		cat "$LAB_TOP/tests/lab/sriov-host-init" /bin/busybox "$LAB_QEMU10"
		for b in $SRIOV_L1_BINS; do readlink -f "$b"; done
		for p in "${progs[@]}" $SRIOV_L1_LIBVIRT; do ldd "$p" | grep -o '/[^ ]*'; done | sort -u
		for b in $SRIOV_L1_LIBVIRT; do [ ! -e "$b" ] || sha256sum <"$b"; done
		echo "$LAB_KVER $mods"
	} | sha256sum | cut -c1-16)
	SRIOV_INITRD=$VFM_LAB_CACHE/sriov-host-$hash.gz
	_lab_cached "$SRIOV_INITRD" sriov-host && return 0
	lab_log "building the L1 SR-IOV host image $SRIOV_INITRD"
	stage=$(mktemp -d /tmp/vfml-l1image.XXXXXX)
	_lab_stage_base "$stage" "$mods"
	for b in $SRIOV_L1_BINS; do
		_lab_copy_bin "$(readlink -f "$b")" "$stage" "usr/bin/$(basename "$b")"
	done
	ln -sf mawk "$stage/usr/bin/awk"
	_lab_copy_bin "$LAB_QEMU10" "$stage" usr/bin/qemu-system-x86_64
	mkdir -p "$stage/usr/share/qemu"
	cp -a "$qdir/qemu/." "$stage/usr/share/qemu/"
	cp -a "$qdir/seabios/." "$stage/usr/share/qemu/"
	for b in $SRIOV_L1_LIBVIRT; do
		[ -e "$b" ] || continue
		install -D -m 755 "$(readlink -f "$b")" "$stage$b"
		progs+=("$b")
	done
	if [ -d /usr/share/libvirt/cpu_map ]; then
		mkdir -p "$stage/usr/share/libvirt" "$stage/etc/libvirt"
		cp -a /usr/share/libvirt/cpu_map "$stage/usr/share/libvirt/"
	fi
	echo 'root:x:0:' >"$stage/etc/group"
	for p in "${progs[@]}"; do
		for lib in $(ldd "$p" | grep -o '/[^ ]*'); do
			[ -e "$stage$lib" ] || install -D -m 755 "$(readlink -f "$lib")" "$stage$lib"
		done
	done
	install -m 755 "$LAB_TOP/tests/lab/sriov-host-init" "$stage/init"
	(cd "$stage" && find . | cpio -o -H newc --quiet | gzip -1) >"$SRIOV_INITRD.tmp" || lab_die "cpio failed"
	mv "$SRIOV_INITRD.tmp" "$SRIOV_INITRD"
	rm -rf "$stage"
}

# Boots the L1 SR-IOV host to run SCRIPT inside it; waits up to SECONDS (default 900).
sriov_host_run() {
	local script=$1 secs=${2:-900} append shares=() i rc tag=0 d
	SRIOV_OUT=$LAB_DIR/l1
	mkdir -p "$SRIOV_OUT"
	lab_image
	sriov_host_image
	# What the script inside needs to know, as shell assignments.
	{
		printf 'VFM_BUILDDIR=%q\nVFM_LAB_CACHE=%q\nLAB_VMLINUZ=%q\nLAB_INITRD=%q\n' \
			"$VFM_BUILDDIR" "$VFM_LAB_CACHE" "$LAB_VMLINUZ" "$LAB_INITRD"
		printf 'SRIOV_L1=1\nSRIOV_OUT=%q\nSRIOV_NUMVFS=%q\nLAB_KEEP=%q\n' /l1out "$SRIOV_NUMVFS" "${LAB_KEEP:-}"
		# The L1 is a fresh machine: its lab runs take no lock of ours and clean up themselves.
		printf 'VFM_LAB_LOCK=/tmp/vfm-lab.lock\n'
		# The L1's own qemu-system-x86_64 is QEMU 10.
		printf 'LAB_QEMU=system\n'
		[ -n "${SRIOV_CASES:-}" ] && printf 'SRIOV_CASES=%q\n' "$SRIOV_CASES"
	} >"$SRIOV_OUT/env"
	local iommu=(-device intel-iommu,caching-mode=on)
	append="console=ttyS0 panic=-1 quiet vfm.numvfs=$SRIOV_NUMVFS"
	# SRIOV_IOMMU=0: a host without an IOMMU (its VFs have no IOMMU group).
	if [ "${SRIOV_IOMMU:-1}" = 0 ]; then
		iommu=()
	else
		append+=" intel_iommu=on iommu=pt"
	fi
	# The rw share is /l1out inside: never under /tmp/vfml-*, which the L1's own lab runs
	# clean up as leftovers of runs they do not know.
	append+=" vfm.run=$script vfm.out=/l1out"
	for d in "$LAB_TOP" "$VFM_BUILDDIR" "$VFM_LAB_CACHE"; do
		# A directory inside the tree comes with the tree's share.
		case "$d" in "$LAB_TOP"/*) continue ;; esac
		shares+=(-virtfs "local,path=$d,mount_tag=s$tag,security_model=none,readonly=on")
		append+=" vfm.share=s$tag:$d"
		tag=$((tag + 1))
	done
	shares+=(-virtfs "local,path=$SRIOV_OUT,mount_tag=out,security_model=none")
	append+=" vfm.share=out:/l1out:rw"
	local args=(
		-name l1-sriov-host -machine q35 -accel tcg -m "$SRIOV_L1_MEM" -smp 2
		-nodefaults -no-user-config -display none
		"${iommu[@]}"
		-kernel "$LAB_VMLINUZ" -initrd "$SRIOV_INITRD" -append "$append"
		-serial "file:$LAB_DIR/l1.console"
		-device pcie-root-port,id=l1rp1,chassis=1,bus=pcie.0,addr=0x3
		-device pcie-root-port,id=l1rp2,chassis=2,bus=pcie.0,addr=0x4
		-netdev hubport,id=wpf0,hubid=0 -netdev hubport,id=wpf1,hubid=0
		-netdev hubport,id=wup,hubid=0
		-device igb,netdev=wpf0,bus=l1rp1,mac=$SRIOV_MAC_PF0,romfile=
		-device igb,netdev=wpf1,bus=l1rp2,mac=$SRIOV_MAC_PF1,romfile=
		-device virtio-net-pci,netdev=wup,mac=$SRIOV_MAC_UPLINK,bus=pcie.0,addr=0x5,romfile=
		"${shares[@]}"
	)
	rm -f "$SRIOV_OUT/rc" "$SRIOV_OUT/run.log"
	lab_log "booting the L1 SR-IOV host (QEMU 10, igb x2, $SRIOV_NUMVFS VFs each) to run $(basename "$script")"
	# shellcheck disable=SC2086
	"$LAB_QEMU10" $LAB_QEMU10_L "${args[@]}" >"$LAB_DIR/l1.qemu.log" 2>&1 &
	echo $! >"$LAB_DIR/l1.pid"
	local end=$((SECONDS + secs)) done_at=
	while [ $SECONDS -lt $end ] && kill -0 "$(cat "$LAB_DIR/l1.pid")" 2>/dev/null; do
		# The script's exit code is written before the power-off, which once hung (the
		# console said done, no "Power down" followed): 20 s after the code, the run is over.
		if [ -f "$SRIOV_OUT/rc" ]; then
			: "${done_at:=$SECONDS}"
			if [ $((SECONDS - done_at)) -ge 20 ]; then
				lab_log "the L1 host wrote its result but did not power off within 20 s: stopped"
				break
			fi
		fi
		sleep 0.5
	done
	if kill -0 "$(cat "$LAB_DIR/l1.pid")" 2>/dev/null; then
		kill -9 "$(cat "$LAB_DIR/l1.pid")"
		if [ ! -f "$SRIOV_OUT/rc" ]; then
			lab_log "the L1 host did not finish within ${secs}s"
			tail -n 30 "$SRIOV_OUT/run.log" >&2
			return 1
		fi
	fi
	rm -f "$LAB_DIR/l1.pid"
	if [ ! -f "$SRIOV_OUT/rc" ]; then
		lab_log "the L1 host ended without running $script: $(tail -n 5 "$LAB_DIR/l1.qemu.log")"
		tail -n 30 "$LAB_DIR/l1.console" >&2
		return 1
	fi
	rc=$(cat "$SRIOV_OUT/rc")
	lab_log "the L1 script ended with exit $rc; its log:"
	cat "$SRIOV_OUT/run.log"
	return "$rc"
}

# ---------------------------------------------------------------------------------------
# Inside the L1

# The sysfs directory of PF's PCI device (sriov-host-init wrote it down: a test may move the
# PF's netdev into a lab host's namespace, as a host's own PF is in that host's).
sriov_pf_dev() { cat "/run/sriov/$1.dev"; }

# The ip(8) options that reach PF's netdev: "-n NS" when a namespace of this run holds it.
sriov_pf_ip() {
	local ns
	[ -e "/sys/class/net/$1" ] && return 0
	for ns in $(ip netns list | awk '{ print $1 }'); do
		ip -n "$ns" link show "$1" >/dev/null 2>&1 && echo "-n $ns" && return 0
	done
}

# The PCI address of VF N of PF (its virtfnN link).
sriov_vf_bdf() { basename "$(readlink "$(sriov_pf_dev "$1")/virtfn$2")"; }

# The driver a PCI function is bound to ("" for none).
sriov_vf_driver() {
	local l
	l=$(readlink "/sys/bus/pci/devices/$1/driver" 2>/dev/null) || { echo; return 0; }
	basename "$l"
}

# Binds a VF to vfio-pci by hand, as an operator (or libvirt's managed hostdev) would before
# starting a guest with it.
sriov_vf_bind_vfio() {
	local bdf=$1 drv
	drv=$(sriov_vf_driver "$bdf")
	[ "$drv" = vfio-pci ] && return 0
	echo vfio-pci >"/sys/bus/pci/devices/$bdf/driver_override"
	[ -n "$drv" ] && echo "$bdf" >"/sys/bus/pci/drivers/$drv/unbind"
	echo "$bdf" >/sys/bus/pci/drivers_probe
	[ "$(sriov_vf_driver "$bdf")" = vfio-pci ] || lab_die "$bdf did not bind to vfio-pci"
}

# Gives a VF back to its net driver (igbvf), as the operator would after a guest without it.
sriov_vf_unbind_vfio() {
	local bdf=$1
	echo >"/sys/bus/pci/devices/$bdf/driver_override"
	[ "$(sriov_vf_driver "$bdf")" = vfio-pci ] && echo "$bdf" >/sys/bus/pci/drivers/vfio-pci/unbind
	echo "$bdf" >/sys/bus/pci/drivers_probe
}

# "MAC VLAN" of VF N as its PF reports it (ip -j link show PF).
sriov_vf_mac() {
	# shellcheck disable=SC2046
	ip $(sriov_pf_ip "$1") -j -d link show "$1" | jq -r --argjson n "$2" '.[0].vfinfo_list[] | select(.vf == $n) | "\(.address) \(.vlan_list[0].vlan // 0)"'
}

# One line per VF of PF: "BDF DRIVER OVERRIDE MAC VLAN MARKER", for before/after comparisons
# (MARKER: the pool's reservation file under STATE, "-" when there is none).
sriov_state() {
	local pf=$1 state=${2:-$LAB_DIR/state} n bdf ovr
	for n in $(seq 0 $(($(cat "$(sriov_pf_dev "$pf")/sriov_numvfs") - 1))); do
		bdf=$(sriov_vf_bdf "$pf" "$n")
		ovr=$(cat "/sys/bus/pci/devices/$bdf/driver_override")
		echo "$bdf $(sriov_vf_driver "$bdf") ${ovr:-(null)} $(sriov_vf_mac "$pf" "$n") $([ -e "$state/vfpool/$bdf" ] && echo marked || echo -)"
	done
}

# vfpool-call on the L1's PFs with the run's state dir.
sriov_pool() {
	"$VFM_BUILDDIR/tools/vfpool-call" --state-dir "$LAB_DIR/state" --timeout 20000 "$@"
}

# Writes $LAB_DIR/g0.conf for vfmigrate's QMP backend: guest 0 on host FROM with VF VF_HOST of
# PF_FROM, going to host TO whose pool is PF_TO (VFs plugged at root port rp1). Timeouts are
# the nested lab's (the product's defaults are for real hosts).
# Usage: sriov_conf FROM PF_FROM VF_HOST TO PF_TO
sriov_conf() {
	local from=$1 pf_from=$2 vfhost=$3 to=$4 pf_to=$5 to_ip=$LAB_MIG_DST
	[ "$to" = src ] && to_ip=$LAB_MIG_SRC
	cat >"$LAB_DIR/g0.conf" <<EOC
[guest]
bond = bond0
backup-mac = $LAB_MAC_VIRTIO
vf-mac = $LAB_MAC_VF
[source]
qmp = $LAB_DIR/g0-$from.qmp
agent = $LAB_DIR/g0-$from.agent
vf-device = vf0
vf-bus = rp1
vf-host = $vfhost
vf-pool = sysfs:$pf_from
[destination]
qmp = $LAB_DIR/g0-$to.qmp
agent = $LAB_DIR/g0-$to.agent
vf-pool = sysfs:$pf_to:rp1
migrate-uri = tcp:$to_ip:$LAB_MIG_PORT
incoming = defer
[timeouts]
command = 60s
unplug = 60s
link = 90s
alive = 180s
migrate = 300s
EOC
}

# Inside the L1, for a libvirt scenario (lib-libvirt.sh sourced): the run's state dir and
# libvirt's caches in the run, the lab's namespaces up with the uplink in src's bridge, and
# each host's PF and its VFs' netdevs in that host's namespace, as on a compute node: its
# libvirtd sets VF MACs over rtnetlink and reads the VFs in sysfs, where `ip netns exec` shows
# only the namespace's own netdevs (libvirt 9.0 refuses a VF whose net/ it cannot read).
sriov_lv_hosts_up() {
	local pf ns n nd
	mkdir -p "$LAB_DIR/state"
	# The lab cache is a read-only share here: the daemons' capability caches live in the run.
	LV_CACHE_ROOT=$LAB_DIR/lv-cache
	LV_LOG_LEVEL=${LV_LOG_LEVEL:-2}
	lv_require
	lab_net_up
	ip link set uplink netns "$NS_SRC"
	ip -n "$NS_SRC" link set uplink master br0 up
	for pf in pf0 pf1; do
		ns=$NS_SRC
		[ $pf = pf1 ] && ns=$NS_DST
		for n in $(seq 0 $((SRIOV_NUMVFS - 1))); do
			for nd in "/sys/bus/pci/devices/$(sriov_vf_bdf "$pf" "$n")/net/"*; do
				[ -e "$nd" ] && ip link set "${nd##*/}" netns "$ns"
			done
		done
		ip link set "$pf" netns "$ns"
		ip -n "$ns" link set "$pf" up
	done
}
