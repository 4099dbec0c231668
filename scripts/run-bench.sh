#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The main job: set up, build, and run pfdk-faultbench on the default
# profile. Extra arguments go to the bench, e.g. -- --json out.json.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
[ -f build/build.ninja ] || meson setup build --buildtype=release >/dev/null
ninja -C build >/dev/null
exec build/apps/pfdk-faultbench/pfdk-faultbench "$@"
