# bash completion for vfmigrate
_vfmigrate()
{
	local cur prev words cword
	_init_completion || return
	case $prev in
	-c | --config)
		_filedir conf
		return
		;;
	-s | --state-dir)
		_filedir -d
		return
		;;
	-b | --backend)
		COMPREPLY=($(compgen -W 'qmp' -- "$cur"))
		return
		;;
	-o | --set | --unplug-timeout | --max-bandwidth | --downtime-limit)
		return
		;;
	esac
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W '--config --set --state-dir --backend --json --create-bond
			--unplug-timeout --max-bandwidth --downtime-limit --help --version' -- "$cur"))
		return
	fi
	local i cmd=
	for ((i = 1; i < cword; i++)); do
		case ${words[i]} in
		migrate | check | status | recover | config)
			cmd=${words[i]}
			break
			;;
		esac
	done
	if [[ -z $cmd ]]; then
		COMPREPLY=($(compgen -W 'migrate check status recover config' -- "$cur"))
		return
	fi
	local guests=
	[[ -d /etc/vfmigrate ]] && guests=$(cd /etc/vfmigrate && ls -- *.conf 2>/dev/null | sed 's/\.conf$//')
	COMPREPLY=($(compgen -W "$guests" -- "$cur"))
}
complete -F _vfmigrate vfmigrate
