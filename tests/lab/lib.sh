# shellcheck shell=bash
# The vfmigrate lab: two "hosts" (network namespaces with a bridge each, joined by a veth as a
# shared L2 network), a client namespace on that network, a separate link for migration
# traffic, and QEMU guests (TCG) booted from Debian's kernel with a busybox initramfs that
# carries vfmigrate-agent and the stock qemu-ga.
#
# Source it, then:
#   lab_init NAME          unique run id, lock, trap cleanup; sets LAB_DIR, NS_SRC, NS_DST, NS_CLI
#   lab_image              kernel + initramfs (cached by content); sets LAB_VMLINUZ, LAB_INITRD
#   lab_net_up             the namespaces, bridges, veths and taps of this run
#   lab_guest_start SIDE [--incoming] [--no-vf] [--no-bond] [--no-agent] [--failover]
#                          QEMU for guest 0 on host SIDE (src|dst); sockets in $LAB_DIR:
#                          g0-SIDE.qmp, g0-SIDE.agent (vfmigrate-agent), g0-SIDE.qga (qemu-ga)
#   lab_guest_wait_ready SIDE [SECONDS]   until the guest's init printed VFM-READY
#   lab_qmp SIDE CMD [JSON]  / lab_agent SIDE CMD [JSON] / lab_qga SIDE CMD [JSON]
#   lab_probe_start [ARGS] / lab_probe_stop      vfprobe from the client to the guest (JSON in
#                          $LAB_DIR/probe.json; LAB_PROBE=NAME: a second one, in NAME.json)
#   lab_cleanup            kill this run's QEMUs and probes, delete its namespaces and files
#   lab_leftovers          prints what of this run still exists (empty when clean)
#
# Knobs for experiments: LAB_ACCEL (QEMU -accel, default tcg), LAB_VIRTIO_OPTS (appended to
# the virtio-net device, e.g. ",tx=timer"), LAB_KEEP=1 (keep the run for a look),
# LAB_QEMU=bpo (the default: the guests run on QEMU 10 from bookworm-backports, unpacked into
# the lab cache by lab_qemu_bpo; the libvirt lab's too, mounted over the system's QEMU in
# libvirtd's namespace) or system (the system's qemu-system-x86_64, Debian 12's 7.2).
# The SR-IOV lab (lib-sriov.sh) sets LAB_VF_HOST (a host VF's PCI address: the guest's VF is
# that VF through vfio-pci instead of an e1000e), LAB_GUEST_APPEND (more kernel command line,
# e.g. "vfm.fom=active") and LAB_GUEST_MEM (MiB, default 256).
#
# Addresses exist only inside this run's namespaces and no namespace has a route out.
# Runs serialize on /tmp/vfm-lab.lock (VFM_LAB_LOCK): the machine has 2 cores and TCG guests are heavy.

