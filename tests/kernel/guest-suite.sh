#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Run in the rig's guest: each argument is one test command (a program and
# its arguments, one string); print OK/FAIL/SKIP per test with its output
# on failure, write "passed failed skipped" to /run/pfdk/tally, and exit 1
# if any failed. Exit status 77 of a test is a skip.
p=0 f=0 s=0
log=/tmp/guest-suite.log
for t in "$@"; do
	name=$(basename "${t%% *}")${t#"${t%% *}"}
	start=$(date +%s)
	# shellcheck disable=SC2086 # the command is split on purpose
	timeout -k 5 1200 $t >"$log" 2>&1
	rc=$?
	secs=$(( $(date +%s) - start ))
	case $rc in
	0) p=$((p + 1)); echo "OK    $name (${secs} s)"; grep -E '^  ' "$log" ;;
	77) s=$((s + 1)); echo "SKIP  $name: $(grep -m1 -i skip "$log")" ;;
	*) f=$((f + 1)); echo "FAIL  $name (exit $rc, ${secs} s)"; tail -60 "$log" ;;
	esac
done
echo "$p $f $s" >/run/pfdk/tally
echo "guest: $p passed, $f failed, $s skipped"
[ "$f" -eq 0 ]
