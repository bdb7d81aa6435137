#!/usr/bin/env bash
# vfmigrate evacuate through libvirt: two libvirtd (one per lab host) and K domains (default 3:
# g0, g1, g2; lab_as K's taps, MACs and addresses), each started on src with virtio + an emulated
# VF (e1000e, alias ua-vf0) in a bond, its vfmigrate metadata written by `setup` with every VF
# tap of the lab hosts as its sources (ethernet:f0 .. f(K-1): a shared pool, as a libvirt
# network of VFs would be; the plan counts it once for all domains).
#  1. `evacuate --all --dry-run --json`: every domain with metadata listed, each needing one
#     VF, dst with K free; nothing moved.
#  2. `vfmigrate -c SRC evacuate --all --to DST --parallel 2` with a vfprobe on each domain
#     (three domains, two at once: the third waits for a free slot): exit 0, every domain
#     migrated.
#  3. back, by name: `vfmigrate -c DST evacuate g0 g1 g2 --to SRC --parallel 2`.
# After each: every domain runs on the host it went to with its VF active in its bond, on a tap
# of its own (ua-vf0's target) that its QEMU holds, reachable, its loss window under a generous
# bound; the other host defines no domain and holds no VF tap; every journal finished.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib-libvirt.sh"
: "${K:=3}"
export LAB_GUEST_MEM=${LAB_GUEST_MEM:-192}
# TCG guests, 2K QEMUs and two daemons on two cores: the lab's timeouts, not the product's.
T=(-o timeouts.command=30s -o timeouts.alive=90s -o timeouts.link=40s -o timeouts.unplug=20s)

# Guest K of the lab as libvirt domain gK.
dom() {
	local k=$1
	shift
	LV_DOMAIN=g$k lab_as "$k" "$@"
}

lv_require
lab_init lvevac
lab_image
lab_net_up
lab_guests_add "$K"
lv_daemon_start src
lv_daemon_start dst
lab_log "libvirt: $(lv_virsh src version | grep -E '^(Using library|Running hypervisor)' | sed 's/.*: //' | tr '\n' ' ')"
sources=()
for ((k = 0; k < K; k++)); do sources+=(--vf-source "ethernet:f$k:e1000e"); done
for ((k = 0; k < K; k++)); do dom $k lv_guest_define_start src; done
for ((k = 0; k < K; k++)); do
	dom $k lv_wait_ready 180
	dom $k lv_qga_wait src 120
	dom $k lv_wait_vf_active src 60 || lab_die "g$k: VF not active at start"
	dom $k lab_wait_reachable
	"$VFM_BUILDDIR/src/cli/vfmigrate" -c "$(lv_uri src)" setup "g$k" --bond bond0 --vf-alias ua-vf0 \
		"${sources[@]}" >&2 || lab_die "vfmigrate setup g$k failed"
done

# vfmigrate evacuate FROM -> TO (ARGS: the guests or --all, and evacuate's options), from the
# client namespace (its probes reach the guests; the daemons' sockets and the agents' channel
# sockets are files). Output in OUT, errors in OUT.err. Usage: evacuate FROM TO OUT ARGS...
evacuate() {
	local from=$1 to=$2 out=$3
	shift 3
	ip netns exec "$NS_CLI" "$VFM_BUILDDIR/src/cli/vfmigrate" -c "$(lv_uri "$from")" -s "$LAB_DIR/state" \
		--src-path-map "/var/lib/libvirt=$(lv_dir "$from")/lib" \
		--dst-path-map "/var/lib/libvirt=$(lv_dir "$to")/lib" \
		--migrate-uri "tcp://$(lv_addr "$to")" "${T[@]}" \
		evacuate --vfprobe "$VFM_BUILDDIR/src/probe/vfprobe" --to "$(lv_uri "$to")" "$@" >"$out" 2>"$out.err"
}
probes() { local k; for ((k = 0; k < K; k++)); do echo "--probe g$k=$LAB_NET.1$k"; done; }

tap_held() { ip -n "$(lab_ns_of "$1")" link show "$2" 2>/dev/null | grep -q LOWER_UP; }