LAB_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
: "${VFM_BUILDDIR:=$LAB_TOP/build}"
case "$VFM_BUILDDIR" in /*) ;; *) VFM_BUILDDIR=$LAB_TOP/$VFM_BUILDDIR ;; esac
: "${VFM_LAB_CACHE:=/var/tmp/vfmigrate-lab}"
# The lab's guests run on QEMU 10 from bookworm-backports by default (bpo): Debian 12's own 7.2
# (system) delivers migrated TCG guests dead now and then (bench/dead-arrival), so only a 7.2
# run retries a test after a dead arrival; scripts/check runs the lab on 7.2 too.
: "${LAB_QEMU:=bpo}"
LAB_PREFIX=vfml

# The lab's fixed plan (inside the run's namespaces only).
LAB_NET=10.77.0
LAB_GUEST_IP=$LAB_NET.10
LAB_CLIENT_IP=$LAB_NET.1
LAB_MIG_SRC=10.78.0.1
LAB_MIG_DST=10.78.0.2
LAB_MAC_VIRTIO=52:54:00:77:00:10
LAB_MAC_VF=52:54:00:77:01:10
LAB_MIG_PORT=4444
# The second VF and bond of a guest with two (LAB_VF2=1), on a subnet of its own. Its taps are
# named after the guest's own (LAB_TAP_V2, LAB_TAP_F2: guest 0's v0b and f0b, guest K's vKb
# and fKb under lab_as), so a guest with two VFs can run beside other guests.
LAB_NET2=10.79.0
LAB_GUEST_IP2=$LAB_NET2.10
LAB_CLIENT_IP2=$LAB_NET2.1
LAB_MAC_VIRTIO2=52:54:00:77:00:20
LAB_MAC_VF2=52:54:00:77:01:20

lab_log() { printf '[%s] %s\n' "$(date +%H:%M:%S.%3N)" "$*" >&2; }
lab_die() {
	lab_log "FAIL: $*"
	exit 1
}
lab_skip() {
	echo "skip: $*"
	exit 77
}

# A lab run needs root (namespaces, taps) and QEMU.
lab_require() {
	[ "$(id -u)" = 0 ] || lab_skip "lab tests need root"
	command -v qemu-system-x86_64 >/dev/null || lab_skip "qemu-system-x86_64 is not installed"
	[ -c /dev/net/tun ] || lab_skip "no /dev/net/tun"
	case "$LAB_QEMU" in
	system | bpo) ;;
	*) lab_die "LAB_QEMU=$LAB_QEMU: bpo (QEMU 10, the default) or system (Debian 12's 7.2)" ;;
	esac
}

# Sets LAB_QEMU_CMD, the command that runs the lab's guests (with LAB_QEMU=bpo QEMU 10 and its
# -L options, else the system's qemu-system-x86_64), and logs its version.
lab_qemu_select() {
	if [ "$LAB_QEMU" = bpo ]; then
		lab_qemu_bpo
		# shellcheck disable=SC2206 # LAB_QEMU10_L is "-L DIR -L DIR", no spaces in DIR
		LAB_QEMU_CMD=("$LAB_QEMU10" $LAB_QEMU10_L)
	else
		LAB_QEMU_CMD=("$(command -v qemu-system-x86_64)")
	fi
	lab_log "guests run on $("${LAB_QEMU_CMD[0]}" --version | head -n 1)"
}

lab_init() {
	lab_require
	local name=${1:-run}
	lab_lock
	lab_gc
	LAB_RUN=$LAB_PREFIX-$name-$$-$(printf %04x $((RANDOM)))
	LAB_DIR=/tmp/$LAB_RUN
	NS_SRC=$LAB_RUN-src
	NS_DST=$LAB_RUN-dst
	NS_CLI=$LAB_RUN-cli
	mkdir -p "$LAB_DIR"
	echo $$ >"$LAB_DIR/owner"
	trap 'lab_on_exit $?' EXIT
	trap 'exit 130' INT TERM
	lab_log "lab run $LAB_RUN in $LAB_DIR"
	lab_qemu_select
}

# Takes the lab lock for this shell. The lock is held by a small holder process (flock -o:
# nothing it starts holds the lock), never by this shell's file descriptors, so no QEMU or
# daemon the run starts can inherit it and keep it after the run. The holder lets go when this
# shell exits (also on SIGKILL) or lab_unlock is called.
lab_lock() {
	local flag i
	flag=$(mktemp -u ${VFM_LAB_LOCK:-/tmp/vfm-lab.lock}.XXXXXX)
	LAB_LOCK_FLAG=$flag
	flock -o ${VFM_LAB_LOCK:-/tmp/vfm-lab.lock} sh -c \
		'touch "$0"; while kill -0 "$1" 2>/dev/null && [ ! -e "$0.release" ]; do sleep 0.2; done; rm -f "$0" "$0.release"' \
		"$flag" $$ </dev/null >/dev/null 2>&1 &
	LAB_LOCK_PID=$!
	for i in $(seq 36000); do
		[ -e "$flag" ] && return 0
		kill -0 "$LAB_LOCK_PID" 2>/dev/null || lab_die "could not take the lab lock"
		[ $((i % 300)) = 0 ] && lab_log "waiting for the lab lock (another lab run is going on)"
		sleep 0.1
	done
	lab_die "the lab lock was not free within an hour"
}

lab_unlock() {
	[ -n "${LAB_LOCK_FLAG:-}" ] || return 0
	touch "$LAB_LOCK_FLAG.release"
	LAB_LOCK_FLAG=
}

# Removes what earlier runs left behind when their owner is gone (killed runs).
lab_gc() {
	local -
	set +e
	local d owner ns
	for d in /tmp/$LAB_PREFIX-*; do
		[ -d "$d" ] || continue
		owner=$(cat "$d/owner" 2>/dev/null)
		[ -n "$owner" ] && kill -0 "$owner" 2>/dev/null && continue
		lab_log "removing leftovers of $(basename "$d")"
		_lab_teardown "$(basename "$d")"
	done
	for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$LAB_PREFIX-"); do
		d=/tmp/${ns%-*}
		[ -d "$d" ] && continue
		_lab_kill_ns "$ns"
		ip netns del "$ns" 2>/dev/null
	done
}

_lab_kill_ns() {
	local -
	set +e
	local pids
	pids=$(ip netns pids "$1" 2>/dev/null)
	[ -n "$pids" ] || return 0
	kill $pids 2>/dev/null
	for _ in $(seq 50); do
		pids=$(ip netns pids "$1" 2>/dev/null)
		[ -z "$pids" ] && return 0
		sleep 0.1
	done
	kill -9 $pids 2>/dev/null
	sleep 0.2
}

_lab_teardown() {
	local -
	set +e
	local run=$1 ns f
	for f in /tmp/"$run"/*.pid; do
		[ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null
	done
	for ns in "$run-cli" "$run-src" "$run-dst"; do
		ip netns list 2>/dev/null | grep -qw "^$ns" || continue
		_lab_kill_ns "$ns"
		ip netns del "$ns" 2>/dev/null
	done
	rm -rf "/tmp/$run"
}

lab_cleanup() {
	local -
	set +e
	[ -n "${LAB_RUN:-}" ] || return 0
	if [ -n "${LAB_KEEP:-}" ]; then
		lab_log "LAB_KEEP set: leaving $LAB_RUN"
	else
		_lab_teardown "$LAB_RUN"
	fi
	lab_unlock
}

# On a failed run, prints what helps to see why (guest consoles and agent logs), then cleans up.
# What the guest kernel prints when QEMU 7.2/TCG delivered it with corrupt memory after a
# migration (see lab_guest_corrupt).
# The oops form (a general protection fault in virtio_net's receive path, then a panic: with
# panic=-1 the guest reboots and answers again, a new boot) was seen by bench/dead-arrival.
LAB_CORRUPTION_RE='is not a head!|BUG: scheduling while atomic|general protection fault|Kernel panic'

# How vfmigrate reports that QEMU said "completed" and the guest is silent on the destination:
# the error code dead-arrival, in --json ("code": "dead-arrival") and in the text report
# ("  error: dead-arrival (in migrate)"). Its prose may change; the code does not.
LAB_DEAD_ARRIVAL_RE='"code": "dead-arrival"|  error: dead-arrival \(in migrate\)'

# Succeeds if this run shows the memory corruption that QEMU 7.2 under TCG leaves in a
# migrated guest now and then (a virtio ring or the kernel's own data wrong on the destination
# although QEMU said "completed"; rare at the default downtime-limit, 4 of 5 plain migrations
# with traffic at downtime-limit 1): the guest kernel's words on a console, or, when it
# died without a word, vfmigrate's report of a silent guest in a file of the run. Prints the
# line it found.
lab_guest_corrupt() {
	grep -hE -m 1 "$LAB_CORRUPTION_RE" "$LAB_DIR"/*.console 2>/dev/null ||
		{ grep -rqIsE -D skip "$LAB_DEAD_ARRIVAL_RE" "$LAB_DIR" 2>/dev/null &&
			echo "vfmigrate: dead-arrival (the guest did not answer on the destination)"; }
}

# A failed run whose guest came back from a migration with corrupt memory exits with
# LAB_EXIT_CORRUPT: tests/lab/run runs such a test again (up to twice) and says so.
LAB_EXIT_CORRUPT=75

lab_on_exit() {
	local rc=$1 f side line
	if [ "$rc" != 0 ] && [ "$rc" != 77 ] && [ -n "${LAB_DIR:-}" ] && [ -d "$LAB_DIR" ]; then
		for f in "$LAB_DIR"/*.console; do
			[ -f "$f" ] || continue
			echo "--- last lines of $f" >&2
			tail -n 15 "$f" >&2
		done
		for f in "$LAB_DIR"/lv-*/log/libvirtd.log "$LAB_DIR"/lv-*/libvirtd.out; do
			[ -s "$f" ] || continue
			echo "--- last lines of $f" >&2
			tail -n 15 "$f" >&2
		done
		for side in src dst; do
			[ -S "$LAB_DIR/${LAB_G:-g0}-$side.qga" ] || continue
			echo "--- vfmigrate-agent log in the guest on $side" >&2
			LAB_CALL_TIMEOUT=3000 lab_guest_exec "$side" /bin/tail -n 30 /tmp/vfmigrate-agent.log >&2 2>/dev/null || true
		done
		if [ "$LAB_QEMU" = system ] && line=$(lab_guest_corrupt); then
			echo "lab: a guest came back from a migration with corrupt memory (QEMU/TCG): $line" >&2
			lab_cleanup
			exit $LAB_EXIT_CORRUPT
		fi
	fi
	lab_cleanup
}

# Prints every namespace, QEMU process and file of this run that still exists.
lab_leftovers() {
	local -
	set +e
	ip netns list 2>/dev/null | awk '{print $1}' | grep -- "^$LAB_RUN-" | sed 's/^/netns /'
	pgrep -af -- "$LAB_DIR/" | sed 's/^/process /'
	[ -e "$LAB_DIR" ] && echo "dir $LAB_DIR"
	return 0
}

# ---------------------------------------------------------------------------------------
# Guest image

