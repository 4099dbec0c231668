#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The bench as a user meets it: a wrong profile or devargs gives a clear
# message naming the problem and a non-zero exit; --json writes the fields
# scripts rely on (DESIGN.md §7) with zero lost and duplicated.
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

# Bad option values.
"$bench" --modes nosuchmode >"$tmp/out" 2>&1 && fail "bad mode accepted"
grep -q "nosuchmode" "$tmp/out" || fail "bad mode message: $(cat "$tmp/out")"

# JSON: every row has the contract's fields; nothing lost or duplicated.
"$bench" --faults 200000 --repeat 2 --json "$tmp/r.json" >"$tmp/out" 2>&1 ||
	fail "bench run: $(cat "$tmp/out")"
python3 - "$tmp/r.json" <<'PY' || fail "json check"
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
print("json ok:", len(rows), "rows")
PY

# uffd: a quick run of a PFDK row and the hand-written classic handler, every
# page checked against the store; skipped where userfaultfd is refused.
"$bench" --source uffd --pages 512 --threads 2 --pattern random --repeat 1 \
	--modes pfdk-rtc,classic,native --json "$tmp/u.json" >"$tmp/out" 2>&1
rc=$?
if [ $rc -ne 0 ] && grep -q '^--source uffd: ' "$tmp/out"; then
	echo "SKIP uffd run: $(grep '^--source uffd: ' "$tmp/out")"
else
	[ $rc -eq 0 ] || fail "uffd bench run: $(cat "$tmp/out")"
	python3 - "$tmp/u.json" <<'PY' || fail "uffd json check: $(cat "$tmp/out")"
import json, sys
d = json.load(open(sys.argv[1]))
rows = {r["mode"]: r for r in d["results"]}
assert set(rows) == {"pfdk-rtc", "classic", "native"}, rows
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
print("uffd json ok:", ", ".join("%s %.0f/s" % (m, r["faults_per_s"]) for m, r in rows.items()))
PY
fi
echo "bench CLI ok"
