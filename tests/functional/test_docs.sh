#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The profiles in docs/profile.md and the shipped config/ must load as
# written (through pfdk-tune --check, the loader's own checks), and no
# document may point outside the repository.
# Usage: test_docs.sh PFDK_TUNE   (run from the source root)
set -uo pipefail
tune=$1
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

n=$(grep -c '^```ini' docs/profile.md)
if [ "$n" -lt 1 ]; then
	echo "FAIL: docs/profile.md has no ini example"; exit 1
fi
for i in $(seq 1 "$n"); do
	awk -v want="$i" '/^```ini/{k++;f=(k==want);next}/^```/{f=0}f' docs/profile.md \
		> "$tmp/example$i.ini"
	if out=$("$tune" --check "$tmp/example$i.ini" --cpus 2 --nodes 1 2>&1); then
		echo "ok: docs/profile.md example $i loads"
	else
		echo "FAIL: docs/profile.md example $i does not load as written: $out"
		fail=1
	fi
done
while read -r f cpus nodes; do
	if out=$("$tune" --check "$f" --cpus "$cpus" --nodes "$nodes" 2>&1); then
		echo "ok: $f loads for $cpus CPUs, $nodes node(s)"
	else
		echo "FAIL: $f: $out"; fail=1
	fi
done <<'LIST'
config/default.ini 2 1
config/examples/inthread.ini 2 1
config/examples/one-node-16core.ini 16 1
config/examples/two-node.ini 32 2
LIST
if out=$(grep -rnE '\.\./shared|DESIGN\.md' README.md docs/ 2>/dev/null); then
	echo "FAIL: documents refer outside the repository:"; echo "$out"; fail=1
else
	echo "ok: no document refers outside the repository"
fi
exit $fail
