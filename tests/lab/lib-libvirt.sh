# shellcheck shell=bash
# The lab with libvirt: one `libvirtd --listen` per lab host, inside that host's network
# namespace and in its own mount namespace, with private run/lib/etc/log/cache directories
# bind-mounted over libvirt's (the capability cache persists in $VFM_LAB_CACHE so a fresh
# daemon does not spend ~7 s probing QEMU on the first migration). Source lib.sh first.
#
#   lv_daemon_start SIDE      start (idempotent) libvirtd for src|dst; sets nothing global
#   lv_uri SIDE               the daemon's URI for tools in the root namespace (unix socket)
#   lv_virsh SIDE ARGS...     virsh against it
#   lv_domain_xml [--no-vf]   guest LV_DOMAIN (default g0) as a libvirt domain: the kernel,
#                             MACs, taps and address of the QMP lab's guest (lab_as K: guest
#                             K's, with LV_DOMAIN=gK), its console in $LAB_DIR/LV_DOMAIN.console
#   lv_guest_define_start SIDE [--no-vf]
#   lv_wait_ready             until the guest printed VFM-READY (console file, both hosts append)
#   lv_qga SIDE JSON / lv_guest_exec SIDE PATH ARGS... / lv_bond_state SIDE / lv_wait_vf_active
#   lv_vfm CMD ARGS...        vfmigrate with -c (the guest's current host) and the path map
#   lv_vfm_nodest CMD ARGS... the same without DEST (recover/status: from the journal)
#
# The daemons' TCP listeners (no auth) exist only on the lab's migration link, inside the
# run's namespaces. Cleanup is lab_cleanup's: it kills every process of the run's namespaces
# (libvirtd and its QEMUs) and removes $LAB_DIR.

LV_DOMAIN=g0

lv_require() {
	command -v libvirtd >/dev/null || [ -x /usr/sbin/libvirtd ] || lab_skip "libvirtd is not installed"
	command -v virsh >/dev/null || lab_skip "virsh is not installed"
	[ -x "$VFM_BUILDDIR/src/cli/vfmigrate" ] || lab_skip "vfmigrate not built"
}

lv_dir() { echo "$LAB_DIR/lv-$1"; }
lv_uri() { echo "qemu+unix:///system?socket=$(lv_dir "$1")/run/libvirt-sock"; }
lv_addr() {
	case "$1" in
	src) echo "$LAB_MIG_SRC" ;;
	dst) echo "$LAB_MIG_DST" ;;
	esac
}
lv_virsh() {
	local side=$1
	shift
	virsh -q -c "$(lv_uri "$side")" "$@"
}