# Unpacks Debian's current kernel package (never installed on the host) into the cache.
lab_kernel() {
	local pkg dir
	pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/{print $2; exit}')
	if [ -z "$pkg" ]; then
		# apt lists may be missing on a fresh machine
		apt-get update -qq >/dev/null 2>&1
		pkg=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/{print $2; exit}')
	fi
	[ -n "$pkg" ] || lab_die "cannot resolve the kernel package behind linux-image-amd64"
	LAB_KVER=${pkg#linux-image-}
	dir=$VFM_LAB_CACHE/kernel/$LAB_KVER
	if [ ! -f "$dir/done" ]; then
		lab_log "fetching $pkg"
		rm -rf "$dir"
		mkdir -p "$dir/deb"
		chmod 777 "$dir/deb"
		(cd "$dir/deb" && apt-get download -q "$pkg" >/dev/null 2>&1) || lab_die "apt-get download $pkg failed"
		dpkg-deb --fsys-tarfile "$dir"/deb/*.deb |
			tar -x -C "$dir" --wildcards "./boot/vmlinuz-*" "./lib/modules/*" ||
			lab_die "unpacking $pkg failed"
		rm -rf "$dir/deb"
		depmod -b "$dir" "$LAB_KVER" || lab_die "depmod failed"
		touch "$dir/done"
	fi
	LAB_KDIR=$dir
	LAB_VMLINUZ=$dir/boot/vmlinuz-$LAB_KVER
}

# QEMU 10 from Debian 12's bookworm-backports (scripts/deps --bpo), unpacked into the cache
# beside the system's QEMU 7.2 (never installed over it). Sets LAB_QEMU10 (the binary) and
# LAB_QEMU10_L (its firmware directories, "-L DIR -L DIR": QEMU 10's data and the backports
# SeaBIOS, which QEMU finds by the name bios-256k.bin) and LAB_QEMU10_ROOT (the unpacked
# tree). Its loadable modules are not on QEMU's module path, so only runs without display or
# audio modules work: the lab's. Whatever loads every module (libvirt's capability probe)
# aborts on the system's 7.2 modules: the libvirt lab mounts the tree over the system's QEMU.
lab_qemu_bpo() {
	local ver dir p missing
	"$LAB_TOP/scripts/deps" --bpo >&2 || lab_die "cannot enable bookworm-backports"
	ver=$(apt-cache madison qemu-system-x86 | awk -F'|' '$3 ~ /bookworm-backports/ { gsub(/ /, "", $2); print $2; exit }')
	[ -n "$ver" ] || lab_die "bookworm-backports has no qemu-system-x86"
	dir=$VFM_LAB_CACHE/qemu-bpo/${ver//[:~+]/_}
	if [ ! -f "$dir/done" ]; then
		lab_log "fetching QEMU $ver from bookworm-backports"
		rm -rf "$dir"
		mkdir -p "$dir/deb"
		chmod 777 "$dir/deb"
		for p in qemu-system-x86 qemu-system-common qemu-system-data seabios; do
			(cd "$dir/deb" && apt-get download -q "$p/bookworm-backports" >/dev/null 2>&1) ||
				lab_die "apt-get download $p/bookworm-backports failed"
		done
		for p in "$dir"/deb/*.deb; do
			dpkg -x "$p" "$dir/root" || lab_die "unpacking $p failed"
		done
		rm -rf "$dir/deb"
		touch "$dir/done"
	fi
	LAB_QEMU10=$dir/root/usr/bin/qemu-system-x86_64
	LAB_QEMU10_L="-L $dir/root/usr/share/qemu -L $dir/root/usr/share/seabios"
	LAB_QEMU10_ROOT=$dir/root
	# Read whole (not `| grep -q`: under pipefail a grep that quits early fails the pipe).
	missing=$(ldd "$LAB_QEMU10" | grep 'not found' || true)
	[ -z "$missing" ] || lab_die "QEMU 10 lacks libraries: $missing"
	return 0
}

# Module files (relative to the kernel's module dir) needed for the listed modules, with deps.
_lab_module_closure() {
	local dep=$LAB_KDIR/lib/modules/$LAB_KVER/modules.dep
	awk -v want="$*" '
		BEGIN { n = split(want, w, " "); for (i = 1; i <= n; i++) todo[w[i]] = 1 }
		{ f = $1; sub(":$", "", f); m = f; sub(".*/", "", m); sub("\\.ko$", "", m); m2 = m
		  gsub("-", "_", m2); line[m2] = $0 }
		END {
			changed = 1
			while (changed) {
				changed = 0
				for (m in todo) {
					if (!(m in line)) continue
					k = split(line[m], p, " ")
					for (i = 1; i <= k; i++) {
						f = p[i]; sub(":$", "", f); print f > "/dev/stderr"
						d = f; sub(".*/", "", d); sub("\\.ko$", "", d); gsub("-", "_", d)
						if (!(d in todo)) { todo[d] = 1; changed = 1 }
					}
				}
			}
		}' "$dep" 2>&1 >/dev/null | sort -u
}

