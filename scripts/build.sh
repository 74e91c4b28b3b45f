#!/usr/bin/env bash
# Configures and builds Cadereau in Release into ./build (or $CADEREAU_BUILD_DIR).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${CADEREAU_BUILD_DIR:-$root/build}"
jobs="${CADEREAU_JOBS:-$(nproc)}"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j "$jobs"