lv_daemon_start() {
	local side=$1 dir ns addr uuid cache
	dir=$(lv_dir "$side")
	ns=$(lab_ns_of "$side")
	addr=$(lv_addr "$side")
	if [ -f "$dir/libvirtd.pid" ] && kill -0 "$(cat "$dir/libvirtd.pid")" 2>/dev/null &&
		lv_virsh "$side" version >/dev/null 2>&1; then
		return 0
	fi
	# LV_CACHE_ROOT: where the capability caches live (the L1 host's lab cache is read-only).
	cache=${LV_CACHE_ROOT:-$VFM_LAB_CACHE}/libvirt-cache/$side
	# LAB_QEMU=bpo: in the daemon's mount namespace QEMU 10 is the system's QEMU (binary,
	# modules, firmware), as on a host with QEMU 10 installed; its own capability cache.
	local p qemu=()
	if [ "$LAB_QEMU" = bpo ]; then
		for p in /usr/bin/qemu-system-x86_64 /usr/lib/x86_64-linux-gnu/qemu /usr/share/qemu /usr/share/seabios; do
			qemu+=("$LAB_QEMU10_ROOT$p" "$p")
		done
		cache=${LV_CACHE_ROOT:-$VFM_LAB_CACHE}/libvirt-cache-bpo/$side
	fi
	mkdir -p "$dir"/{run,lib,etc,log} "$cache"
	# Distinct per side, not all one digit (libvirt rejects those).
	case "$side" in
	src) uuid=5f0c6a1e-7b1d-4c1a-9e7e-3a1b2c3d4e01 ;;
	dst) uuid=5f0c6a1e-7b1d-4c1a-9e7e-3a1b2c3d4e02 ;;
	esac
	cat >"$dir/etc/libvirtd.conf" <<-EOF
		host_uuid = "$uuid"
		listen_tls = 0
		listen_tcp = 1
		listen_addr = "$addr"
		auth_tcp = "none"
		auth_unix_rw = "none"
		auth_unix_ro = "none"
		unix_sock_group = "root"
		log_outputs = "${LV_LOG_LEVEL:-3}:file:/var/log/libvirt/libvirtd.log"
	EOF
	cat >"$dir/etc/qemu.conf" <<-EOF
		user = "root"
		group = "root"
		security_driver = "none"
		cgroup_controllers = [ ]
		namespaces = [ ]
		stdio_handler = "file"
		dynamic_ownership = 0
		remember_owner = 0
		migration_address = "$addr"
		migration_host = "$addr"
	EOF
	cp /etc/passwd "$dir/passwd"
	cp /etc/group "$dir/group" 2>/dev/null || echo 'root:x:0:' >"$dir/group"
	grep -q '^libvirt-qemu:' "$dir/passwd" || echo 'libvirt-qemu:x:64055:64055::/var/lib/libvirt:/usr/sbin/nologin' >>"$dir/passwd"
	grep -q '^libvirt-qemu:' "$dir/group" || echo 'libvirt-qemu:x:64055:' >>"$dir/group"
	grep -q '^kvm:' "$dir/group" || echo 'kvm:x:64056:' >>"$dir/group"
	grep -q '^libvirt:' "$dir/group" || echo 'libvirt:x:64057:' >>"$dir/group"
	ip netns exec "$ns" unshare -m --propagation private sh -c '
		d=$1 c=$2
		shift 2
		while [ $# -ge 2 ]; do
			mount --bind "$1" "$2" || exit 1
			shift 2
		done
		# Mount points (empty; the daemon packages would have made them).
		mkdir -p /run/libvirt /var/lib/libvirt /var/log/libvirt /var/cache/libvirt /etc/libvirt || exit 1
		mount --bind "$d/run" /run/libvirt || exit 1
		mount --bind "$d/lib" /var/lib/libvirt || exit 1
		mount --bind "$d/etc" /etc/libvirt || exit 1
		mount --bind "$d/log" /var/log/libvirt || exit 1
		mount --bind "$c" /var/cache/libvirt || exit 1
		# The qemu driver resolves its build-time user/group (Debian: libvirt-qemu, kvm)
		# before it reads qemu.conf; give this namespace private copies that have them.
		mount --bind "$d/passwd" /etc/passwd || exit 1
		mount --bind "$d/group" /etc/group || exit 1
		exec libvirtd --listen -f /etc/libvirt/libvirtd.conf -p "$d/libvirtd.pid"
	' lv "$dir" "$cache" "${qemu[@]}" >"$dir/libvirtd.out" 2>&1 &
	echo $! >"$dir/launcher.pid"
	local i
	for i in $(seq 100); do
		[ -S "$dir/run/libvirt-sock" ] && lv_virsh "$side" version >/dev/null 2>&1 && return 0
		kill -0 "$(cat "$dir/launcher.pid")" 2>/dev/null || lab_die "libvirtd on $side exited: $(tail -5 "$dir/libvirtd.out")"
		sleep 0.1
	done
	lab_die "libvirtd on $side did not come up: $(tail -5 "$dir/libvirtd.out")"
}

# Stops libvirtd on SIDE (its QEMUs keep running, as with a real daemon restart).
lv_daemon_stop() {
	local dir pid
	dir=$(lv_dir "$1")
	pid=$(cat "$dir/libvirtd.pid" 2>/dev/null) || return 0
	kill "$pid" 2>/dev/null
	lab_wait_exit "$pid" || kill -9 "$pid" 2>/dev/null
	rm -f "$dir/libvirtd.pid"
}