# settled SIDE: every domain runs on SIDE only, its VF (ua-vf0) active in bond0 on a tap of its
# own that a QEMU on SIDE holds, reachable, its journal finished; the other host defines no
# domain and holds no VF tap.
settled() {
	local side=$1 other k tap taps=() st
	other=$([ "$side" = src ] && echo dst || echo src)
	for ((k = 0; k < K; k++)); do
		[ "$(lv_virsh "$side" domstate "g$k")" = running ] || lab_die "g$k does not run on $side"
		dom $k lv_wait_vf_active "$side" 60 || lab_die "g$k: VF not active on $side"
		tap=$(lv_virsh "$side" dumpxml "g$k" | xmllint --xpath "string(//interface[alias/@name='ua-vf0']/target/@dev)" - 2>/dev/null) ||
			tap=
		[[ $tap =~ ^f[0-9]+$ ]] || lab_die "g$k on $side: ua-vf0 on no lab VF tap ('$tap')"
		tap_held "$side" "$tap" || lab_die "g$k on $side: no process holds its VF tap $tap"
		taps+=("$tap")
		st=$(dom $k evac_status "$side" | head -1) || true
		[[ $st == "g$k: journal finished"* ]] || lab_die "g$k journal: $st"
		dom $k lab_wait_reachable 30
	done
	[ "$(printf '%s\n' "${taps[@]}" | sort -u | wc -l)" = "$K" ] || lab_die "domains share a VF tap: ${taps[*]}"
	[ -z "$(lv_virsh "$other" list --all --name | grep -v '^$' || true)" ] ||
		lab_die "$other still defines: $(lv_virsh "$other" list --all --name | tr '\n' ' ')"
	for ((k = 0; k < K; k++)); do
		tap_held "$other" "f$k" && lab_die "a process on $other still holds VF tap f$k"
	done
	lab_log "on $side: ${taps[*]}"
}
# vfmigrate status of the domain (LV_DOMAIN) on SIDE (the journal's state comes first).
evac_status() {
	"$VFM_BUILDDIR/src/cli/vfmigrate" -c "$(lv_uri "$1")" -s "$LAB_DIR/state" status "$LV_DOMAIN"
}

# The outcome of an evacuation's JSON summary: exit 0, every domain migrated to TO, its loss
# window under 2 s. Usage: check_summary FILE RC TO
check_summary() {
	local f=$1 rc=$2 to
	to=$(lv_uri "$3")
	cat "$f" "$f.err" >&2
	[ "$rc" = 0 ] || lab_die "evacuate to $3: exit $rc"
	jq -e --arg to "$to" --argjson k "$K" \
		'[.guests[] | select(.outcome == "migrated" and .destination == $to)] | length == $k' "$f" >/dev/null ||
		lab_die "not every domain migrated to $3: $(jq -c '[.guests[] | {guest, destination, outcome}]' "$f")"
	jq -e --argjson k "$K" '[.guests[] | select(.loss_window_ms >= 0 and .loss_window_ms < 2000)] | length == $k' "$f" >/dev/null ||
		lab_die "loss windows: $(jq -c '[.guests[].loss_window_ms]' "$f")"
	lab_log "to $3: $(jq -c '[.guests[] | {guest, loss_window_ms, without_vf_ms, ms}]' "$f")"
}

# 1. the plan of --all, dry run.
evacuate src dst "$LAB_DIR/e1.json" --all --dry-run --json --parallel 2
cat "$LAB_DIR/e1.json" >&2
jq -e --argjson k "$K" '.dry_run and ([.plan[].guest] == [range($k) | "g\(.)"]) and
	([.plan[] | [.needs[].count] | add] | all(. == 1)) and
	([.destinations[0].physnets[].free] | add) == $k' "$LAB_DIR/e1.json" >/dev/null ||
	lab_die "dry run of --all: $(jq -c '{plan, destinations}' "$LAB_DIR/e1.json")"
for ((k = 0; k < K; k++)); do
	[ "$(lv_virsh src domstate "g$k")" = running ] || lab_die "g$k moved in a dry run"
done

# 2. every domain with metadata, src -> dst, two at once.
t0=$SECONDS
rc=0
# shellcheck disable=SC2046 # probes: words of options
evacuate src dst "$LAB_DIR/e2.json" --all --json --parallel 2 $(probes) || rc=$?
check_summary "$LAB_DIR/e2.json" $rc dst
lab_log "evacuated src -> dst in $((SECONDS - t0)) s"
settled dst

# 3. back, the domains by name.
names=()
for ((k = 0; k < K; k++)); do names+=("g$k"); done
t0=$SECONDS
rc=0
# shellcheck disable=SC2046
evacuate dst src "$LAB_DIR/e3.json" --json --parallel 2 $(probes) "${names[@]}" || rc=$?
check_summary "$LAB_DIR/e3.json" $rc src
lab_log "evacuated dst -> src in $((SECONDS - t0)) s"
settled src
lab_log "evacuated $K libvirt domains there (--all) and back (by name), at most two at once, each with its VF active"
