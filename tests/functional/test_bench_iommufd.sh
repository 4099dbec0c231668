#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# pfdk-faultbench --source iommufd on the host: the emulated fault FD by
# default (every PFDK row, every record answered once, none lost), devices
# it cannot serve refused before anything runs, and --devargs
# iommufd0,fault_fd=N: an inherited FD (here a socketpair playing the
# kernel, test_peer=1) served until its peer hangs up, or until --faults N
# groups were answered. The peer checks every response: one per group,
# the code the resolver gives (INVALID for every 64th page), no unknown
# cookie.
set -u
bench=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# The emulator: every PFDK row, records counted by the emulated kernel.
timeout 120 "$bench" --source iommufd --faults 20000 --repeat 1 --burst 32 \
	--modes pfdk-rtc,pfdk-pipeline,pfdk-colocated --json "$tmp/e.json" >"$tmp/out" 2>&1 ||
	fail "emu: exit $?: $(tail -5 "$tmp/out")"
python3 - "$tmp/e.json" <<'PY' || fail "emu json: $(cat "$tmp/out")"
import json, sys
d = json.load(open(sys.argv[1]))
rows = d["results"]
assert sorted(r["mode"] for r in rows) == ["pfdk-colocated", "pfdk-pipeline", "pfdk-rtc"], rows
for r in rows:
    assert r["status"] == "ok" and r["source"] == "iommufd", r
    assert r["faults"] == 20000 and r["lost"] == 0 and r["duplicated"] == 0, r
    assert r["faults_per_s"] > 0 and r["p50_us"] > 0, r
print("emu ok")
PY