# One emulated NIC on a tap of the lab: <interface type='ethernet'>.
# Usage: _lv_nic MAC TAP MODEL ALIAS
_lv_nic() {
	cat <<-EOF
		    <interface type='ethernet'>
		      <mac address='$1'/>
		      <target dev='$2' managed='no'/>
		      <model type='$3'/>
		      <rom enabled='no'/>
		      <alias name='$4'/>
		    </interface>
	EOF
}

# Options: --no-vf (virtio only), --no-agent-channel (no org.vfmigrate.agent.0: vfmigrate
# falls back to the stock qemu-ga through libvirt), --vf-hostdev BDF (the VF is a real one, a
# bare PCI <hostdev managed='no'> whose MAC the host set on its PF), --vf-network NAME (a real
# VF from a <forward mode='hostdev'> network), --failover BDF (libvirt's failover: the virtio
# NIC ua-net0 with <teaming type='persistent'/>, the real VF BDF an <interface type='hostdev'
# managed='yes'> ua-vf0 with <teaming type='transient' persistent='ua-net0'/>, both on the
# virtio MAC; no bond: the guest kernel's net_failover pairs them). LAB_GUEST_APPEND and
# LAB_GUEST_MEM as for lab_guest_start.
lv_domain_xml() {
	local vf=1 agentch=1 vfxml= fo=0
	while [ $# -gt 0 ]; do
		case "$1" in
		--no-vf) vf=0 ;;
		--no-agent-channel) agentch=0 ;;
		--vf-hostdev)
			local a=(${2//[:.]/ })
			vfxml="<hostdev mode='subsystem' type='pci' managed='no'><source><address domain='0x${a[0]}' bus='0x${a[1]}' slot='0x${a[2]}' function='0x${a[3]}'/></source><alias name='ua-vf0'/></hostdev>"
			shift
			;;
		--failover)
			local a=(${2//[:.]/ })
			fo=1
			vfxml="<interface type='hostdev' managed='yes'><mac address='$LAB_MAC_VIRTIO'/><source><address type='pci' domain='0x${a[0]}' bus='0x${a[1]}' slot='0x${a[2]}' function='0x${a[3]}'/></source><teaming type='transient' persistent='ua-net0'/><rom bar='off'/><alias name='ua-vf0'/></interface>"
			shift
			;;
		--vf-network)
			vfxml="<interface type='network'><mac address='$LAB_MAC_VF'/><source network='$2'/><alias name='ua-vf0'/></interface>"
			shift
			;;
		*) lab_die "lv_domain_xml: unknown option $1" ;;
		esac
		shift
	done
	local append="console=ttyS0 panic=-1 quiet vfm.backup=$LAB_MAC_VIRTIO vfm.ip=$LAB_GUEST_IP/24"
	[ $vf = 1 ] && [ $fo = 0 ] && append+=" vfm.vf=$LAB_MAC_VF vfm.bond=bond0"
	[ $vf = 1 ] && [ -n "${LAB_VF2:-}" ] &&
		append+=" vfm.vf2=$LAB_MAC_VF2 vfm.backup2=$LAB_MAC_VIRTIO2 vfm.bond2=bond1 vfm.ip2=$LAB_GUEST_IP2/24"
	[ -n "${LAB_GUEST_APPEND:-}" ] && append+=" $LAB_GUEST_APPEND"
	cat <<-EOF
		<domain type='qemu'>
		  <name>$LV_DOMAIN</name>
		  <memory unit='MiB'>${LAB_GUEST_MEM:-256}</memory>
		  <vcpu>1</vcpu>
		  <os>
		    <type arch='x86_64' machine='q35'>hvm</type>
		    <kernel>$LAB_VMLINUZ</kernel>
		    <initrd>$LAB_INITRD</initrd>
		    <cmdline>$append</cmdline>
		  </os>
		  <features><acpi/><apic/></features>
		  <on_poweroff>destroy</on_poweroff>
		  <on_reboot>restart</on_reboot>
		  <on_crash>destroy</on_crash>
		  <devices>
		    <emulator>$(command -v qemu-system-x86_64)</emulator>
		    <controller type='usb' model='none'/>
		    <controller type='pci' index='0' model='pcie-root'/>
		    <controller type='pci' index='1' model='pcie-root-port'/>
		    <controller type='pci' index='2' model='pcie-root-port'/>
		    <controller type='pci' index='3' model='pcie-root-port'/>
		    <controller type='pci' index='4' model='pcie-root-port'/>
		    <controller type='pci' index='5' model='pcie-root-port'/>
		    <controller type='pci' index='6' model='pcie-root-port'/>
	EOF
	if [ $fo = 1 ]; then
		_lv_nic "$LAB_MAC_VIRTIO" "${LAB_TAP_V:-v0}" virtio ua-net0 | sed "s|<rom enabled='no'/>|&<teaming type='persistent'/>|"
	else
		_lv_nic "$LAB_MAC_VIRTIO" "${LAB_TAP_V:-v0}" virtio ua-net0
	fi
	[ $vf = 1 ] && [ -n "$vfxml" ] && echo "    $vfxml"
	[ $vf = 1 ] && [ -z "$vfxml" ] && _lv_nic "$LAB_MAC_VF" "${LAB_TAP_F:-f0}" e1000e ua-vf0
	# LAB_VF2=1 (lib.sh): a second virtio NIC (tap lab_tap_v2, v0b) and VF (e1000e on tap
	# lab_tap_f2, f0b; alias ua-vf1).
	[ -n "${LAB_VF2:-}" ] && _lv_nic "$LAB_MAC_VIRTIO2" "$(lab_tap_v2)" virtio ua-net1
	[ $vf = 1 ] && [ -n "${LAB_VF2:-}" ] && _lv_nic "$LAB_MAC_VF2" "$(lab_tap_f2)" e1000e ua-vf1
	cat <<-EOF
		    <serial type='file'>
		      <source path='$LAB_DIR/$LV_DOMAIN.console' append='on'/>
		      <target port='0'/>
		    </serial>
	EOF
	[ $agentch = 1 ] && cat <<-EOF
		    <channel type='unix'>
		      <source mode='bind'/>
		      <target type='virtio' name='org.vfmigrate.agent.0'/>
		    </channel>
	EOF
	cat <<-EOF
		    <channel type='unix'>
		      <source mode='bind'/>
		      <target type='virtio' name='org.qemu.guest_agent.0'/>
		    </channel>
		    <memballoon model='none'/>
		  </devices>
		</domain>
	EOF
}

