# shellcheck shell=bash
# The CLI tests' checks, sourced after "$tmp" exists: each failure is counted in $fails.
#   failed TEXT...                 says FAIL with the last command's output, counts it
#   expect CODE DESCRIPTION CMD... runs CMD (stdout in $tmp/out, stderr in $tmp/err), fails
#                                  unless it exits CODE
fails=0
failed() {
	echo "FAIL: $*"
	cat "$tmp/out" "$tmp/err"
	fails=$((fails + 1))
}
expect() {
	local want=$1 what=$2
	shift 2
	"$@" >"$tmp/out" 2>"$tmp/err"
	local got=$?
	[ "$got" = "$want" ] || failed "$what: exit $got, want $want"
}