# Devices the iommufd source cannot serve: exit 2, the reason, no row run.
printf '[pfdk]\nname = two\nlayout = rtc\nmain_cpu = 0\n[node.0]\npool_size = 1023\n[device.sim0]\ndevargs = sim0\nqueues = 1\n[device.sim1]\ndevargs = sim1\nqueues = 1\n[lcore.1]\nrole = poller\ncpu = 0\nnode = 0\nqueues = sim0:0,sim1:0\n' >"$tmp/two.ini"
for a in "--devargs sim0|is not an iommufd device" \
	"--devargs iommufd0|give exactly one of" \
	"--devargs iommufd0,emu=1,total=0|total=0 emits nothing" \
	"--devargs iommufd0,fault_fd=0,total=5|total= is the emulator's" \
	"--devargs iommufd0,fault_fd=0 --duration 1|--duration: a fault_fd= row" \
	"--devargs iommufd0,emu=1 --profile $tmp/two.ini|one device with one queue"; do
	opt=${a%%|*} want=${a#*|}
	# shellcheck disable=SC2086
	timeout 60 "$bench" --source iommufd --repeat 1 --modes pfdk-rtc $opt >"$tmp/out" 2>&1
	rc=$?
	[ $rc -eq 2 ] || fail "iommufd with $opt: exit $rc, want 2: $(tail -3 "$tmp/out")"
	grep -qF -- "$want" "$tmp/out" || fail "iommufd with $opt: message: $(cat "$tmp/out")"
	grep -q '^running ' "$tmp/out" && fail "iommufd with $opt: rows ran: $(cat "$tmp/out")"
done

# An inherited fault FD: the peer plays the kernel, answers are checked.
cat >"$tmp/peer.py" <<'PY'
import json, os, re, socket, struct, subprocess, sys
bench, groups, limit, jpath = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
prof = sys.argv[5] if len(sys.argv) > 5 else None
a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
cmd = [bench, "--source", "iommufd", "--devargs",
       "iommufd0,fault_fd=%d,test_peer=1" % a.fileno(), "--json", jpath]
# A profile: its own layout and engine (mode pfdk); else the busy rtc row.
cmd += ["--modes", "pfdk", "--profile", prof] if prof else ["--modes", "pfdk-rtc"]
if limit != "-":
    cmd += ["--faults", limit]
p = subprocess.Popen(cmd, pass_fds=[a.fileno()], stdout=subprocess.PIPE,
                     stderr=subprocess.STDOUT)
a.close()
b.settimeout(30)
answered, window, cookie = {}, 8, 1
while cookie <= groups:
    n = min(window, groups - cookie + 1)
    recs = b"".join(struct.pack("=IIIIIIQII", 2, 1, 0, (cookie + i) & 0x1ff, 1, 0,
                                (cookie + i) << 12, 0, cookie + i) for i in range(n))
    b.sendall(recs)
    got = b""
    while len(got) < 8 * n:
        chunk = b.recv(8 * n - len(got))
        assert chunk, "bench closed the fd with %d responses owed" % (n - len(got) // 8)
        got += chunk
    for i in range(n):
        c, code = struct.unpack_from("=II", got, 8 * i)
        assert cookie <= c < cookie + n, "unknown cookie %d" % c
        assert c not in answered, "cookie %d answered twice" % c
        want = 1 if (c & 63) == 63 else 0
        assert code == want, "cookie %d: code %d, want %d" % (c, code, want)
        answered[c] = code
    cookie += n
if limit == "-":
    b.close()                   # hang-up ends the row
out = p.communicate(timeout=60)[0].decode()
assert p.returncode == 0, "bench exit %d: %s" % (p.returncode, out)
assert len(answered) == groups
assert "the fault FD hung up" in out or limit != "-", out
r = json.load(open(jpath))["results"]
assert len(r) == 1 and r[0]["status"] == "ok" and r[0]["source"] == "iommufd", r
assert r[0]["faults"] == groups and r[0]["lost"] == 0 and r[0]["duplicated"] == 0, r
if prof and limit == "-":
    # Hang-up: the engine's reads return 0 (end of file); the row ends on
    # the hang-up with every group answered once (asserted above) whether
    # or not the engine had handed the queue back to the driver by then.
    pass
elif prof:
    # The io_uring engine reads the fd itself (multishot) and writes the
    # responses as WRITE SQEs: the driver makes no read(2) or write(2).
    m = re.search(r"syscalls per group: read ([0-9.]+) .*write ([0-9.]+), .*"
                  r"ring reads ([0-9.]+), ring writes ([0-9.]+)", out)
    assert m, out
    rd, wr, rr, rw = (float(x) for x in m.groups())
    assert rd == 0 and wr == 0 and rr > 0 and rw > 0, m.group(0)
print("fault_fd %d groups, end %s%s: ok" % (groups, "hang-up" if limit == "-" else "--faults",
                                            ", engine uring" if prof else ""))
PY
timeout 120 python3 "$tmp/peer.py" "$bench" 500 - "$tmp/f.json" || fail "fault_fd until hang-up"
timeout 120 python3 "$tmp/peer.py" "$bench" 200 200 "$tmp/g.json" || fail "fault_fd --faults 200"
# The io_uring engine on the inherited fd: pre-posted (multishot) reads
# and ring writes, no read(2)/write(2) by the driver.
printf '[pfdk]\nname = ur\nlayout = rtc\nburst = 32\nmain_cpu = 0\n[node.0]\npool_size = 1023\npool_cache = 32\nring_size = 64\n[device.iommufd0]\ndevargs = iommufd0,emu=1\nqueues = 1\n[lcore.1]\nrole = poller\ncpu = 1\nengine = uring-nosqpoll\nqueues = iommufd0:0\n' >"$tmp/ur.ini"
timeout 120 python3 "$tmp/peer.py" "$bench" 500 500 "$tmp/u.json" "$tmp/ur.ini" ||
	fail "fault_fd with engine uring-nosqpoll"
timeout 120 python3 "$tmp/peer.py" "$bench" 300 - "$tmp/v.json" "$tmp/ur.ini" ||
	fail "fault_fd with engine uring-nosqpoll until hang-up"
echo "bench iommufd ok"
