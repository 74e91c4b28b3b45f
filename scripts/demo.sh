#!/usr/bin/env bash
# Sets up, builds and runs the main job: `cadereau demo` on the embedded demo
# territory. Output goes to ./cadereau-demo (or the folder given as $1).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bash "$root/scripts/setup.sh"
bash "$root/scripts/build.sh"
build="${CADEREAU_BUILD_DIR:-$root/build}"
exec "$build/server/cadereau" demo --out "${1:-$root/cadereau-demo}"
