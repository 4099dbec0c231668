#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# pfdk-tune on this machine: it refuses what cannot work with the
# validator's reason (in the ranked table too), measures the rest and
# config/default.ini on the same workload, and writes a winner no slower
# than the default, with the numbers as comments, which the bench then
# runs. The workload is the uffd source (what the tuner is for) where
# userfaultfd works, and the sim source always (cheap, and it keeps
# --faults covered).
set -u
tune=$1 bench=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# One tune run: $1 = name, the rest = pfdk-tune arguments.
tune_run() {
	local n=$1
	shift
	"$tune" --bench "$bench" --out "$tmp/$n.ini" "$@" >"$tmp/$n.out" 2>&1 ||
		fail "pfdk-tune $*: $(cat "$tmp/$n.out")"
	cat "$tmp/$n.out"
	grep -qE "^- +[^ ]+ +refused: .*sqpoll_cpu: .* own cpu" "$tmp/$n.out" ||
		fail "$n: the ranked table does not list the SQ-on-own-CPU layout as refused with its reason"
	grep -qE "^[0-9]+ +default.ini " "$tmp/$n.out" || fail "$n: default.ini not measured"
	win=$(sed -n 's/^; [^:]*: \([0-9]*\) faults\/s, p50 .* us, p99 .* us, p99.9 .* us$/\1/p' \
		"$tmp/$n.ini" | head -1)
	def=$(sed -n 's/^; config\/default.ini on the same workload: \([0-9]*\) faults\/s.*/\1/p' \
		"$tmp/$n.ini")
	[ -n "$win" ] && [ -n "$def" ] ||
		fail "$n: measurements missing from the profile: $(head -6 "$tmp/$n.ini")"
	[ "$win" -ge "$def" ] || fail "$n: winner $win faults/s < default $def"
	# The verdict follows the ranked table's ranges: separated when the
	# winner's slowest run beats the runner-up's fastest, else a tie; the
	# profile says which.
	python3 - "$tmp/$n.out" "$tmp/$n.ini" <<'PY' || fail "$n: verdict: $(cat "$tmp/$n.out")"
import re, sys
out = open(sys.argv[1]).read()
ranked = [l.split() for l in out.splitlines() if re.match(r"^[0-9]+ +\S+ +[0-9]", l)]
assert len(ranked) >= 2, ranked
w, r = ranked[0], ranked[1]
wmin, rmax = float(w[-2]), float(r[-1])
verdict = [l for l in out.splitlines() if l.startswith(("separated: ", "tie: "))]
assert len(verdict) == 1, verdict
assert verdict[0].startswith("separated: " if wmin > rmax else "tie: "), (verdict, w, r)
assert w[1] in verdict[0] and r[1] in verdict[0], (verdict, w, r)
assert "; " + verdict[0] + "\n" in open(sys.argv[2]).read()
# More rounds add runs: a candidate measured again has more. (Not
# necessarily the winner: one that was not in range of the leader when a
# round began can lead after it, and the last round may be spent.)
rounds = re.findall(r"^round ([0-9]+): ", out, re.M)
if rounds:
    repeat = int(re.search(r"--repeat ([0-9]+)", out).group(1))
    runs = {l[1]: int(l[-3]) for l in ranked}
    again = set()
    for l in re.findall(r"^round [0-9]+: .*again:(.*)$", out, re.M):
        again.update(l.split())
    assert again, out
    for name in again:
        assert runs[name] > repeat, (name, runs)
print("verdict ok:", verdict[0][:60], "rounds:", 1 + len(rounds))
PY
	echo "tune $n ok: winner $win faults/s, default $def faults/s"
}

# -h, --help and --version: exit 0, say what they should; no trial.
for a in -h --help; do
	"$tune" $a >"$tmp/o" 2>&1 || fail "pfdk-tune $a: exit $?"
	grep -q -- "--check FILE" "$tmp/o" && grep -q "^modes:" "$tmp/o" || fail "pfdk-tune $a: $(cat "$tmp/o")"
done
"$tune" --version >"$tmp/o" 2>&1 && grep -qE '^pfdk-tune \(PFDK\) [0-9]+\.[0-9]+' "$tmp/o" ||
	fail "pfdk-tune --version: $(cat "$tmp/o")"

# --check: the shipped examples are valid for the hosts they are written
# for and refused, with the loader's file:line reason, for smaller ones.
for c in "config/examples/one-node-16core.ini|16|1|0|ok for a host of 16 CPUs and 1 node" \
	"config/examples/two-node.ini|32|2|0|ok for a host of 32 CPUs and 2 node" \
	"config/examples/inthread.ini|2|1|0|ok for a host of 2 CPUs and 1 node" \
	"config/default.ini|2|1|0|layout rtc" \
	"config/examples/two-node.ini|16|2|1|two-node.ini:[0-9]*: \[lcore\.[0-9]*\] cpu: CPU 16 does not exist on a 16-CPU host" \
	"config/examples/two-node.ini|32|1|1|two-node.ini:[0-9]*: \[node\.1\]: NUMA node 1 does not exist" \
	"config/examples/one-node-16core.ini|8|1|1|refused for a host of 8 CPUs"; do
	IFS='|' read -r f n m want msg <<<"$c"
	"$tune" --check "$f" --cpus "$n" --nodes "$m" >"$tmp/o" 2>&1
	rc=$?
	[ $rc -eq "$want" ] && grep -q "^$f: .*$msg" "$tmp/o" || fail "--check $f --cpus $n --nodes $m: exit $rc: $(cat "$tmp/o")"
