#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The four userfaultfd workloads the issues name, each a pfdk-faultbench run
# with PFDK's layouts beside every hand-written baseline, then one table:
#   1 thread 4 KiB | 4 threads 4 KiB | 2 MiB pages | 64 uffds, one thread each
# For each workload it names PFDK's best row and the best baseline.
#
#   scripts/run-matrix.sh [BUILD_DIR] [-- extra faultbench options]
#
# ACCESS=read|write|mix:W (default write) is every row's first touch, the
# native floor's too; REPEAT=K (default 3) runs per row. The table gives
# each row's faults/s spread (half its min-max range over the runs, in %).
#
# Needs a build (scripts/run-bench.sh makes build-bench); the 2 MiB row needs
# 2 MiB hugepages (scripts/setup.sh reserves them) and is skipped without.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-bench}
[ $# -gt 0 ] && shift
[ "${1:-}" = "--" ] && shift
bench=$build/apps/pfdk-faultbench/pfdk-faultbench
[ -x "$bench" ] || { echo "run-matrix: no $bench (run scripts/run-bench.sh first)" >&2; exit 2; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

modes=pfdk-rtc,pfdk-colocated,pfdk-uring-nosqpoll,pfdk-inthread,pfdk-inthread-fa
modes=$modes,classic,classic-colocated,epoll-many,sigbus,native
run() {
	local name=$1; shift
	echo "== $name: $bench $* --modes $modes --repeat ${REPEAT:-3}" >&2
	"$bench" "$@" --modes "$modes" --repeat "${REPEAT:-3}" --access "${ACCESS:-write}" \
		--json "$out/$name.json" "${extra[@]}" >&2
}
extra=("$@")
run 1thr-4k --threads 1 --pages 16384
run 4thr-4k --threads 4 --pages 16384
run 2m --page-size 2m --pages 128
run 64uffd --uffds 64 --threads 64 --pages 65536

python3 - "$out" <<'PY'
import json, os, sys
d = sys.argv[1]
names = [("1thr-4k", "1 thread, 4 KiB"), ("4thr-4k", "4 threads, 4 KiB"),
         ("2m", "1 thread, 2 MiB"), ("64uffd", "64 uffds, 64 threads")]
print("access: %s (every row and native)\n" % os.environ.get("ACCESS", "write"))
print("| workload | mode | faults/s | spread | p50 us | p99 us | p99.9 us | x classic | x native | hcpu% | fcpu% |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
summary = []
for key, title in names:
    p = os.path.join(d, key + ".json")
    if not os.path.exists(p):
        print("| %s | (skipped) | | | | | | | | | |" % title)
        continue
    # Rows the bench could not run carry "status": "not run" and null numbers.
    rows = [r for r in json.load(open(p))["results"] if r.get("status", "ok") == "ok"]
    if not rows:
        print("| %s | (skipped: no hugepages?) | | | | | | | | | |" % title)
        continue
    for r in rows:
        w = r["wall_s"] or 1
        sp = "-"
        if r.get("runs", 1) > 1 and r["faults_per_s"]:
            sp = "%.0f%%" % (50 * (r["faults_per_s_max"] - r["faults_per_s_min"]) / r["faults_per_s"])
        print("| %s | %s | %.1fK | %s | %.1f | %.1f | %.1f | %s | %s | %.0f | %.0f |" % (
            title, r["mode"], r["faults_per_s"] / 1e3, sp, r["p50_us"], r["p99_us"], r["p999_us"],
            "%.2f" % r["ratio_classic"] if r["ratio_classic"] else "-",
            "%.2f" % r["ratio_native"] if r["ratio_native"] else "-",
            100 * r["cpu_handler_s"] / w, 100 * r["cpu_faulters_s"] / w))
    # fault-around rows make pages resident ahead of the touch: not a
    # fault-for-fault comparison, so they are shown but not ranked.
    def best(pred):
        c = [r for r in rows if pred(r["mode"])]
        return max(c, key=lambda r: r["faults_per_s"]) if c else None
    def fmt(r):
        return "%s %.1fK/s p99.9 %.1f us" % (r["mode"], r["faults_per_s"] / 1e3, r["p999_us"])
    pf = best(lambda m: m.startswith("pfdk") and not m.endswith("-fa"))
    pp = best(lambda m: m.startswith("pfdk") and "inthread" not in m)
    hw = best(lambda m: m in ("classic", "classic-colocated", "epoll-many"))
    sb = best(lambda m: m == "sigbus")
    if pf and hw:
        line = "%s: PFDK best %s; polled %s | poll+read+COPY best %s (%.2fx)" % (
            title, fmt(pf), fmt(pp) if pp else "-", fmt(hw),
            pf["faults_per_s"] / hw["faults_per_s"])
        if sb:
            line += " | %s (%.2fx)" % (fmt(sb), pf["faults_per_s"] / sb["faults_per_s"])
        summary.append(line)
print()
for s in summary:
    print("- " + s)
PY