_lab_qga_bin() {
	local dir=$VFM_LAB_CACHE/qemu-ga
	if [ ! -x "$dir/usr/sbin/qemu-ga" ]; then
		rm -rf "$dir"
		mkdir -p "$dir/deb"
		chmod 777 "$dir/deb"
		(cd "$dir/deb" && apt-get download -q qemu-guest-agent >/dev/null 2>&1) || return 1
		dpkg -x "$dir"/deb/*.deb "$dir" || return 1
		rm -rf "$dir/deb"
	fi
	echo "$dir/usr/sbin/qemu-ga"
}

# Copies binary $1 to $2/$3 and every shared library it needs (with the loader) into $2.
_lab_copy_bin() {
	local bin=$1 root=$2 dest=$3 lib missing
	install -D -m 755 "$bin" "$root/$dest"
	missing=$(ldd "$bin" | grep 'not found' || true)
	[ -z "$missing" ] || lab_die "$bin: missing shared libraries: $missing"
	for lib in $(ldd "$bin" | grep -o '/[^ ]*'); do
		[ -e "$root$lib" ] || install -D -m 755 "$(readlink -f "$lib")" "$root$lib"
	done
}

# Succeeds when image FILE (named PREFIX-HASH.gz in the cache) is there, marking it used. Every
# build of ours makes a new image (~5 MB): the PREFIX images unused for a day go.
# Usage: _lab_cached FILE PREFIX
_lab_cached() {
	find "$VFM_LAB_CACHE" -maxdepth 1 -name "$2-*.gz" -mmin +1440 -delete 2>/dev/null
	[ -f "$1" ] && touch "$1"
}

# The base of an initramfs in STAGE: directories, busybox with its applets, the module files
# MODS (from _lab_module_closure) and their modules.dep. Usage: _lab_stage_base STAGE MODS
_lab_stage_base() {
	local stage=$1 mods=$2 a m
	mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,run,tmp,etc,lib/modules/"$LAB_KVER"}
	cp /bin/busybox "$stage/bin/busybox"
	for a in $(/bin/busybox --list); do
		[ "$a" = busybox ] || ln -sf busybox "$stage/bin/$a"
	done
	for m in $mods; do
		install -D -m 644 "$LAB_KDIR/lib/modules/$LAB_KVER/$m" "$stage/lib/modules/$LAB_KVER/$m"
	done
	cp "$LAB_KDIR/lib/modules/$LAB_KVER"/modules.{order,builtin,builtin.modinfo} "$stage/lib/modules/$LAB_KVER/" 2>/dev/null
	depmod -b "$stage" "$LAB_KVER" || lab_die "depmod of the image failed"
	echo "root:x:0:0:root:/:/bin/sh" >"$stage/etc/passwd"
}

# Builds the initramfs (busybox, modules, vfmigrate-agent, qemu-ga) into the cache, named by
# the hash of everything that goes in, and sets LAB_INITRD.
lab_image() {
	lab_kernel
	local agent=$VFM_BUILDDIR/guest/vfmigrate-agent qga mods stage hash m
	qga=$(_lab_qga_bin) || lab_die "cannot fetch qemu-guest-agent"
	mods=$(_lab_module_closure virtio_pci virtio_net virtio_console e1000e igbvf bonding 8021q)
	hash=$({
		cat "$LAB_TOP/tests/lab/guest-init" "$LAB_TOP/tests/lab/guest-bond" /bin/busybox "$qga"
		[ -x "$agent" ] && cat "$agent"
		echo "$LAB_KVER $mods"
	} | sha256sum | cut -c1-16)
	LAB_INITRD=$VFM_LAB_CACHE/initrd-$hash.gz
	_lab_cached "$LAB_INITRD" initrd && return 0
	lab_log "building initramfs $LAB_INITRD"
	stage=$(mktemp -d /tmp/vfml-image.XXXXXX)
	_lab_stage_base "$stage" "$mods"
	_lab_copy_bin "$qga" "$stage" sbin/qemu-ga
	if [ -x "$agent" ]; then
		_lab_copy_bin "$agent" "$stage" sbin/vfmigrate-agent
	else
		lab_log "note: $agent not built; the image has no vfmigrate-agent"
	fi
	install -m 755 "$LAB_TOP/tests/lab/guest-init" "$stage/init"
	install -m 755 "$LAB_TOP/tests/lab/guest-bond" "$stage/sbin/vfm-bond"
	(cd "$stage" && find . | cpio -o -H newc --quiet | gzip -1) >"$LAB_INITRD.tmp" || lab_die "cpio failed"
	mv "$LAB_INITRD.tmp" "$LAB_INITRD"
	rm -rf "$stage"
}

# ---------------------------------------------------------------------------------------
# Hosts

_lab_ns() { ip netns exec "$@"; }

lab_net_up() {
	local ns
	for ns in "$NS_SRC" "$NS_DST" "$NS_CLI"; do
		ip netns add "$ns" || lab_die "ip netns add $ns"
		ip -n "$ns" link set lo up
		_lab_ns "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
	done
	for ns in "$NS_SRC" "$NS_DST"; do
		ip -n "$ns" link add br0 type bridge stp_state 0 forward_delay 0
		ip -n "$ns" link set br0 up
	done
	# The physical network: src br0 <-> dst br0.
	ip -n "$NS_SRC" link add l2 type veth peer name l2 netns "$NS_DST"
	for ns in "$NS_SRC" "$NS_DST"; do
		ip -n "$ns" link set l2 master br0 up
	done
	# The client, on the same L2 network (attached at the source host's bridge).
	ip -n "$NS_CLI" link add eth0 type veth peer name cli netns "$NS_SRC"
	ip -n "$NS_SRC" link set cli master br0 up
	ip -n "$NS_CLI" addr add "$LAB_CLIENT_IP/24" dev eth0
	ip -n "$NS_CLI" link set eth0 up
	# Migration traffic on its own link.
	ip -n "$NS_SRC" link add mig type veth peer name mig netns "$NS_DST"
	ip -n "$NS_SRC" addr add "$LAB_MIG_SRC/30" dev mig
	ip -n "$NS_DST" addr add "$LAB_MIG_DST/30" dev mig
	ip -n "$NS_SRC" link set mig up
	ip -n "$NS_DST" link set mig up
	# Guest taps: v0 (virtio) and f0 (the "VF") on both hosts, on the bridge.
	for ns in "$NS_SRC" "$NS_DST"; do
		for t in v0 f0; do
			ip -n "$ns" tuntap add "$t" mode tap
			ip -n "$ns" link set "$t" master br0 up
		done
	done
	# LAB_VF2=1: the taps of guest 0's second virtio NIC and VF, and the client on the
	# second bond's subnet.
	[ -z "${LAB_VF2:-}" ] || lab_vf2_net_add
}

# The taps of a guest's second virtio NIC and second VF (LAB_VF2=1): named after its own taps,
# so that they never meet another guest's (guest 0: v0b, f0b; lab_as K: vKb, fKb).
lab_tap_v2() { echo "${LAB_TAP_V2:-${LAB_TAP_V:-v0}b}"; }
lab_tap_f2() { echo "${LAB_TAP_F2:-${LAB_TAP_F:-f0}b}"; }

# The network of the current guest's second bond: its two taps on both hosts and the client's
# address on the second subnet (once). Usage: [lab_as K] lab_vf2_net_add
lab_vf2_net_add() {
	lab_taps_add "$(lab_tap_v2)" "$(lab_tap_f2)"
	ip -n "$NS_CLI" -4 addr show dev eth0 | grep -q " $LAB_CLIENT_IP2/" ||
		ip -n "$NS_CLI" addr add "$LAB_CLIENT_IP2/24" dev eth0
}

# More guest taps on both hosts' bridges (a second guest, a guest's second VF): lab_net_up
# makes v0 and f0. Usage: lab_taps_add TAP...
lab_taps_add() {
	local ns t
	for ns in "$NS_SRC" "$NS_DST"; do
		for t in "$@"; do
			ip -n "$ns" tuntap add "$t" mode tap
			ip -n "$ns" link set "$t" master br0 up
		done
	done
}

# ---------------------------------------------------------------------------------------
# Guests

# Several guests (K = 0..9): guest K is gK with taps vK (virtio) and fK (its VF) on both hosts,
# MACs 52:54:00:77:00:1K / 52:54:00:77:01:1K, address $LAB_NET.1K and migration port
# 4444+K; guest 0's are the defaults above (LAB_AS_TAP_F, LAB_AS_VF_BUS: another VF tap and
# root port for it, e.g. the one a pool gave it). With LAB_VF2=1 its second bond has taps vKb
# and fKb (lab_vf2_net_add makes them), MACs 52:54:00:77:00:2K / 52:54:00:77:01:2K, address
# $LAB_NET2.1K, the second VF on root port rp3 (LAB_AS_TAP_F2, LAB_AS_VF2_BUS: another tap and
# port). lab_as K CMD [ARGS...] runs a lab command (a lib.sh function or anything reading these
# variables) as guest K; lab_guests_add K adds the taps of guests 1..K-1 (lab_net_up made
# guest 0's).
lab_as() {
	local k=$1
	shift
	LAB_G=g$k LAB_TAP_V=v$k LAB_TAP_F=${LAB_AS_TAP_F:-f$k} LAB_VF_BUS=${LAB_AS_VF_BUS:-rp1} LAB_MAC_VIRTIO=52:54:00:77:00:1$k \
		LAB_MAC_VF=52:54:00:77:01:1$k LAB_GUEST_IP=$LAB_NET.1$k LAB_MIG_PORT=$((4444 + k)) \
		LAB_TAP_V2=v${k}b LAB_TAP_F2=${LAB_AS_TAP_F2:-f${k}b} LAB_VF2_BUS=${LAB_AS_VF2_BUS:-rp3} \
		LAB_MAC_VIRTIO2=52:54:00:77:00:2$k LAB_MAC_VF2=52:54:00:77:01:2$k LAB_GUEST_IP2=$LAB_NET2.1$k "$@"
}
lab_guests_add() {
	local k ns t
	for ((k = 1; k < $1; k++)); do
		for ns in "$NS_SRC" "$NS_DST"; do
			for t in "v$k" "f$k"; do
				ip -n "$ns" link show "$t" >/dev/null 2>&1 && continue
				ip -n "$ns" tuntap add "$t" mode tap
				ip -n "$ns" link set "$t" master br0 up
			done
		done
	done
}

lab_ns_of() {
	case "$1" in
	src) echo "$NS_SRC" ;;
	dst) echo "$NS_DST" ;;
	*) lab_die "unknown side $1" ;;
	esac
}

lab_guest_start() {
	local side=$1 incoming=0 vf=1 bond=1 agent=1 fo=0 ns base append
	shift
	while [ $# -gt 0 ]; do
		case "$1" in
		--incoming) incoming=1 ;;
		--no-vf) vf=0 ;;
		--no-bond) bond=0 ;;
		--no-agent) agent=0 ;;
		# QEMU failover: virtio-net failover=on, the e1000e its hidden primary on the
		# virtio MAC (failover_pair_id); no bond, the guest kernel's net_failover pairs them.
		--failover) fo=1 bond=0 ;;
		*) lab_die "lab_guest_start: unknown option $1" ;;
		esac
		shift
	done
	ns=$(lab_ns_of "$side")
	base=$LAB_DIR/${LAB_G:-g0}-$side
	append="console=ttyS0 panic=-1 quiet vfm.backup=$LAB_MAC_VIRTIO vfm.ip=$LAB_GUEST_IP/24"
	[ $bond = 1 ] && append+=" vfm.vf=$LAB_MAC_VF vfm.bond=bond0"
	[ $bond = 1 ] && [ -n "${LAB_VF2:-}" ] &&
		append+=" vfm.vf2=$LAB_MAC_VF2 vfm.backup2=$LAB_MAC_VIRTIO2 vfm.bond2=bond1 vfm.ip2=$LAB_GUEST_IP2/24"
	[ $fo = 1 ] && [ -n "${LAB_VF2:-}" ] && append+=" vfm.backup2=$LAB_MAC_VIRTIO2 vfm.ip2=$LAB_GUEST_IP2/24"
	[ $agent = 0 ] && append+=" vfm.noagent"
	append+=${LAB_GUEST_APPEND:+ $LAB_GUEST_APPEND}
	local args=(
		-name "${LAB_G:-g0}-$side" -machine q35 -accel "${LAB_ACCEL:-tcg}" -m "${LAB_GUEST_MEM:-256}" -smp 1
		-nodefaults -no-user-config -display none
		-kernel "$LAB_VMLINUZ" -initrd "$LAB_INITRD" -append "$append"
		-serial "file:$base.console"
		-qmp "unix:$base.qmp,server=on,wait=off"
		-device pcie-root-port,id=rp1,chassis=1,bus=pcie.0,addr=0x3
		-device pcie-root-port,id=rp2,chassis=2,bus=pcie.0,addr=0x4
		-netdev tap,id=hn0,ifname=${LAB_TAP_V:-v0},script=no,downscript=no
		-device virtio-net-pci,netdev=hn0,id=net0,mac=$LAB_MAC_VIRTIO,bus=rp2,romfile=${LAB_VIRTIO_OPTS:-}$([ $fo = 1 ] && echo ,failover=on)
		-device virtio-serial-pci,id=vser0,bus=pcie.0,addr=0x5
		-chardev "socket,id=ch-agent,path=$base.agent,server=on,wait=off"
		-device virtserialport,chardev=ch-agent,name=org.vfmigrate.agent.0
		-chardev "socket,id=ch-qga,path=$base.qga,server=on,wait=off"
		-device virtserialport,chardev=ch-qga,name=org.qemu.guest_agent.0
	)
	# LAB_QMP2=1: a second QMP monitor, SIDE.qmp2, for the test while vfmigrate holds the first.
	[ -n "${LAB_QMP2:-}" ] && args+=(-qmp "unix:$base.qmp2,server=on,wait=off")
	# LAB_SPARE_PORT=N: N more empty root ports, rp3, rp4, ... (a pool with several VFs for
	# the guest: the emulated pool puts each VF on its own root port). LAB_VF2 needs rp3.
	local p nspare=${LAB_SPARE_PORT:-0}
	[ -n "${LAB_VF2:-}" ] && [ "$nspare" -lt 1 ] && nspare=1
	for ((p = 3; p < 3 + nspare; p++)); do
		args+=(-device "pcie-root-port,id=rp$p,chassis=$p,bus=pcie.0,addr=0x$((p + 3))")
	done
	# LAB_VF2=1: a second VF (e1000e vf1 on LAB_VF2_BUS, default rp3, tap lab_tap_f2) and a
	# second virtio NIC (net1 on its own root port rpv2, tap lab_tap_v2), bonded in the guest
	# as bond1 with address LAB_GUEST_IP2 (a guest with two VFs, each in its own bond with its
	# own backup). With --failover a second failover pair instead: net1 failover=on, vf1 its
	# hidden primary on net1's MAC, LAB_GUEST_IP2 on the second failover master.
	if [ -n "${LAB_VF2:-}" ]; then
		args+=(-device pcie-root-port,id=rpv2,chassis=20,bus=pcie.0,addr=0x14
			-netdev tap,id=hn1,ifname=$(lab_tap_v2),script=no,downscript=no
			-device virtio-net-pci,netdev=hn1,id=net1,mac=$LAB_MAC_VIRTIO2,bus=rpv2,romfile=${LAB_VIRTIO_OPTS:-}$([ $fo = 0 ] || echo ,failover=on))
		[ $vf = 1 ] && [ $incoming = 0 ] &&
			args+=(-netdev tap,id=nd-vf1,ifname=$(lab_tap_f2),script=no,downscript=no
				-device e1000e,netdev=nd-vf1,id=vf1,bus=${LAB_VF2_BUS:-rp3},romfile=$(
					[ $fo = 1 ] && echo ",mac=$LAB_MAC_VIRTIO2,failover_pair_id=net1" || echo ",mac=$LAB_MAC_VF2"))
	fi
	if [ $vf = 1 ] && [ $incoming = 0 ] && [ -n "${LAB_VF_HOST:-}" ]; then
		# A real VF (the SR-IOV lab): its MAC is the one its PF gave it.
		args+=(-device vfio-pci,host=$LAB_VF_HOST,id=vf0,bus=rp1,rombar=0)
	elif [ $vf = 1 ] && [ $incoming = 0 ]; then
		args+=(-netdev tap,id=nd-vf0,ifname=${LAB_TAP_F:-f0},script=no,downscript=no
			-device e1000e,netdev=nd-vf0,id=vf0,bus=${LAB_VF_BUS:-rp1},romfile=$(
				[ $fo = 1 ] && echo ",mac=$LAB_MAC_VIRTIO,failover_pair_id=net0" || echo ",mac=$LAB_MAC_VF"))
	fi
	[ $incoming = 1 ] && args+=(-incoming defer)
	rm -f "$base".{console,qmp,qmp2,agent,qga}
	ip netns exec "$ns" "${LAB_QEMU_CMD[@]}" "${args[@]}" >"$base.qemu.log" 2>&1 &
	echo $! >"$base.pid"
	local i
	for i in $(seq 100); do
		[ -S "$base.qmp" ] && return 0
		kill -0 "$(cat "$base.pid")" 2>/dev/null || lab_die "QEMU on $side exited: $(cat "$base.qemu.log")"
		sleep 0.1
	done
	lab_die "QEMU on $side did not create its QMP socket"
}

lab_guest_pid() { cat "$LAB_DIR/${LAB_G:-g0}-$1.pid"; }

# Waits up to 10 s for process $1 to exit.
lab_wait_exit() {
	local i
	for i in $(seq 100); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
	done
	return 1
}

lab_guest_wait_ready() {
	local side=$1 secs=${2:-90} end=$((SECONDS + ${2:-90}))
	while [ $SECONDS -lt $end ]; do
		grep -q VFM-READY "$LAB_DIR/${LAB_G:-g0}-$side.console" 2>/dev/null && return 0
		kill -0 "$(lab_guest_pid "$side")" 2>/dev/null || lab_die "QEMU on $side died"
		sleep 0.1
	done
	tail -20 "$LAB_DIR/${LAB_G:-g0}-$side.console" >&2
	lab_die "guest on $side not ready after ${secs}s"
}

LAB_TOOLS=$VFM_BUILDDIR/tools
lab_qmp() {
	local side=$1
	shift
	"$LAB_TOOLS/qmp-call" --timeout "${LAB_CALL_TIMEOUT:-10000}" "$LAB_DIR/${LAB_G:-g0}-$side.qmp" "$@"
}
lab_agent() {
	local side=$1
	shift
	"$LAB_TOOLS/qga-call" --timeout "${LAB_CALL_TIMEOUT:-10000}" "$LAB_DIR/${LAB_G:-g0}-$side.agent" "$@"
}
lab_qga() {
	local side=$1
	shift
	"$LAB_TOOLS/qga-call" --timeout "${LAB_CALL_TIMEOUT:-10000}" "$LAB_DIR/${LAB_G:-g0}-$side.qga" "$@"
}

# Waits until vfmigrate-agent on SIDE answers guest-ping (seconds, default 60).
lab_agent_wait() {
	local side=$1 end=$((SECONDS + ${2:-60}))
	while [ $SECONDS -lt $end ]; do
		LAB_CALL_TIMEOUT=${LAB_PING_TIMEOUT:-1000} lab_agent "$side" guest-ping >/dev/null 2>&1 && return 0
		sleep 1
	done
	lab_die "vfmigrate-agent on $side does not answer"
}

# Waits until the stock qemu-ga on SIDE answers guest-ping (seconds, default 60).
lab_qga_wait() {
	local side=$1 end=$((SECONDS + ${2:-60}))
	while [ $SECONDS -lt $end ]; do
		LAB_CALL_TIMEOUT=${LAB_PING_TIMEOUT:-1000} lab_qga "$side" guest-ping >/dev/null 2>&1 && return 0
		sleep 1
	done
	lab_die "qemu-ga on $side does not answer"
}

# Runs a command in the guest through the stock qemu-ga and prints its stdout; returns its
# exit code. Usage: lab_guest_exec SIDE PATH [ARG...]
lab_guest_exec() { lab_guest_exec_via lab_qga "$@"; }

# The same over any qemu-ga transport: CALL SIDE COMMAND ARGS-JSON prints the command's return
# value (lab_qga here; the libvirt lab passes its own).
lab_guest_exec_via() {
	local call=$1 side=$2 path=$3 args pid st i
	shift 3
	args=$(printf '%s\n' "$@" | jq -R . | jq -sc .)
	[ $# -eq 0 ] && args='[]'
	pid=$("$call" "$side" guest-exec "{\"path\":\"$path\",\"arg\":$args,\"capture-output\":true}" | jq -r .pid) ||
		return 1
	for i in $(seq 100); do
		st=$("$call" "$side" guest-exec-status "{\"pid\":$pid}") || return 1
		if [ "$(echo "$st" | jq -r .exited)" = true ]; then
			echo "$st" | jq -r '."out-data" // ""' | base64 -d
			return "$(echo "$st" | jq -r '.exitcode // 0')"
		fi
		sleep 0.05
	done
	return 1
}

# ---------------------------------------------------------------------------------------
# Traffic probe (from the client namespace to the guest)

# LAB_PROBE (default probe) names the probe's files in $LAB_DIR: two may run at once.
lab_probe_start() {
	local vfprobe=$VFM_BUILDDIR/src/probe/vfprobe pr=$LAB_DIR/${LAB_PROBE:-probe}
	[ -x "$vfprobe" ] || lab_die "vfprobe not built at $vfprobe"
	rm -f "$pr.ready"
	ip netns exec "$NS_CLI" "$vfprobe" --json --ready-file "$pr.ready" "$@" "$LAB_GUEST_IP" \
		>"$pr.json" 2>"$pr.err" &
	echo $! >"$pr.pid"
	local i
	for i in $(seq 50); do
		[ -e "$pr.ready" ] && return 0
		sleep 0.1
	done
	lab_die "vfprobe did not start: $(cat "$pr.err")"
}

lab_probe_stop() {
	local -
	set +e
	local pid pr=$LAB_DIR/${LAB_PROBE:-probe}
	pid=$(cat "$pr.pid")
	kill -INT "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	rm -f "$pr.pid"
	jq -e . "$pr.json" >/dev/null || lab_die "vfprobe gave no report: $(cat "$pr.err")"
}

# Waits until the guest answers pings from the client (seconds, default 60).
lab_wait_reachable() {
	local secs=${1:-60} i
	for i in $(seq "$secs"); do
		_lab_ns "$NS_CLI" ping -c 1 -W 1 "$LAB_GUEST_IP" >/dev/null 2>&1 && return 0
	done
	lab_die "guest $LAB_GUEST_IP not reachable from the client"
}

# ---------------------------------------------------------------------------------------
# Plain migration (what operators do without vfmigrate): the baseline for every comparison.

# Migrates guest 0 from host FROM to an already started `--incoming` guest on host TO (default
# src -> dst) with QMP only, waits for the end, quits the source QEMU. Prints the final
# query-migrate JSON. PARAMS: JSON for migrate-set-parameters (e.g. '{"downtime-limit":300}').
# Usage: lab_migrate_plain [FROM TO [PARAMS]]
lab_migrate_plain() {
	local from=${1:-src} to=${2:-dst} params=${3:-} ip st s i
	[ "$to" = dst ] && ip=$LAB_MIG_DST || ip=$LAB_MIG_SRC
	local uri="tcp:$ip:$LAB_MIG_PORT"
	lab_qmp "$to" migrate-incoming "{\"uri\":\"$uri\"}" >/dev/null || lab_die "migrate-incoming failed"
	lab_qmp "$from" migrate-set-capabilities '{"capabilities":[{"capability":"events","state":true}]}' >/dev/null
	[ -n "$params" ] && { lab_qmp "$from" migrate-set-parameters "$params" >/dev/null || lab_die "migrate-set-parameters failed"; }
	lab_qmp "$from" migrate "{\"uri\":\"$uri\"}" >/dev/null || lab_die "migrate failed to start"
	for i in $(seq 1200); do
		s=$(lab_qmp "$from" query-migrate) || lab_die "query-migrate failed"
		st=$(echo "$s" | jq -r .status)
		case "$st" in
		completed)
			# QEMU 7.2 may answer with zero times right after completion: ask again.
			[ "$(echo "$s" | jq -r '."total-time" // 0')" != 0 ] && break
			;;
		failed | cancelled) lab_die "plain migration $st: $s" ;;
		esac
		sleep 0.1
	done
	[ "$st" = completed ] || lab_die "plain migration did not complete: $s"
	lab_guest_stop "$from"
	echo "$s"
}

# ---------------------------------------------------------------------------------------
# vfmigrate on the lab guest

# Writes $LAB_DIR/g0.conf describing guest 0 for vfmigrate (qmp backend). The destination's
# VF pool is its tap f0 on root port rp1; with --no-vf the guest has no VF; with --qga the
# guest agent is the stock qemu-ga on its own socket (no vfmigrate-agent); with --failover the
# guest is lab_guest_start --failover's (no bond: vf-mac is the virtio MAC the pair shares, and
# vfmigrate picks failover mode). With LAB_VF2=1 the guest has two VFs, each a [vf NAME]
# section (net0: vf0 in bond0 on LAB_TAP_F/LAB_VF_BUS; net1: vf1 in bond1 on lab_tap_f2 and
# LAB_VF2_BUS; with --failover no bonds, each VF's vf-mac its virtio NIC's), the destination's
# pool shared by both.
lab_vfm_config() {
	local novf=0 from=src to=dst to_ip=$LAB_MIG_DST agent=agent fo=0 two=0
	while [ $# -gt 0 ]; do
		case "$1" in
		--no-vf) novf=1 ;;
		--qga) agent=qga ;;
		--failover) fo=1 ;;
		--reverse) from=dst to=src to_ip=$LAB_MIG_SRC ;; # the guest is on dst, going back
		*) lab_die "lab_vfm_config: unknown option $1" ;;
		esac
		shift
	done
	[ -n "${LAB_VF2:-}" ] && [ $novf = 0 ] && two=1
	if [ $two = 1 ]; then
		{
			echo "[source]"
			echo "qmp = $LAB_DIR/${LAB_G:-g0}-$from.qmp"
			echo "$agent = $LAB_DIR/${LAB_G:-g0}-$from.$agent"
			[ -n "${LAB_POOL_HOSTS:-}" ] && echo "pool-host = $from"
			echo "vf-driver = e1000e"
			echo "[destination]"
			echo "qmp = $LAB_DIR/${LAB_G:-g0}-$to.qmp"
			echo "$agent = $LAB_DIR/${LAB_G:-g0}-$to.$agent"
			echo "vf-pool = ${LAB_VFM_POOL:-f0:rp1 $(lab_tap_f2):${LAB_VF2_BUS:-rp3}}"
			[ -n "${LAB_POOL_HOSTS:-}" ] && echo "pool-host = $to"
			echo "migrate-uri = tcp:$to_ip:$LAB_MIG_PORT"
			echo "incoming = defer"
			if [ $fo = 1 ]; then
				lab_vf_section net0 "" "$LAB_MAC_VIRTIO" "" vf0 "${LAB_VF_BUS:-rp1}" "${LAB_TAP_F:-f0}"
				lab_vf_section net1 "" "$LAB_MAC_VIRTIO2" "" vf1 "${LAB_VF2_BUS:-rp3}" "$(lab_tap_f2)"
			else
				lab_vf_section net0 bond0 "$LAB_MAC_VF" "$LAB_MAC_VIRTIO" vf0 "${LAB_VF_BUS:-rp1}" "${LAB_TAP_F:-f0}"
				lab_vf_section net1 bond1 "$LAB_MAC_VF2" "$LAB_MAC_VIRTIO2" vf1 "${LAB_VF2_BUS:-rp3}" "$(lab_tap_f2)"
			fi
		} >"$LAB_DIR/${LAB_G:-g0}.conf"
		return 0
	fi
	{
		echo "[guest]"
		if [ $fo = 1 ]; then
			echo "vf-mac = $LAB_MAC_VIRTIO"
		else
			echo "bond = bond0"
			echo "backup-mac = $LAB_MAC_VIRTIO"
			[ $novf = 0 ] && echo "vf-mac = $LAB_MAC_VF"
		fi
		echo "[source]"
		echo "qmp = $LAB_DIR/${LAB_G:-g0}-$from.qmp"
		echo "$agent = $LAB_DIR/${LAB_G:-g0}-$from.$agent"
		[ -n "${LAB_POOL_HOSTS:-}" ] && echo "pool-host = $from"
		if [ $novf = 0 ]; then
			echo "vf-device = vf0"
			echo "vf-bus = ${LAB_VF_BUS:-rp1}"
			echo "vf-driver = e1000e"
			echo "vf-netdev = nd-vf0"
			echo "vf-tap = ${LAB_TAP_F:-f0}"
		fi
		echo "[destination]"
		echo "qmp = $LAB_DIR/${LAB_G:-g0}-$to.qmp"
		echo "$agent = $LAB_DIR/${LAB_G:-g0}-$to.$agent"
		[ $novf = 0 ] && echo "vf-pool = ${LAB_VFM_POOL:-f0:rp1}"
		# LAB_POOL_HOSTS=1: the pools' reservations shared between runs, one name per host.
		[ -n "${LAB_POOL_HOSTS:-}" ] && echo "pool-host = $to"
		echo "migrate-uri = tcp:$to_ip:$LAB_MIG_PORT"
		echo "incoming = defer"
	} >"$LAB_DIR/${LAB_G:-g0}.conf"
}

# One [vf NAME] section of a config: NAME BOND VF-MAC BACKUP-MAC DEVICE ROOT-PORT TAP (BOND and
# BACKUP-MAC "": none, a failover pair's VF).
lab_vf_section() {
	printf '\n[vf %s]\n' "$1"
	[ -n "$2" ] && printf 'bond = %s\n' "$2"
	[ -n "$4" ] && printf 'backup-mac = %s\n' "$4"
	printf 'vf-mac = %s\nvf-device = %s\nvf-bus = %s\nvf-netdev = nd-%s\nvf-tap = %s\n' \
		"$3" "$5" "$6" "$5" "$7"
}

# The destination of the current config (what `vfmigrate status` shows from the journal).
lab_vfm_dest() { sed -n 's/^migrate-uri = //p' "$LAB_DIR/${LAB_G:-g0}.conf"; }

# Ends the QEMU of guest 0 on SIDE (QMP quit, then SIGKILL if it lingers).
lab_guest_stop() {
	local side=$1 pid
	pid=$(lab_guest_pid "$side" 2>/dev/null) || return 0
	LAB_CALL_TIMEOUT=2000 lab_qmp "$side" quit >/dev/null 2>&1 || true
	lab_wait_exit "$pid" || { kill -9 "$pid" 2>/dev/null; lab_wait_exit "$pid"; } || true
	rm -f "$LAB_DIR/${LAB_G:-g0}-$side".{pid,qmp,agent,qga}
}

# Runs the built vfmigrate with the lab guest's config and a state dir in $LAB_DIR.
lab_vfm() {
	local cmd=$1
	shift
	"$VFM_BUILDDIR/src/cli/vfmigrate" --config "$LAB_DIR/${LAB_G:-g0}.conf" -s "$LAB_DIR/state" "$cmd" "${LAB_G:-g0}" "$@"
}

# Starts vfmigrate in the background (its own pid in LAB_VFM_PID, not a subshell's, so that a
# test can SIGKILL it). Output goes to file $1.
lab_vfm_bg() {
	local out=$1 cmd=$2
	shift 2
	"$VFM_BUILDDIR/src/cli/vfmigrate" --config "$LAB_DIR/${LAB_G:-g0}.conf" -s "$LAB_DIR/state" "$cmd" "${LAB_G:-g0}" "$@" >"$out" 2>&1 &
	LAB_VFM_PID=$!
}

# SIGKILLs a vfmigrate started in the background (PID, its progress in FILE) as soon as its
# progress says step STEP ended ok, DELAY seconds later (default 0): a crash past that step, for
# recover. Usage: lab_kill_after_step FILE PID STEP [DELAY]
lab_kill_after_step() {
	local out=$1 pid=$2 re="\] $3  *ok"
	for _ in $(seq 600); do
		grep -q "$re" "$out" && break
		sleep 0.05
	done
	grep -q "$re" "$out" || { cat "$out" >&2; lab_die "step $3 did not finish"; }
	sleep "${4:-0}"
	kill -9 "$pid"
	wait "$pid" 2>/dev/null || true
}

# lab_kill_after_step FILE PID unplug [DELAY]: a crash after the VF left.
lab_kill_after_unplug() {
	lab_kill_after_step "$1" "$2" unplug "${3:-0}"
}

# Runs `vfmigrate migrate --json ARGS...` from FROM to TO, the report in FILE, printing nothing
# (FILE "-": the human output, printed as it goes); returns vfmigrate's exit code. QEMU 7.2 under TCG now and then delivers a guest whose
# virtio-net ring is corrupt ("output.0:id N is not a head!" on its console): QEMU says
# "completed", the guest is dead. vfmigrate must then roll back (exit 4, VF active on the
# source again): that is checked here, the destination QEMU restarted, and the migration tried
# once more (after running LAB_VFM_ON_RETRY, if set: a probe restarts there so that it measures
# the migration that counts). A guest of another mode sets LAB_GUEST_MODE (the destination's
# extra lab_guest_start options, e.g. --failover) and LAB_VF_READY (what says its VF is in use
# again on FROM, default lab_wait_vf_active). Usage: lab_vfm_migrate FROM TO FILE [ARGS...]
lab_vfm_migrate() {
	local from=$1 to=$2 out=$3 rc try
	shift 3
	for try in 1 2; do
		rc=0
		if [ "$out" = - ]; then
			lab_vfm migrate "$@" | tee "$LAB_DIR/migrate.out"
			rc=${PIPESTATUS[0]}
		else
			lab_vfm migrate --json "$@" >"$out" || rc=$?
		fi
		[ $rc = 4 ] && [ $try = 1 ] && [ "$LAB_QEMU" = system ] &&
			if [ "$out" = - ]; then
				grep -qE "$LAB_DEAD_ARRIVAL_RE" "$LAB_DIR/migrate.out"
			else
				[ "$(jq -r '.error.code // empty' "$out")" = dead-arrival ]
			fi ||
			return $rc
		lab_log "the guest arrived dead on $to ($(lab_guest_corrupt || echo "no kernel message")); vfmigrate rolled back"
		"${LAB_VF_READY:-lab_wait_vf_active}" "$from" 30 ||
			lab_die "after the dead arrival the VF is not active on $from"
		[ "$(lab_qmp "$from" query-status | jq -r .status)" = running ] || lab_die "$from not running after the rollback"
		lab_guest_stop "$to"
		# The corruption is QEMU's, in the copy that is now gone: forget its console.
		rm -f "$LAB_DIR/${LAB_G:-g0}-$to.console"
		# shellcheck disable=SC2086 # LAB_GUEST_MODE: words of lab_guest_start options
		lab_guest_start "$to" ${LAB_GUEST_MODE:-} --incoming
		[ -n "${LAB_VFM_ON_RETRY:-}" ] && eval "$LAB_VFM_ON_RETRY"
		lab_log "trying the migration once more"
	done
	return $rc
}

# Prints the guest's bond state as seen by the kernel (its /proc/net/bonding/BOND, default
# bond0, read with EXEC, default lab_guest_exec through the stock qemu-ga): "ACTIVE_MAC
# SLAVE_COUNT", e.g. "52:54:00:77:01:10 2". Usage: lab_bond_state SIDE [EXEC [BOND]]
lab_bond_state() {
	local side=$1 exec=${2:-lab_guest_exec} bond active
	bond=$("$exec" "$side" /bin/cat "/proc/net/bonding/${3:-bond0}") || return 1
	active=$(echo "$bond" | sed -n 's/^Currently Active Slave: //p')
	echo "$(echo "$bond" | awk -v s="$active" '/^Slave Interface:/{cur=$3} /^Permanent HW addr:/{if (cur==s) print $4}') $(echo "$bond" | grep -c '^Slave Interface:')"
}

# Waits (up to SECS, default 30) until the VF is the active slave of 2 on SIDE (of BOND with
# VF-MAC: default bond0 and the lab's VF). Usage: lab_wait_vf_active SIDE [SECS [EXEC [BOND VF-MAC]]]
lab_wait_vf_active() {
	local side=$1 secs=${2:-30} exec=${3:-lab_guest_exec} bond=${4:-bond0} mac=${5:-$LAB_MAC_VF}
	local st end=$((SECONDS + ${2:-30}))
	while [ $SECONDS -lt $end ]; do
		st=$(lab_bond_state "$side" "$exec" "$bond" 2>/dev/null) || st=
		[ "$st" = "$mac 2" ] && return 0
		sleep 0.5
	done
	lab_log "$bond on $side: ${st:-unknown}"
	return 1
}

# ---------------------------------------------------------------------------------------
# The failover guest (lab_guest_start --failover): QEMU failover, the guest kernel's net_failover

# vfmigrate's config for the failover guest (lab_vfm_config --failover) with the lab's
# timeouts (FO_UNPLUG: timeouts.unplug, default 10s). Usage: fo_config [lab_vfm_config options]
fo_config() {
	lab_vfm_config --failover "$@"
	printf '[timeouts]\nunplug = %s\nunplug-settle = 40s\nlink = 30s\nalive = 30s\n' \
		"${FO_UNPLUG:-10s}" >>"$LAB_DIR/${LAB_G:-g0}.conf"
}

# fo_config for a run FROM TO (bench/modes' CONFIG): lab_vfm_config's migrate-uri is the
# destination's migration address, dst's by default, src's with --reverse.
fo_config_run() {
	if [ "$2" = src ]; then fo_config --reverse; else fo_config; fi
}

# `vfmigrate migrate --json` (report in FILE) with the guest paused as the migration starts, under
# fo_config (options ARGS) with timeouts.unplug 3 s: the source's QMP goes through the stall
# proxy (lib-faults.sh), which holds vfmigrate's first migration command until the guest is
# stopped through the second monitor (LAB_QMP2=1). Sets FO_PAUSED_RC (vfmigrate's exit code)
# and FO_PAUSED_SECS (its wall time). Usage: fo_migrate_paused FILE [ARGS...]
fo_migrate_paused() {
	local out=$1 t0
	shift
	fault_stall_start src migrate-set-capabilities "$LAB_DIR/g0-src.qmp"
	FO_UNPLUG=3s fo_config "$@"
	sed -i "0,/^qmp = .*/s||qmp = $(fault_stall_sock)|" "$LAB_DIR/g0.conf"
	grep -q "^qmp = $(fault_stall_sock)$" "$LAB_DIR/g0.conf" || lab_die "the source QMP is not the proxy"
	t0=$(date +%s%N)
	lab_vfm_bg "$out" migrate --json
	fault_stall_wait_hit 60 || lab_die "vfmigrate never started the migration"
	"$LAB_TOOLS/qmp-call" --timeout 10000 "$LAB_DIR/g0-src.qmp2" stop >/dev/null || lab_die "QMP stop failed"
	lab_log "guest paused on src before the migration started"
	fault_stall_go
	FO_PAUSED_RC=0
	wait "$LAB_VFM_PID" || FO_PAUSED_RC=$?
	FO_PAUSED_SECS=$(awk -v a="$t0" -v b="$(date +%s%N)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')
	fault_stall_stop
	jq -c '{outcome, mode, error, steps: [.steps[] | select(.result != "skipped" and .result != "not-run") | "\(.name) \(.result) \(.ms) undo \(.undo_ms)"], notes}' "$out" >&2 || cat "$out" >&2
	lab_log "PAUSED: vfmigrate exited $FO_PAUSED_RC after $FO_PAUSED_SECS s"
}

# Succeeds when, on SIDE, vfmigrate-agent reports the failover master (of MAC, default the
# lab's virtio MAC) sending on its primary and the guest's sysfs (read through qemu-ga, not
# through our agent) has that primary enslaved to that master with carrier. Waits up to SECS
# (default 30). Usage: fo_primary_active SIDE [SECS [MAC]]
fo_primary_active() {
	local side=$1 end=$((SECONDS + ${2:-30})) mac=${3:-$LAB_MAC_VIRTIO} st m p link carrier
	while [ $SECONDS -lt $end ]; do
		st=$(lab_agent "$side" guest-failover-status "{\"mac\":\"$mac\"}" 2>/dev/null) || st=
		m=$(echo "$st" | jq -r '.master // empty' 2>/dev/null)
		p=$(echo "$st" | jq -r '.primary.name // empty' 2>/dev/null)
		if [ "$(echo "$st" | jq -r '.active // empty' 2>/dev/null)" = primary ] &&
			[[ $m =~ ^[a-z0-9]+$ ]] && [[ $p =~ ^[a-z0-9]+$ ]]; then
			link=$(lab_guest_exec "$side" /bin/readlink "/sys/class/net/$p/master") || link=
			carrier=$(lab_guest_exec "$side" /bin/cat "/sys/class/net/$p/carrier") || carrier=
			if [ "${link##*/}" = "$m" ] && [ "$carrier" = 1 ]; then
				lab_log "$side: failover master $m sends on primary $p ($(echo "$st" | jq -r .primary.driver))"
				return 0
			fi
		fi
		sleep 0.5
	done
	lab_log "$side: failover status: ${st:-none}"
	return 1
}

# Prints "LONGEST_MS LONGEST_PACKETS LOST SENT" of the last probe run.
lab_probe_summary() {
	jq -r '"\(.longest_window_ms) \(.longest_window_packets) \(.lost) \(.sent)"' "$LAB_DIR/${LAB_PROBE:-probe}.json"
}

# Fails unless the last probe run's longest window is under $1 ms and at most $2 packets were
# lost outside it.
lab_probe_assert() {
	local max_ms=$1 max_out=$2 ms pk lost sent
	read -r ms pk lost sent < <(lab_probe_summary)
	lab_log "${LAB_PROBE:-probe}: sent $sent, lost $lost, longest window ${ms} ms ($pk packets)"
	jq -r '[.windows[]?][:20][] | "    window at \(.start_s) s: \(.packets) packets, \(.duration_ms) ms"' "$LAB_DIR/${LAB_PROBE:-probe}.json" >&2
	awk -v a="$ms" -v b="$max_ms" 'BEGIN { exit !(a < b) }' || lab_die "longest loss window ${ms} ms >= ${max_ms} ms"
	[ $((lost - pk)) -le "$max_out" ] || lab_die "$((lost - pk)) packets lost outside the longest window (max $max_out)"
}

# Prints the ids of the devices the user gave QEMU on SIDE (qom-list /machine/peripheral).
lab_devices() {
	lab_qmp "$1" qom-list '{"path":"/machine/peripheral"}' | jq -r '.[] | select(.type | startswith("child<")) | .name' | sort | tr '\n' ' '
}
