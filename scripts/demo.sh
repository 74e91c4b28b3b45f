#!/usr/bin/env bash
# Sets up, builds and runs the main job: `cadereau demo --serve`, the crisis
# server on 127.0.0.1:8443 with demo users and the flagship exercise ready to
# start (data in ./cadereau-server; Ctrl-C stops it).
# `scripts/demo.sh --report [DIR]` runs the batch demo instead: `cadereau demo`
# into ./cadereau-demo (or DIR), with its report.html.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bash "$root/scripts/setup.sh"
bash "$root/scripts/build.sh"
build="${CADEREAU_BUILD_DIR:-$root/build}"
if [ "${1:-}" = "--report" ]; then
  exec "$build/server/cadereau" demo --out "${2:-$root/cadereau-demo}"
fi
exec "$build/server/cadereau" demo --serve --data "$root/cadereau-server" --listen "${CADEREAU_LISTEN:-127.0.0.1:8443}"
