#!/usr/bin/env bash
# Sets up, builds and runs the whole test suite (what CI runs).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bash "$root/scripts/setup.sh"
bash "$root/scripts/build.sh"
build="${CADEREAU_BUILD_DIR:-$root/build}"
export SUMO_HOME="${SUMO_HOME:-/usr/share/sumo}"
cd "$build"
ctest --output-on-failure --timeout 900 "$@"
