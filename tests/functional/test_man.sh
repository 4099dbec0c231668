#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The man pages: "meson install" puts pfdk-faultbench.1, pfdk-tune.1 and pfdk-top.1
# (and pfdk-pagerd.1) under share/man/man1 (into a DESTDIR here), "man pfdk-faultbench" opens
# the installed page, and each page names every option and mode the
# program's own --help lists (a new option without its man entry fails).
set -u
build=$1 bench=$2 tune=$3 top=$4 pagerd=$5
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

command -v meson >/dev/null 2>&1 || { echo "SKIP: meson not in PATH"; exit 77; }
meson install -C "$build" --destdir "$tmp/d" --no-rebuild --quiet >"$tmp/inst" 2>&1 ||
	fail "meson install: $(cat "$tmp/inst")"
for p in pfdk-faultbench pfdk-tune pfdk-top pfdk-pagerd; do
	f=$(find "$tmp/d" -path "*/share/man/man1/$p.1" | head -1)
	[ -n "$f" ] && [ -s "$f" ] || fail "$p.1 not installed under share/man/man1: $(find "$tmp/d" -name '*.1')"
	grep -q '@VERSION@' "$f" && fail "$p.1: version not filled in"
	if ! command -v man >/dev/null 2>&1; then
		echo "SKIP rendering $p.1: man not installed"
		continue
	fi
	# As a user opens it: "man NAME" with the installed tree on MANPATH.
	MANPATH="${f%/man1/*}" MANWIDTH=100 man -P cat "$p" >"$tmp/$p.txt" 2>"$tmp/err" ||
		fail "man $p: $(cat "$tmp/err")"
	man -l "$f" >/dev/null 2>&1 || fail "man -l $f"
	grep -q "^NAME" "$tmp/$p.txt" && grep -q "$p - " "$tmp/$p.txt" || fail "man $p: $(head "$tmp/$p.txt")"
	case $p in pfdk-tune) prog=$tune ;; pfdk-top) prog=$top ;; pfdk-pagerd) prog=$pagerd ;; *) prog=$bench ;; esac
	"$prog" --help >"$tmp/help" 2>&1 || fail "$p --help"
	# Rendered pages hyphenate and use U+2010; compare on plain words.
	tr -d '\n' <"$tmp/$p.txt" | sed 's/‐/-/g; s/- *//g' >"$tmp/flat"
	missing=""
	for o in $(grep -oE -- '--[a-z][a-z-]*' "$tmp/help" | sort -u) \
		$(sed -n '/^Modes/,/^EAL args/p' "$tmp/help" | sed -n 's/^  \([a-z][a-z0-9-]*\) .*/\1/p'); do
		w=$(echo "$o" | sed 's/-//g')
		grep -q -- "$w" "$tmp/flat" || missing="$missing $o"
	done
	[ -z "$missing" ] || fail "man $p lacks what --help lists:$missing"
	echo "man $p ok ($f)"
done
echo "man pages ok"