done
# Several files at once: one line each, 1 if any is refused.
"$tune" --check config/examples/one-node-16core.ini --check config/examples/two-node.ini \
	--cpus 32 --nodes 2 >"$tmp/o" 2>&1 && [ "$(grep -c ': ok for ' "$tmp/o")" -eq 2 ] ||
	fail "--check two files: $(cat "$tmp/o")"
"$tune" --check config/examples/two-node.ini --check /nonexistent.ini --cpus 32 --nodes 2 >"$tmp/o" 2>&1
[ $? -eq 1 ] && grep -q "^/nonexistent.ini: refused" "$tmp/o" && grep -q "two-node.ini: ok" "$tmp/o" ||
	fail "--check with a missing file: $(cat "$tmp/o")"
for a in "--cpus 0" "--cpus x" "--nodes 0" "--nodes 99999"; do
	# shellcheck disable=SC2086
	"$tune" --check config/default.ini $a >"$tmp/o" 2>&1
	[ $? -eq 2 ] && grep -q -- "$a: expected a decimal" "$tmp/o" || fail "--check $a: $(cat "$tmp/o")"
done
"$tune" --cpus 4 >"$tmp/o" 2>&1
[ $? -eq 2 ] && grep -q -- "--cpus and --nodes go with --check" "$tmp/o" || fail "--cpus alone: $(cat "$tmp/o")"

# Refused before any trial: an --out that cannot be written, numbers that
# are not decimal (no octal "010" = 8, no hex, no garbage).
"$tune" --bench "$bench" --out "$tmp/nodir/t.ini" --faults 1000 >"$tmp/o" 2>&1
[ $? -eq 2 ] && grep -q -- "--out $tmp/nodir/t.ini: cannot write it" "$tmp/o" &&
	! grep -q "measuring" "$tmp/o" || fail "--out to a missing directory: $(cat "$tmp/o")"
for a in "--faults 0x10" "--faults 12abc" "--repeat -1" "--repeat 100"; do
	# shellcheck disable=SC2086
	"$tune" --bench "$bench" --out "$tmp/x.ini" $a >"$tmp/o" 2>&1
	[ $? -eq 2 ] && grep -q -- "${a%% *} ${a#* }: expected a decimal" "$tmp/o" ||
		fail "pfdk-tune $a: $(cat "$tmp/o")"
done
[ ! -e "$tmp/x.ini" ] || fail "a refused pfdk-tune left $tmp/x.ini"

# The uffd workload, small: 2048 pages a run, one run per trial.
if "$bench" --source uffd --modes native --pages 64 --repeat 1 >"$tmp/probe" 2>&1; then
	tune_run uffd --repeat 1 -- --source uffd --uffds 2 --pages 2048
	grep -q "^; layouts measured with pfdk-faultbench (.*--source uffd --uffds 2 --pages 2048)" \
		"$tmp/uffd.ini" || fail "uffd: the workload is not in the profile's comments"
	# Deployable for what was measured: the workload's two uffd devices
	# (sigbus=1 under engine = inthread), not the default's sim0, valid
	# with the drivers' own checks.
	grep -q "^\[device.uffd0\]" "$tmp/uffd.ini" && grep -q "^\[device.uffd1\]" "$tmp/uffd.ini" &&
		! grep -q "sim0" "$tmp/uffd.ini" || fail "uffd: devices of the profile: $(cat "$tmp/uffd.ini")"
	if grep -q "^engine = inthread" "$tmp/uffd.ini"; then
		grep -q "^devargs = uffd0,sigbus=1$" "$tmp/uffd.ini" || fail "uffd: inthread without sigbus=1"
	fi
	"$tune" --check "$tmp/uffd.ini" >"$tmp/o" 2>&1 || fail "uffd: the tuned profile does not load: $(cat "$tmp/o")"
	grep -q "^; layouts measured .*--faults" "$tmp/uffd.ini" &&
		fail "uffd: --faults passed to a uffd workload"
	"$bench" --profile "$tmp/uffd.ini" --modes pfdk --source uffd --pages 1024 --repeat 1 \
		>"$tmp/run" 2>&1 || fail "bench on the tuned profile (uffd): $(cat "$tmp/run")"
	grep -qE "^pfdk +uffd +[0-9]" "$tmp/run" ||
		fail "bench on the tuned profile (uffd): no pfdk row: $(cat "$tmp/run")"
else
	echo "uffd workload skipped: $(tail -1 "$tmp/probe")"
fi

# The sim workload: --faults before -- names it.
tune_run sim --faults 300000 --repeat 2 --max-rounds 2
grep -q "^; layouts measured .*--source sim --faults 300000)" "$tmp/sim.ini" ||
	fail "sim: the workload is not in the profile's comments"
"$bench" --profile "$tmp/sim.ini" --modes pfdk --faults 100000 --repeat 1 >"$tmp/run" 2>&1 ||
	fail "bench on the tuned profile (sim): $(cat "$tmp/run")"
# A sim workload with its own device: the profile carries that device.
tune_run simdev --repeat 1 -- --source sim --devargs sim0,seed=7 --faults 200000
grep -q "^devargs = sim0,seed=7$" "$tmp/simdev.ini" || fail "simdev: devices: $(cat "$tmp/simdev.ini")"
"$tune" --check "$tmp/simdev.ini" >"$tmp/o" 2>&1 || fail "simdev: does not load: $(cat "$tmp/o")"
"$tune" --max-rounds 0 >"$tmp/o" 2>&1
[ $? -eq 2 ] && grep -q -- "--max-rounds 0: expected a decimal" "$tmp/o" || fail "--max-rounds 0: $(cat "$tmp/o")"
echo "tune ok"
