#!/usr/bin/env bash
# The include rules between the layers (README, Layout). Each quoted #include in src/, guest/
# and tools/ is resolved the way the compiler does (next to the file, then under src/) and the
# layer of the file it names must be one its includer may use. Prints each violation as
# FILE:LINE: LAYER -> LAYER (INCLUDE) and exits 1 when there is any.
#
#   layers.sh [ROOT]    ROOT: the source tree (default: the one this script is in)
set -u
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
root=$(cd "$root" && pwd) || exit 2

# What each layer may include besides itself. Anything not named is forbidden.
#   util   helpers with no project deps: nothing of ours
#   model  the data model: util
#   proto  codecs, no I/O: model, util
#   core   pure logic over the ops: proto, model, util (never io or cli)
#   io     the adapters behind core's ops: core (the ops), proto, model, util
#   cli    the composition root: all but guest and probe
#   probe  vfprobe, a program of its own: util only
#   guest  vfmigrate-agent, another machine: proto, model, util (never io, core or cli)
#   tools  lab helpers: io and what io may use
declare -A allowed=(
	[util]=""
	[model]="util"
	[proto]="model util"
	[core]="proto model util"
	[io]="core proto model util"
	[cli]="io core proto model util"
	[probe]="util"
	[guest]="proto model util"
	[tools]="io core proto model util"
)

# The layer of a path relative to root; empty when it is in none (libc, tests, ...).
layer_of() {
	case $1 in
	src/*/*) local rest=${1#src/}; echo "${rest%%/*}" ;;
	guest/*) echo guest ;;
	tools/*) echo tools ;;
	esac
}

fails=0
while IFS= read -r file; do
	from=$(layer_of "$file")
	[ -n "$from" ] || continue
	if [ -z "${allowed[$from]+set}" ]; then
		echo "$file: in no known layer ($from); add it to ${0##*/}"
		fails=$((fails + 1))
		continue
	fi
	dir=$(dirname "$file")
	while IFS=: read -r line inc; do
		target=
		for cand in "$dir/$inc" "src/$inc"; do
			norm=$(realpath -m --relative-to="$root" "$root/$cand")
			if [ -e "$root/$norm" ]; then
				target=$norm
				break
			fi
		done
		if [ -z "$target" ]; then
			echo "$file:$line: \"$inc\" names no file in the tree"
			fails=$((fails + 1))
			continue
		fi
		to=$(layer_of "$target")
		if [ -z "$to" ] || [ "$to" = "$from" ]; then continue; fi
		case " ${allowed[$from]} " in
		*" $to "*) ;;
		*)
			echo "$file:$line: $from -> $to (\"$inc\")"
			fails=$((fails + 1))
			;;
		esac
	done < <(grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$root/$file" |
		sed -E 's/^([0-9]+):[^"]*"([^"]+)".*/\1:\2/')
done < <(cd "$root" && find src guest tools -type f \( -name '*.c' -o -name '*.h' \) 2>/dev/null | sort)

if [ "$fails" -gt 0 ]; then
	echo "layers: $fails include(s) against the layer rules"
	exit 1
fi
echo "layers: ok"