lv_guest_define_start() {
	local side=$1
	shift
	lv_domain_xml "$@" >"$LAB_DIR/$LV_DOMAIN.xml"
	lv_virsh "$side" define "$LAB_DIR/$LV_DOMAIN.xml" >/dev/null || lab_die "virsh define failed"
	lv_virsh "$side" start "$LV_DOMAIN" >/dev/null || lab_die "virsh start failed"
}

# Waits for the N-th VFM-READY on the console (default 1).
lv_wait_ready() {
	local secs=${1:-90} i
	for i in $(seq $((secs * 10))); do
		grep -q VFM-READY "$LAB_DIR/$LV_DOMAIN.console" 2>/dev/null && return 0
		sleep 0.1
	done
	tail -20 "$LAB_DIR/$LV_DOMAIN.console" >&2
	lab_die "guest not ready after ${secs}s"
}

lv_qga() { lv_virsh "$1" qemu-agent-command --timeout 10 "$LV_DOMAIN" "$2"; }

lv_qga_wait() {
	local side=$1 secs=${2:-60} i
	for i in $(seq "$secs"); do
		lv_qga "$side" '{"execute":"guest-ping"}' >/dev/null 2>&1 && return 0
		sleep 1
	done
	lab_die "qemu-ga on $side does not answer through libvirt"
}

# Runs a command in the guest through the stock qemu-ga via libvirt; prints its stdout.
# qemu-ga through libvirt (virsh qemu-agent-command), as lab_guest_exec_via wants it.
_lv_qga_return() { lv_qga "$1" "{\"execute\":\"$2\",\"arguments\":$3}" | jq -ce .return; }
lv_guest_exec() { lab_guest_exec_via _lv_qga_return "$@"; }

