#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The bench as a user meets it: a wrong profile or devargs gives a clear
# message naming the problem and a non-zero exit; --json writes the fields
# scripts rely on (DESIGN.md §7) with zero lost and duplicated, and the CPU
# times; --plot draws a PNG, or says how to get gnuplot when it is missing.
set -u
bench=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# Bad profile: FILE:LINE: [SECTION] KEY: reason, exit 2.
"$bench" --profile tests/unit/profiles/unknown_key.ini >"$tmp/out" 2>&1
rc=$?
[ $rc -eq 2 ] || fail "bad profile: exit $rc, want 2"
grep -qE '^tests/unit/profiles/unknown_key.ini:[0-9]+: \[[^]]+\] [a-z_]+: ' "$tmp/out" ||
	fail "bad profile message: $(cat "$tmp/out")"

"$bench" --profile /nonexistent.ini >"$tmp/out" 2>&1
[ $? -eq 2 ] && grep -q '/nonexistent.ini' "$tmp/out" || fail "missing profile: $(cat "$tmp/out")"

# Bad devargs: the device and the key are named, exit non-zero.
"$bench" --devargs sim0,bogus=1 --faults 1000 --modes pfdk-rtc >"$tmp/out" 2>&1 &&
	fail "bad devargs accepted"
grep -q "unknown key 'bogus'" "$tmp/out" || fail "bad devargs message: $(cat "$tmp/out")"

# -h/--help list every mode there is (each accepted by --modes), the same
# list the error for a mode that is not names; --version says the version.
for a in -h --help; do
	"$bench" $a >"$tmp/h" 2>&1 || fail "$a: exit $?"
done
"$bench" --version >"$tmp/o" 2>&1 && grep -qE '^pfdk-faultbench \(PFDK\) [0-9]+\.[0-9]+' "$tmp/o" ||
	fail "--version: $(cat "$tmp/o")"
sed -n '/^Modes/,/^EAL args/p' "$tmp/h" | sed -n 's/^  \([a-z][a-z0-9-]*\) .*/\1/p' | sort >"$tmp/hm"
"$bench" --modes nosuchmode >"$tmp/o" 2>&1
sed 's/.*source (//; s/ need --source uffd;/,/; s/ need --source iommufd --mock)//; s/;/,/' "$tmp/o" |
	tr ',' '\n' | tr -d ' ' | sort >"$tmp/em"
[ "$(wc -l <"$tmp/hm")" -ge 15 ] && cmp -s "$tmp/hm" "$tmp/em" ||
	fail "--help modes and the error's differ: $(cat "$tmp/hm") / $(cat "$tmp/o")"
if "$bench" --source uffd --modes native --pages 16 --repeat 1 >/dev/null 2>&1; then
	# fd-*: the mock device's handlers (--source iommufd --mock, kernel suite)
	grep -v '^fd-' "$tmp/hm" >"$tmp/hu"
	"$bench" --source uffd --dry-run --modes "$(paste -sd, "$tmp/hu")" >"$tmp/o" 2>&1 ||
		fail "a mode in --help is refused: $(cat "$tmp/o")"
	[ "$(grep -c '^row ' "$tmp/o")" -eq "$(wc -l <"$tmp/hu")" ] || fail "dry run of every mode: $(cat "$tmp/o")"
fi

# Bad option values.
"$bench" --modes nosuchmode >"$tmp/out" 2>&1 && fail "bad mode accepted"
grep -q "nosuchmode" "$tmp/out" || fail "bad mode message: $(cat "$tmp/out")"
# In-thread resolution needs faulting threads: not on the sim source.
"$bench" --source sim --modes pfdk-inthread >"$tmp/out" 2>&1 && fail "pfdk-inthread on sim accepted"
grep -q "'pfdk-inthread'.*need --source uffd" "$tmp/out" || fail "inthread/sim message: $(cat "$tmp/out")"
"$bench" --fault-around 512 >"$tmp/out" 2>&1
[ $? -eq 2 ] && grep -q -- "--fault-around 512" "$tmp/out" || fail "bad --fault-around: $(cat "$tmp/out")"
"$bench" --plot "" >"$tmp/out" 2>&1
[ $? -eq 2 ] && grep -q -- "--plot" "$tmp/out" || fail "empty --plot: $(cat "$tmp/out")"

