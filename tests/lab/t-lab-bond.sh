#!/usr/bin/env bash
# The lab itself: a guest boots with bond0 (active-backup) over virtio + the e1000e "VF", the
# VF is the active slave, the client reaches the guest with <1% loss at 1000 pps over 10 s of
# steady state, and teardown leaves no namespace, bridge, tap or QEMU process of the run.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

lab_init bond
lab_image
lab_net_up
lab_guest_start src
lab_guest_wait_ready src

# Read the bond through the stock qemu-ga and the kernel's own report, independently of
# vfmigrate-agent.
lab_qga_wait src
active= bond=
for _ in $(seq 60); do
	bond=$(lab_guest_exec src /bin/cat /proc/net/bonding/bond0)
	active=$(echo "$bond" | sed -n 's/^Currently Active Slave: //p')
	primary=$(echo "$bond" | sed -n 's/^Primary Slave: \([^ ]*\).*/\1/p')
	[ -n "$active" ] && [ "$active" = "$primary" ] && break
	sleep 0.5
done
echo "$bond"
echo "$bond" | grep -q '^Bonding Mode: fault-tolerance (active-backup)' || lab_die "bond0 is not active-backup"
[ "$active" = "$primary" ] || lab_die "active slave '$active' is not the VF '$primary'"
vfmac=$(echo "$bond" | awk -v s="$active" '/^Slave Interface:/{cur=$3} /^Permanent HW addr:/{if (cur==s) print $4}')
[ "$vfmac" = "$LAB_MAC_VF" ] || lab_die "active slave $active has MAC '$vfmac', not the VF's $LAB_MAC_VF"
[ "$(echo "$bond" | grep -c '^MII Status: up')" = 3 ] || lab_die "bond or a slave is not up"
lab_log "bond0 active-backup, VF $active ($vfmac) active, both slaves up"

# Steady state: 10 s at 1000 pps.
lab_wait_reachable
lab_probe_start --rate 1000
sleep 10
lab_probe_stop
read -r sent lost longest < <(jq -r '"\(.sent) \(.lost) \(.longest_window_ms)"' "$LAB_DIR/probe.json")
lab_log "probe: sent $sent, lost $lost, longest window ${longest} ms"
[ "$sent" -ge 9000 ] || lab_die "probe sent only $sent packets in 10 s"
[ $((lost * 100)) -lt "$sent" ] || lab_die "lost $lost of $sent (>= 1%)"

# Teardown leaves nothing of this run behind.
run_dir=$LAB_DIR
lab_cleanup
left=$(lab_leftovers)
[ -z "$left" ] || lab_die "left after teardown: $left"
[ -z "$(pgrep -af -- "$run_dir/" || true)" ] || lab_die "a process of the run survived"
lab_log "teardown clean"
