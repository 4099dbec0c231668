#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# What "meson install" ships (into a DESTDIR here): the API headers in
# include/pfdk/, the driver SDK apart in include/pfdk/driver/ (libpfdk.pc's
# driver_includedir), no internal header, each installed header compiling
# on its own; and libpfdk.so exporting only what an installed header
# declares with a doxygen comment (lib/pfdk.map), so an internal function
# made global, or a glob back in the map, fails here.
set -u
build=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

for t in meson nm cc pkg-config python3; do
	command -v $t >/dev/null 2>&1 || { echo "SKIP: $t not in PATH"; exit 77; }
done
meson install -C "$build" --destdir "$tmp/d" --no-rebuild --quiet >"$tmp/inst" 2>&1 ||
	fail "meson install: $(cat "$tmp/inst")"
pc=$(find "$tmp/d" -name libpfdk.pc | head -1)
[ -n "$pc" ] || fail "libpfdk.pc not installed"
sed -i "s|^prefix=|prefix=$tmp/d|" "$pc"
export PKG_CONFIG_PATH=${pc%/*}
api=$(pkg-config --variable=includedir libpfdk)/pfdk
sdk=$(pkg-config --variable=driver_includedir libpfdk)
[ "$sdk" = "$api/driver" ] || fail "driver_includedir is $sdk, not $api/driver"

# Internal headers stay in the tree.
bad=$(find "$tmp/d" -name '*.h' \( -name 'pfdk_idmap.h' -o -name 'pfdk_rand.h' \
	-o -name '*_priv.h' -o -name '*_private.h' \))
[ -z "$bad" ] || fail "internal headers installed: $bad"
# The driver SDK only under driver/, the API only above it.
for h in pfdk_fault_driver.h pfdk_counter.h; do
	[ -f "$sdk/$h" ] || fail "$h not in $sdk"
	[ -e "$api/$h" ] && fail "$h installed with the API headers"
done
for h in pfdk_fault.h pfdk_profile.h pfdk_pipeline.h pfdk_uffd.h pfdk_iommufd.h; do
	[ -f "$api/$h" ] || fail "$h not in $api"
done
n=0
for h in "$api"/*.h "$sdk"/*.h; do
	echo "#include <${h##*/}>" | cc -x c -fsyntax-only -D_GNU_SOURCE \
		$(pkg-config --cflags libpfdk) -I"$sdk" - >"$tmp/cc" 2>&1 ||
		fail "${h#$tmp/d} does not compile alone: $(head -5 "$tmp/cc")"
	n=$((n + 1))
done
echo "$n installed headers compile alone"

lib=$(find "$tmp/d" -name libpfdk.so | head -1)
[ -n "$lib" ] || fail "libpfdk.so not installed"
nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBR]$/ { sub(/@.*/, "", $3); print $3 }' \
	>"$tmp/syms"
[ -s "$tmp/syms" ] || fail "libpfdk.so exports nothing"
python3 - "$tmp/syms" "$api" "$sdk" <<'PY' || exit 1
import glob, re, sys
syms = open(sys.argv[1]).read().split()
text = [open(h).read() for d in sys.argv[2:] for h in glob.glob(d + "/*.h")]

def documented(s):
    decl = re.compile(r"(/\*\*(?:(?!\*/).)*\*/)?[ \t\n]*"
                      r"(?:extern[ \t]+)?[^;{}()/#]*?\b" + s + r"\b[ \t]*[(\[;]",
                      re.S)
    for t in text:
        for m in decl.finditer(t):
            if m.group(1):
                return True
    return False

bad = [s for s in syms if not documented(s)]
if bad:
    print("FAIL: exported without a documented declaration in an installed header:",
          " ".join(bad))
    sys.exit(1)
print("%d exported symbols, each documented in an installed header" % len(syms))
PY