# The sim source with devices it cannot finish on: refused at once with a
# reason (exit 2), never a run that waits for ever (timeout turns a hang
# into a failure). Devargs of 261 characters leave no room for total=.
long="sim0,seed=$(printf '0%.0s' $(seq 250))1"
for a in "--devargs uffd0|is not a sim device" \
	"--devargs iommufd0,emu=1|is not a sim device" \
	"--devargs sim0,total=0|total=0" \
	"--devargs $long|leave no room for the ',total=" \
	"--profile config/examples/inthread.ini|'uffd0' (config/examples/inthread.ini) is not a sim device"; do
	opt=${a%%|*} want=${a#*|}
	# shellcheck disable=SC2086
	timeout 60 "$bench" --source sim --faults 1000 --repeat 1 --modes pfdk-rtc $opt \
		>"$tmp/out" 2>&1
	rc=$?
	[ $rc -eq 2 ] || fail "sim with $opt: exit $rc, want 2 (124: hung): $(tail -3 "$tmp/out")"
	grep -qF -- "$want" "$tmp/out" || fail "sim with $opt: message: $(cat "$tmp/out")"
	grep -q '^running ' "$tmp/out" && fail "sim with $opt: rows ran: $(cat "$tmp/out")"
done
# A total= of the user's own is what each queue emits.
timeout 60 "$bench" --source sim --devargs sim0,total=700 --repeat 1 --modes pfdk-rtc \
	--burst 32 --json "$tmp/t.json" >"$tmp/out" 2>&1 || fail "sim total=700: $(cat "$tmp/out")"
python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"]; assert len(r)==1 and r[0]["faults"]==700 and r[0]["lost"]==0, r' \
	"$tmp/t.json" || fail "sim total=700: $(cat "$tmp/t.json")"

# Numbers are decimal: "010" is ten (not octal eight); garbage, signs,
# hexadecimal and overflow are refused by name.
timeout 60 "$bench" --source sim --faults 010 --repeat 1 --modes pfdk-rtc --burst 32 \
	--json "$tmp/n.json" >"$tmp/out" 2>&1 || fail "--faults 010: $(cat "$tmp/out")"
python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"]; assert r[0]["faults"]==10, r' \
	"$tmp/n.json" || fail "--faults 010 is not ten: $(cat "$tmp/n.json")"
for a in "--faults 0x10" "--faults -5" "--faults 99999999999999999999999" "--repeat 1x" \
	"--repeat +2" "--burst 032,x"; do
	# shellcheck disable=SC2086
	timeout 60 "$bench" --source sim $a >"$tmp/out" 2>&1
	rc=$?
	[ $rc -eq 2 ] && grep -q -- "${a%% *} " "$tmp/out" || fail "$a: exit $rc: $(cat "$tmp/out")"
done

# Output paths are checked before anything runs: exit 2 at once, no row run.
for a in "--json $tmp/nodir/r.json" "--plot $tmp/nodir/p.png" "--json $tmp"; do
	# shellcheck disable=SC2086
	timeout 60 "$bench" --source sim --faults 1000 --repeat 1 $a >"$tmp/out" 2>&1
	rc=$?
	[ $rc -eq 2 ] || fail "$a: exit $rc, want 2: $(cat "$tmp/out")"
	grep -q -- "^${a%% *} .*cannot write it" "$tmp/out" || fail "$a: message: $(cat "$tmp/out")"
	grep -q '^running ' "$tmp/out" && fail "$a: rows ran first: $(cat "$tmp/out")"
done
# The EAL says why it failed (never "Success"); a secondary process is refused.
timeout 60 "$bench" --no-such-eal-option -- --source sim >"$tmp/out" 2>&1
[ $? -eq 1 ] && grep -q '^EAL init failed: [A-Z].*; EAL arguments: ' "$tmp/out" &&
	! grep -q 'failed: Success' "$tmp/out" || fail "EAL failure message: $(tail -3 "$tmp/out")"
timeout 60 "$bench" --proc-type secondary -- --source sim >"$tmp/out" 2>&1
[ $? -eq 2 ] && grep -q -- '--proc-type secondary: .*primary' "$tmp/out" ||
	fail "--proc-type secondary: $(tail -3 "$tmp/out")"

# JSON strings are escaped: a profile whose path and name hold quotes,
# backslashes and control characters still gives valid JSON, with them.
pdir="$tmp/we\"ird\\dir"
pfile="$pdir/p$(printf '\t')x$(printf '\001').ini"
mkdir -p "$pdir"
sed 's/^name = default$/name = a "q" \\ b/' config/default.ini >"$pfile"
timeout 60 "$bench" --source sim --profile "$pfile" --faults 2000 --repeat 1 --modes pfdk-rtc \
	--burst 32 --json "$tmp/e.json" >"$tmp/out" 2>&1 || fail "odd profile path: $(cat "$tmp/out")"
python3 -m json.tool "$tmp/e.json" >/dev/null || fail "invalid JSON: $(cat "$tmp/e.json")"
python3 - "$tmp/e.json" "$pfile" <<'PY' || fail "escaped strings: $(cat "$tmp/e.json")"
import json, sys
m = json.load(open(sys.argv[1]))["machine"]
assert m["profile_file"] == sys.argv[2], m
assert m["profile"] == 'a "q" \\ b', m
PY

# SIGINT/SIGTERM: the runs stop, the runs that finished are printed and
# written, exit 128 + the signal, and no hang (timeout would say 124).
# The signal goes to the bench and to timeout(1), which passes it on: two
# at once, as wrappers and a terminal's process group deliver them, are one
# request, not a kill. --foreground: timeout sends no SIGCONT after it; a
# SIGCONT flushes the SIGSTOP that ASan's exit-time leak check queues when
# it ptrace-attaches, and its tracer then waits forever (seen in CI). On the uffd source
# the faulting threads stop between faults and every fault is answered.
sig_cases="INT:sim TERM:sim"
"$bench" --source uffd --modes native --pages 16 --repeat 1 >/dev/null 2>&1 && sig_cases="$sig_cases INT:uffd"
for c in $sig_cases; do
	sig=${c%%:*} src=${c#*:}
	if [ "$src" = sim ]; then
		wl="--source sim --faults 3000000 --modes pfdk-rtc" row="pfdk-rtc +sim +32 +3000000 " n=3000000
	else
		wl="--source uffd --pages 4096 --modes pfdk-colocated" row="pfdk-colocated +uffd +32 +4096 " n=4096
	fi
	# shellcheck disable=SC2086
	timeout --foreground -k 10 120 "$bench" $wl --repeat 99 --burst 32 --json "$tmp/s.json" >"$tmp/out" 2>&1 &
	pid=$!
	for _ in $(seq 300); do grep -q '^running ' "$tmp/out" && break; sleep 0.1; done
	sleep 1.5
	kill -"$sig" "$(pgrep -P $pid)" $pid
	wait $pid
	rc=$?
	want=$([ "$sig" = INT ] && echo 130 || echo 143)
	[ $rc -eq "$want" ] || fail "SIG$sig $src: exit $rc, want $want: $(tail -5 "$tmp/out")"
	grep -q "^interrupted by SIG$sig" "$tmp/out" || fail "SIG$sig $src: no note: $(cat "$tmp/out")"
	grep -qE "^$row" "$tmp/out" || fail "SIG$sig $src: no row: $(cat "$tmp/out")"
	python3 - "$tmp/s.json" "$n" <<'PY' || fail "SIG$sig $src json: $(cat "$tmp/s.json")"
import json, sys
r = json.load(open(sys.argv[1]))["results"]
assert len(r) == 1 and r[0]["status"] == "ok", r
assert r[0]["faults"] == int(sys.argv[2]) and r[0]["lost"] == 0 and r[0]["duplicated"] == 0, r
PY
	echo "SIG$sig on $src ok: exit $rc"
done

# EAL options as a DPDK user types them: every row runs on the lcores
# they give (extended where a row needs one), the map is printed, and
# with -l 0 the rows needing CPU 1 are "not run" with the reason while
# the others run. On the uffd source where it works, else on sim.
if "$bench" --source uffd --modes native --pages 16 --repeat 1 >"$tmp/probe" 2>&1; then
	wl="--source uffd --pages 256 --repeat 1 --modes pfdk-rtc,pfdk-colocated,pfdk-pipeline,classic,native"
else
	echo "EAL option rows on sim: $(tail -1 "$tmp/probe")"
	wl="--source sim --faults 20000 --repeat 1 --burst 32 --modes pfdk-rtc,pfdk-colocated,pfdk-pipeline"
fi
for eo in "-l 0-1" "-c 0x3" "--file-prefix pfdk-bench-cli-$$" "--lcores 0@0,1@1" \
	"--in-memory" "--no-huge -m 512" "-l 0"; do
	# shellcheck disable=SC2086
	timeout 120 "$bench" $eo -- $wl --json "$tmp/l.json" >"$tmp/out" 2>&1 ||
		fail "EAL options $eo: $(cat "$tmp/out")"
	grep -q '^lcores: EAL --lcores .*, main lcore 0' "$tmp/out" ||
		fail "EAL options $eo: no lcore map: $(cat "$tmp/out")"
	python3 - "$tmp/l.json" "$eo" <<'PY' || fail "EAL options $eo: $(cat "$tmp/out")"
import json, sys
rows = json.load(open(sys.argv[1]))["results"]
eo = sys.argv[2]
assert len(rows) >= 3, rows
for r in rows:
    # With -l 0 only CPU 0 is given: rows with a worker on CPU 1 cannot run.
    if eo == "-l 0" and r["mode"] in ("pfdk-rtc", "pfdk-pipeline"):
        assert r["status"] == "not run" and "CPU 1" in r["reason"], r
        assert r["faults"] is None and r["lost"] is None, r
        continue
    assert r["status"] == "ok", r
    assert r["faults"] > 0 and r["faults_per_s"] > 0, r
    assert r["lost"] == 0 and r["duplicated"] == 0, r
print("EAL options %s ok: %s" % (eo, ", ".join(r["mode"] + " " + r["status"] for r in rows)))
PY
	if [ "$eo" = "-l 0" ]; then
		grep -qE '^pfdk-rtc +[a-z]+ +32 not run: .*CPU 1.*-l 0' "$tmp/out" ||
			fail "-l 0: no 'not run' line: $(cat "$tmp/out")"
	fi
done

# JSON: every row has the contract's fields; nothing lost or duplicated.
"$bench" --faults 200000 --repeat 2 --json "$tmp/r.json" >"$tmp/out" 2>&1 ||
	fail "bench run: $(cat "$tmp/out")"
python3 - "$tmp/r.json" "$tmp/out" <<'PY' || fail "json check: $(cat "$tmp/out")"
import json, sys
d = json.load(open(sys.argv[1]))
assert isinstance(d["machine"], dict) and d["machine"]["cpus"] > 0
rows = d["results"]
assert len(rows) >= 3, rows
need = ["mode", "source", "faults", "faults_per_s", "p50_us", "p90_us", "p99_us",
        "p999_us", "max_us", "lost", "duplicated"]
for r in rows:
    for k in need:
        assert k in r, (k, r)
    assert r["faults"] >= 200000 and r["faults_per_s"] > 0, r
    assert r["lost"] == 0 and r["duplicated"] == 0, r
    assert r["p50_us"] <= r["p99_us"] <= r["p999_us"] <= r["max_us"], r
    for k in ["wall_s", "cpu_handler_s"]:
        assert isinstance(r[k], (int, float)) and r[k] >= 0, (k, r)
    # sim: no faulting threads; the lcores spin, so the handler used CPU.
    assert r["wall_s"] > 0 and r["cpu_handler_s"] > 0, r
    # ... and no uffd-only columns.
    for k in ["cpu_faulters_s", "threads", "uffds", "page_size", "pattern", "access",
              "fault_around", "ratio_classic", "ratio_native"]:
        assert r[k] is None, (k, r)
    # Statistics that can be checked: each run's values, min <= median <= max.
    assert r["runs"] == 2 and r["layout"] in ("rtc", "pipeline", "colocated"), r
    assert r["engine"] and r["within_spread_of_best"] in (True, False), r
    for k in ["faults_per_s", "p50_us", "p90_us", "p99_us", "p999_us", "max_us"]:
        v = r["per_run"][k]
        assert len(v) == 2 and min(v) == r[k + "_min"] and max(v) == r[k + "_max"], (k, r)
        assert r[k + "_min"] <= r[k] <= r[k + "_max"], (k, r)
    assert "cpu_faulters_s" not in r["per_run"], r
assert d["schema_version"] == 2 and d["bench"]["name"] == "pfdk-faultbench", d
assert d["bench"]["version"] and d["bench"]["command_line"][-4:] == ["--repeat", "2", "--json", sys.argv[1]], d["bench"]
import re
assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", d["bench"]["timestamp"]), d["bench"]
assert "cpu_model" in d["machine"], d["machine"]
w = d["workload"]
assert w["source"] == "sim" and w["repeat"] == 2 and w["faults"] == 200000 and w["access"] is None, w
# Rows within the best row's spread: marked in the JSON and with '~' in the table.
best = max(rows, key=lambda r: r["faults_per_s"])
table = {}
for line in open(sys.argv[2]):
    f = line.split()
    if len(f) > 6 and f[1] == "sim" and f[2].isdigit():
        table[(f[0], int(f[2]))] = f[5]
for r in rows:
    want = r["faults_per_s_max"] >= best["faults_per_s_min"]
    assert r["within_spread_of_best"] == want, (r, best)
    sp = table[(r["mode"], r["burst"])]
    assert sp.startswith("~") == (want and r is not best), (sp, r)
print("json ok:", len(rows), "rows;", "within spread:",
      [r["mode"] for r in rows if r["within_spread_of_best"] and r is not best])
PY

# uffd: a quick run of a PFDK row and the hand-written classic handler, every
# page checked against the store; skipped where userfaultfd is refused.
"$bench" --source uffd --pages 512 --threads 2 --pattern random --repeat 1 \
	--modes pfdk-rtc,pfdk-inthread,pfdk-inthread-fa,classic,sigbus,native \
	--fault-around 7 --json "$tmp/u.json" >"$tmp/out" 2>&1
rc=$?
if [ $rc -ne 0 ] && grep -q '^--source uffd: ' "$tmp/out"; then
	echo "SKIP uffd run: $(grep '^--source uffd: ' "$tmp/out")"
else
	[ $rc -eq 0 ] || fail "uffd bench run: $(cat "$tmp/out")"
	python3 - "$tmp/u.json" <<'PY' || fail "uffd json check: $(cat "$tmp/out")"
import json, sys
d = json.load(open(sys.argv[1]))
rows = {r["mode"]: r for r in d["results"]}
assert set(rows) == {"pfdk-rtc", "pfdk-inthread", "pfdk-inthread-fa", "classic",
                     "sigbus", "native"}, rows
for r in rows.values():
    for k in ["mode", "source", "faults", "faults_per_s", "p50_us", "p99_us", "p999_us",
              "max_us", "lost", "duplicated", "threads", "uffds", "page_size",
              "ratio_classic", "ratio_native"]:
        assert k in r, (k, r)
    assert r["source"] == "uffd" and r["faults"] == 512 and r["faults_per_s"] > 0, r
    assert r["threads"] == 2 and r["uffds"] == 1 and r["page_size"] == 4096, r
    assert r["lost"] == 0 and r["duplicated"] == 0, r
    assert r["ratio_classic"] > 0 and r["ratio_native"] > 0, r
assert rows["classic"]["ratio_classic"] == 1.0, rows["classic"]
# What each row ran, for scripts comparing runs.
w = d["workload"]
assert w["pattern"] == "random" and w["access"] == "write" and w["threads"] == 2, w
assert w["pages"] == 512 and w["fault_around"] == 7 and w["repeat"] == 1, w
for r in rows.values():
    assert r["pattern"] == "random" and r["access"] == "write" and r["runs"] == 1, r
    assert r["within_spread_of_best"] is None, r   # one run: no spread to judge
    assert r["per_run"]["faults_per_s"] == [r["faults_per_s"]], r
assert rows["pfdk-inthread-fa"]["fault_around"] == 7 and rows["pfdk-inthread"]["fault_around"] == 0
assert rows["pfdk-rtc"]["layout"] == "rtc" and rows["pfdk-rtc"]["engine"] == "busy", rows["pfdk-rtc"]
assert rows["pfdk-inthread"]["engine"] == "inthread", rows["pfdk-inthread"]
assert rows["classic"]["layout"] == "baseline" and rows["native"]["engine"], rows["native"]
for r in rows.values():
    for k in ["wall_s", "cpu_handler_s", "cpu_faulters_s"]:
        assert isinstance(r[k], (int, float)) and r[k] >= 0, (k, r)
    assert r["wall_s"] > 0 and r["cpu_faulters_s"] > 0, r
    # The faulters share one CPU: their CPU fits in the wall time (+ slack).
    assert r["cpu_faulters_s"] <= r["wall_s"] * 1.5 + 0.01, r
# rtc: a busy poller on the other CPU spins through the touching phase.
assert rows["pfdk-rtc"]["cpu_handler_s"] > 0, rows["pfdk-rtc"]
print("uffd json ok:", ", ".join("%s %.0f/s" % (m, r["faults_per_s"]) for m, r in rows.items()))
PY
fi
# --plot: a PNG when gnuplot is installed; without it in PATH a message
# naming the package, exit 0 (table and JSON complete) and no file.
abs=$(readlink -f "$bench")
if command -v gnuplot >/dev/null 2>&1; then
	"$bench" --faults 100000 --repeat 1 --modes pfdk-rtc,pfdk-colocated \
		--plot "$tmp/p.png" >"$tmp/out" 2>&1 || fail "plot run: $(cat "$tmp/out")"
	[ "$(head -c 4 "$tmp/p.png" | od -An -tx1 | tr -d ' \n')" = 89504e47 ] ||
		fail "--plot: $tmp/p.png is not a PNG: $(cat "$tmp/out")"
else
	echo "SKIP --plot PNG: gnuplot not installed (apt-get install gnuplot-nox)"
fi
env PATH=/nonexistent "$abs" --faults 100000 --repeat 1 --modes pfdk-rtc \
	--plot "$tmp/q.png" >"$tmp/out" 2>&1 || fail "plot run without gnuplot: $(cat "$tmp/out")"
grep -q "^--plot: gnuplot not found; install it with 'apt-get install gnuplot-nox'" "$tmp/out" ||
	fail "no gnuplot message: $(cat "$tmp/out")"
grep -q "^pfdk-rtc " "$tmp/out" || fail "no table without gnuplot: $(cat "$tmp/out")"
[ ! -e "$tmp/q.png" ] || fail "--plot without gnuplot wrote $tmp/q.png"

# Fair rows: --access is the same first touch on every row and the native
# floor, stated in the header; bad values are refused by name.
for a in "--access rw" "--access mix:101" "--access mix:x" "--faulter-cpus 1-0" \
	"--faulter-cpus x" "--faulter-cpus 4096"; do
	# shellcheck disable=SC2086
	timeout 60 "$bench" --source uffd $a --dry-run >"$tmp/out" 2>&1
	rc=$?
	[ $rc -eq 2 ] && grep -q -- "^${a%% *} ${a#* }: expected" "$tmp/out" || fail "$a: exit $rc: $(cat "$tmp/out")"
done
if "$bench" --source uffd --modes native --pages 16 --repeat 1 >/dev/null 2>&1; then
	timeout 60 "$bench" --source uffd --faulter-cpus 999 --dry-run >"$tmp/out" 2>&1
	[ $? -eq 2 ] && grep -q -- "--faulter-cpus 999: CPU 999 is not online" "$tmp/out" ||
		fail "--faulter-cpus 999: $(cat "$tmp/out")"
	for a in read write mix:30; do
		timeout 120 "$bench" --source uffd --pages 256 --repeat 1 --access $a \
			--modes pfdk-colocated,pfdk-inthread,classic-colocated,sigbus,native \
			--json "$tmp/a.json" >"$tmp/out" 2>&1 || fail "--access $a: $(cat "$tmp/out")"
		grep -q "^pfdk-faultbench: .*, access $a, " "$tmp/out" ||
			fail "--access $a: not in the header: $(head -5 "$tmp/out")"
		python3 - "$tmp/a.json" "$a" <<'PY' || fail "--access $a json: $(cat "$tmp/out")"
import json, sys
rows = json.load(open(sys.argv[1]))["results"]
assert len(rows) == 5, rows
for r in rows:
    assert r["status"] == "ok" and r["faults"] == 256, r
    # Every page checked: the marker where written, the store's (or zero) bytes.
    assert r["lost"] == 0 and r["duplicated"] == 0, r
PY
	done
	# The default is write, for the uffd rows and native alike.
	timeout 120 "$bench" --source uffd --pages 64 --repeat 1 --modes native >"$tmp/out" 2>&1 ||
		fail "default access: $(cat "$tmp/out")"
	grep -q "^pfdk-faultbench: .*, access write, " "$tmp/out" || fail "default access: $(head -5 "$tmp/out")"
	# Faulters on the CPU asked for; the handler on the other one.
	ncpu=$(nproc)
	if [ "$ncpu" -ge 2 ]; then
		timeout 60 "$bench" --source uffd --faulter-cpus 1 --modes pfdk-rtc,classic \
			--dry-run >"$tmp/out" 2>&1 || fail "--faulter-cpus 1: $(cat "$tmp/out")"
		grep -q "faulting threads on CPU 1 (node [0-9]*); handler CPU 0 " "$tmp/out" &&
			grep -qE "^row pfdk-rtc +burst [0-9]+ +poller cpu 0 " "$tmp/out" &&
			grep -qE "^row classic +handler thread on CPU 0" "$tmp/out" ||
			fail "--faulter-cpus 1 placement: $(cat "$tmp/out")"
	fi

	# Rows placed from the topology: a 16-CPU, 2-node machine with SMT
	# siblings c and c+8 (described under PFDK_SYSFS_ROOT; --dry-run runs
	# nothing). The handler stays on the faulters' node, off their cores
	# while there is such a CPU, and lcores name their CPU's node.
	sys=$tmp/topo/sys/devices/system
	mkdir -p "$sys/cpu" "$sys/node/node0" "$sys/node/node1"
	echo 0-15 >"$sys/cpu/online"
	echo 0-3,8-11 >"$sys/node/node0/cpulist"
	echo 4-7,12-15 >"$sys/node/node1/cpulist"
	for c in $(seq 0 15); do
		mkdir -p "$sys/cpu/cpu$c/topology"
		echo $((c % 4)) >"$sys/cpu/cpu$c/topology/core_id"
		echo $((c / 4 % 2)) >"$sys/cpu/cpu$c/topology/physical_package_id"
	done
	for c in "-|0|1|0" "4-5|4-5|6|1" "0-2|0-2|3|0" "0-3|0-3|8|0" "12|12|5|1"; do
		IFS='|' read -r fc want_f want_h want_n <<<"$c"
		opt=$([ "$fc" = - ] || echo "--faulter-cpus $fc")
		# shellcheck disable=SC2086
		PFDK_SYSFS_ROOT=$tmp/topo timeout 60 "$bench" --source uffd $opt --threads 4 \
			--modes pfdk-rtc,pfdk-pipeline,pfdk-colocated,classic --dry-run >"$tmp/out" 2>&1 ||
			fail "topology $c: $(cat "$tmp/out")"
		grep -q "^dry run: 16 CPU(s), 2 node(s) .*faulting threads on CPU $want_f (node $want_n); handler CPU $want_h (node $want_n)" "$tmp/out" &&
			grep -qE "^row pfdk-rtc +burst [0-9]+ +poller cpu $want_h node $want_n engine busy$" "$tmp/out" &&
			grep -qE "^row pfdk-pipeline +burst [0-9]+ +poller cpu ${want_f%%[-,]*} node $want_n engine epoll; resolver cpu $want_h node $want_n$" "$tmp/out" ||
			fail "topology $c: $(cat "$tmp/out")"
	done
	echo "topology placement ok"
else
	echo "SKIP --access runs and placement: userfaultfd not usable here"
fi

# Sweeps: --threads and --uffds lists run every row at every point (threads
# outer), a table per point and a faults/s summary; bad lists are refused.
for a in "--threads 1,,2" "--threads 1," "--threads 0,2" "--uffds 2,x" "--threads 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17"; do
	# shellcheck disable=SC2086
	timeout 60 "$bench" --source uffd $a --dry-run >"$tmp/out" 2>&1
	rc=$?
	[ $rc -eq 2 ] && grep -q -- "^${a%% *} ${a#* }: expected" "$tmp/out" || fail "$a: exit $rc: $(cat "$tmp/out")"
done
timeout 60 "$bench" --source uffd --threads 1,2,3,4,5 --uffds 1,2,3,4 --dry-run >"$tmp/out" 2>&1
[ $? -eq 2 ] && grep -q "20 points, at most 16" "$tmp/out" || fail "too many points: $(cat "$tmp/out")"
for a in "--duration 0" "--duration -1" "--duration 1x" "--duration 99999"; do
	# shellcheck disable=SC2086
	timeout 60 "$bench" --source sim $a >"$tmp/out" 2>&1
	rc=$?
	[ $rc -eq 2 ] && grep -q -- "^--duration ${a#* }: expected" "$tmp/out" || fail "$a: exit $rc: $(cat "$tmp/out")"
done
# --duration: passes until that much was measured, every fault of every pass counted.
timeout 120 "$bench" --source sim --faults 20000 --duration 0.3 --repeat 1 --modes pfdk-rtc \
	--burst 32 --json "$tmp/d.json" >"$tmp/out" 2>&1 || fail "--duration sim: $(cat "$tmp/out")"
python3 - "$tmp/d.json" <<'PY' || fail "--duration json: $(cat "$tmp/out")"
import json, sys
d = json.load(open(sys.argv[1]))
r, = d["results"]
assert d["workload"]["duration_s"] == 0.3, d["workload"]
assert r["status"] == "ok" and r["passes"] >= 1 and r["lost"] == 0, r
assert r["faults"] == r["passes"] * 20000, r
for w in r["per_run"]["wall_s"]:
    assert w >= 0.3, r                             # never stops short of S
print("duration ok: %d passes" % r["passes"])
PY
if "$bench" --source uffd --modes native --pages 16 --repeat 1 >/dev/null 2>&1; then
	plot=""
	command -v gnuplot >/dev/null 2>&1 && plot="--plot $tmp/sw.png"
	# shellcheck disable=SC2086
	timeout 300 "$bench" --source uffd --threads 1,2 --uffds 1,2 --pages 256 --repeat 1 \
		--modes pfdk-colocated,native --json "$tmp/sw.json" $plot >"$tmp/out" 2>&1 ||
		fail "sweep: $(cat "$tmp/out")"
	for p in "1 thread(s) on CPU [0-9]*, 256 pages of 4k, 1 uffd" "1 thread(s) on CPU [0-9]*, 256 pages of 4k, 2 uffd" \
		"2 thread(s) on CPU [0-9]*, 256 pages of 4k, 1 uffd" "2 thread(s) on CPU [0-9]*, 256 pages of 4k, 2 uffd"; do
		grep -q "^uffd: $p" "$tmp/out" || fail "sweep: no table for '$p': $(cat "$tmp/out")"
	done
	grep -qE "^mode +thr=1,uffds=1 +thr=1,uffds=2 +thr=2,uffds=1 +thr=2,uffds=2$" "$tmp/out" &&
		grep -qE "^pfdk-colocated/32 +[0-9]+ \(x1.00\) +[0-9]+ \(x[0-9.]+\)" "$tmp/out" &&
		grep -qE "^native +[0-9]+ \(x1.00\)" "$tmp/out" || fail "sweep summary: $(cat "$tmp/out")"
	python3 - "$tmp/sw.json" <<'PY' || fail "sweep json: $(cat "$tmp/out")"
import json, sys
d = json.load(open(sys.argv[1]))
w = d["workload"]
assert w["threads_list"] == [1, 2] and w["uffds_list"] == [1, 2], w
rows = d["results"]
got = sorted((r["mode"], r["threads"], r["uffds"]) for r in rows)
want = sorted((m, t, u) for m in ("pfdk-colocated", "native") for t in (1, 2) for u in (1, 2))
assert got == want, got
for r in rows:
    assert r["status"] == "ok" and r["faults"] == 256 and r["lost"] == 0 and r["duplicated"] == 0, r
    assert r["ratio_native"] > 0, r     # native of the same point
print("sweep ok")
PY
	if [ -n "$plot" ]; then
		for f in "$tmp/sw.png" "$tmp/sw-throughput.png"; do
			[ "$(head -c 4 "$f" | od -An -tx1 | tr -d ' \n')" = 89504e47 ] ||
				fail "sweep plot: $f is not a PNG: $(cat "$tmp/out")"
		done
	fi
else
	echo "SKIP uffd sweep: userfaultfd not usable here"
fi
echo "bench CLI ok"
