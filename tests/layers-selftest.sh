#!/usr/bin/env bash
# layers.sh itself: on a small tree of one header a layer it passes; each include against a
# rule, added alone, makes it fail and name the file, the line and the two layers.
set -u
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d /tmp/vfm-layers-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fails=0

tree() { # a clean tree in $tmp/t, using each allowed edge once
	rm -rf "$tmp/t"
	mkdir -p "$tmp/t"/src/{util,model,proto,core,io,cli,probe} "$tmp/t/guest" "$tmp/t/tools"
	echo '#include <stdio.h>' >"$tmp/t/src/util/util.h"
	echo '#include "../util/util.h"' >"$tmp/t/src/model/vfm.h"
	printf '#include "../model/vfm.h"\n#include "../util/util.h"\n' >"$tmp/t/src/proto/journal.h"
	printf '#include "journal.h"\n' >"$tmp/t/src/proto/journal.c"
	printf '#include "../proto/journal.h"\n#include "../model/vfm.h"\n' >"$tmp/t/src/core/ops.h"
	printf '#include "core/ops.h"\n#include "proto/journal.h"\n' >"$tmp/t/src/io/hv.h"
	printf '#include "io/hv.h"\n#include "core/ops.h"\n' >"$tmp/t/src/cli/main.c"
	printf '#include "util/util.h"\n' >"$tmp/t/src/probe/probe.c"
	printf '#include "../src/proto/journal.h"\n#include "../src/util/util.h"\n' >"$tmp/t/guest/agent.c"
	printf '#include "io/hv.h"\n' >"$tmp/t/tools/call.c"
}

# FILE INCLUDE WANT: appends the include as line 2+ of FILE and expects a failure naming WANT.
violation() {
	local file=$1 inc=$2 want=$3 line
	tree
	[ -e "$tmp/t/$file" ] || : >"$tmp/t/$file"
	echo "#include \"$inc\"" >>"$tmp/t/$file"
	line=$(wc -l <"$tmp/t/$file")
	if "$here/layers.sh" "$tmp/t" >"$tmp/out" 2>&1; then
		echo "FAIL: $file including $inc passed"
		fails=$((fails + 1))
	elif ! grep -qF "$file:$line: $want" "$tmp/out"; then
		echo "FAIL: $file including $inc: no \"$file:$line: $want\" in:"
		cat "$tmp/out"
		fails=$((fails + 1))
	fi
}

tree
"$here/layers.sh" "$tmp/t" >"$tmp/out" 2>&1 || {
	echo "FAIL: the clean tree is refused:"
	cat "$tmp/out"
	fails=$((fails + 1))
}

# The rules of issue 11 and the model's place below proto.
violation src/proto/journal.h ../core/ops.h "proto -> core"
violation src/proto/journal.c ../io/hv.h "proto -> io"
violation src/proto/journal.c ../cli/main.c "proto -> cli"
violation src/core/ops.h ../io/hv.h "core -> io"
violation src/core/ops.h ../cli/main.c "core -> cli"
violation guest/agent.c ../src/io/hv.h "guest -> io"
violation guest/agent.c ../src/core/ops.h "guest -> core"
violation guest/agent.c ../src/cli/main.c "guest -> cli"
violation src/util/util.h ../model/vfm.h "util -> model"
violation src/util/util.h ../proto/journal.h "util -> proto"
violation src/model/vfm.h ../proto/journal.h "model -> proto"
violation src/model/vfm.h ../core/ops.h "model -> core"
violation src/io/hv.h ../cli/main.c "io -> cli"
violation src/probe/probe.c ../core/ops.h "probe -> core"
# The other spelling (from src/, as -Isrc allows) is resolved too.
violation src/core/ops.h io/hv.h "core -> io"
# An include that names no file cannot be judged: refused.
violation src/core/ops.h ../io/nothere.h '"../io/nothere.h" names no file'
# A new directory under src/ must be given its rules.
tree
mkdir -p "$tmp/t/src/newlayer" && echo '#include "../util/util.h"' >"$tmp/t/src/newlayer/x.h"
if "$here/layers.sh" "$tmp/t" >/dev/null 2>&1; then
	echo "FAIL: a directory in no layer passed"
	fails=$((fails + 1))
fi

[ "$fails" -eq 0 ] && echo "layers-selftest: ok"
exit $((fails > 0))
