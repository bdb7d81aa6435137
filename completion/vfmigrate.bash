# bash completion for vfmigrate
_vfmigrate()
{
	local cur prev words cword
	_init_completion || return
	case $prev in
	-f | --config)
		_filedir conf
		return
		;;
	-c | --connect)
		COMPREPLY=($(compgen -W 'qemu:///system qemu+ssh:// qemu+tcp://' -- "$cur"))
		return
		;;
	-s | --state-dir)
		_filedir -d
		return
		;;
	-b | --backend)
		COMPREPLY=($(compgen -W 'qmp libvirt' -- "$cur"))
		return
		;;
	--src-path-map | --dst-path-map)
		return
		;;
	-o | --set)
		if [[ $cur == libvirt.* ]]; then
			COMPREPLY=($(compgen -W 'libvirt.agent=auto libvirt.agent=socket
				libvirt.agent=channel libvirt.agent=qemu-ga' -- "$cur"))
		else
			local side keys='guest.bond= guest.vf-mac= guest.backup-mac= guest.physnet=
				guest.vlan= guest.create-bond= guest.fail-over-mac= guest.backend= guest.mode=
				source.vf-host=
				destination.migrate-uri= destination.incoming-uri=
				destination.incoming= migration.max-bandwidth=
				migration.downtime-limit= timeouts.command= timeouts.unplug=
				timeouts.unplug-settle= timeouts.migrate= timeouts.alive= timeouts.link='
			for side in source destination; do
				keys+=" $side.qmp= $side.agent= $side.vf-device= $side.vf-bus="
				keys+=" $side.vf-driver= $side.vf-netdev= $side.vf-tap= $side.vf-pool="
				keys+=" $side.sysfs-root="
			done
			COMPREPLY=($(compgen -W "$keys" -- "$cur"))
			compopt -o nospace 2>/dev/null
		fi
		return
		;;
	--fail-over-mac)
		COMPREPLY=($(compgen -W 'active none follow' -- "$cur"))
		return
		;;
	--mode)
		COMPREPLY=($(compgen -W 'auto bond failover' -- "$cur"))
		return
		;;
	--vfprobe)
		_filedir
		return
		;;
	--unplug-timeout | --max-bandwidth | --downtime-limit | --migrate-uri | \
		--bond | --vf-alias | --backup-mac | --vf-source | --vlan | --physnet | \
		--parallel | --to | --probe | --progress-fd)
		return
		;;
	esac
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W '--connect --config --set --state-dir --backend --json
			--create-bond --fail-over-mac --mode --unplug-timeout --max-bandwidth --downtime-limit --migrate-uri
			--src-path-map --dst-path-map --bond --vf-alias --backup-mac --vf-source --vlan
			--physnet --parallel --dry-run --all --to --probe --vfprobe --progress-fd
			--help --version' -- "$cur"))
		return
	fi
	local i cmd=
	for ((i = 1; i < cword; i++)); do
		case ${words[i]} in
		migrate | check | status | recover | config | setup | evacuate)
			cmd=${words[i]}
			break
			;;
		esac
	done
	if [[ -z $cmd ]]; then
		COMPREPLY=($(compgen -W 'migrate check status recover config setup evacuate' -- "$cur"))
		return
	fi
	local guests=
	[[ -d /etc/vfmigrate ]] && guests=$(cd /etc/vfmigrate && ls -- *.conf 2>/dev/null | sed 's/\.conf$//')
	COMPREPLY=($(compgen -W "$guests" -- "$cur"))
}
complete -F _vfmigrate vfmigrate