# "ACTIVE_MAC SLAVE_COUNT" of bond0 on SIDE, and waiting for the VF to be active (lib.sh),
# read through this lab's qemu-ga sockets.
lv_bond_state() { lab_bond_state "$1" lv_guest_exec; }
lv_wait_vf_active() { lab_wait_vf_active "$1" "${2:-30}" lv_guest_exec; }

# The whole libvirt lab of a test: run NAME, image, namespaces, a libvirtd per host, guest 0
# defined and started on src (ARGS for lv_guest_define_start), up with the VF active in its
# bond and reachable. Usage: lv_lab_up NAME [ARGS...]
lv_lab_up() {
	local name=$1
	shift
	lab_init "$name"
	lab_image
	lab_net_up
	lv_daemon_start src
	lv_daemon_start dst
	lab_log "libvirt: $(lv_virsh src version | grep -E '^(Using library|Running hypervisor)' | sed 's/.*: //' | tr '\n' ' ')"
	lv_guest_define_start src "$@"
	lv_wait_ready
	lv_qga_wait src
	lv_wait_vf_active src 30 || lab_die "VF not active at start"
	lab_wait_reachable
}

# Writes the guest's vfmigrate metadata through the daemon on SIDE (default src).
lv_setup_meta() {
	"$VFM_BUILDDIR/src/cli/vfmigrate" -c "$(lv_uri "${1:-src}")" setup "$LV_DOMAIN" --bond bond0 \
		--vf-alias ua-vf0 --vf-source ethernet:f0:e1000e >&2 || lab_die "vfmigrate setup failed"
}

# vfmigrate with the libvirt backend. Usage: lv_vfm FROM CMD [ARGS...]; the destination URI
# (the other side) is added for migrate/check/recover/status, unless LV_VFM_NODEST is set.
lv_vfm() {
	local from=$1 cmd=$2 to dest=()
	shift 2
	case "$from" in src) to=dst ;; dst) to=src ;; esac
	[ -n "${LV_VFM_NODEST:-}" ] || dest=("$(lv_uri "$to")")
	"$VFM_BUILDDIR/src/cli/vfmigrate" -c "$(lv_uri "$from")" -s "$LAB_DIR/state" \
		--src-path-map "/var/lib/libvirt=$(lv_dir "$from")/lib" \
		--dst-path-map "/var/lib/libvirt=$(lv_dir "$to")/lib" \
		--migrate-uri "tcp://$(lv_addr "$to")" "$@" "$cmd" "$LV_DOMAIN" "${dest[@]}"
}

# lv_vfm without the DEST argument: recover and status take the destination from the journal.
# Usage: lv_vfm_nodest FROM CMD [ARGS...]
lv_vfm_nodest() { LV_VFM_NODEST=1 lv_vfm "$@"; }

# A plain libvirt migration (what virsh users do): live, persistent, source undefined.
lv_migrate_plain() {
	local from=$1 to=$2
	lv_virsh "$from" migrate --live --persistent --undefinesource "$LV_DOMAIN" "$(lv_uri "$to")" \
		"tcp://$(lv_addr "$to")" || lab_die "virsh migrate $from -> $to failed"
	lv_virsh "$to" domjobinfo --completed "$LV_DOMAIN" >"$LAB_DIR/plain-jobinfo.txt" 2>&1 || true
}

# lv_vfm in the background: its own pid in LV_VFM_PID (so a test can SIGKILL vfmigrate itself).
# Usage: lv_vfm_bg OUT FROM CMD [ARGS...]
lv_vfm_bg() {
	local out=$1 from=$2 cmd=$3 to
	shift 3
	case "$from" in src) to=dst ;; dst) to=src ;; esac
	"$VFM_BUILDDIR/src/cli/vfmigrate" -c "$(lv_uri "$from")" -s "$LAB_DIR/state" \
		--src-path-map "/var/lib/libvirt=$(lv_dir "$from")/lib" \
		--dst-path-map "/var/lib/libvirt=$(lv_dir "$to")/lib" \
		--migrate-uri "tcp://$(lv_addr "$to")" "$@" "$cmd" "$LV_DOMAIN" "$(lv_uri "$to")" >"$out" 2>&1 &
	LV_VFM_PID=$!
}
