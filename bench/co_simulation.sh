#!/usr/bin/env bash
# Times the co-simulation on the flagship scenario (2 simulated hours of the
# demo flash flood: flood + traffic + impacts + recording) and prints the
# faster-than-real-time factor and where the time goes, for each run. The
# flood and the traffic run side by side; both_wall_s is their joint wall time.
#   bench/co_simulation.sh [RUNS] [THREADS]
# Target: two simulated hours in under 60 s of wall time on 2 cores.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${CADEREAU_BUILD_DIR:-$root/build}"
runs="${1:-3}"
threads="${2:-0}"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
echo "run  wall_s  x_real_time  flood_s  traffic_s  both_wall_s  access_s  coupling_s  impacts_s  recording_s  records  roads_closed"
for i in $(seq 1 "$runs"); do
  "$build/server/cadereau" demo --out "$out/demo" --no-snapshots --threads "$threads" >/dev/null 2>"$out/err" ||
    { cat "$out/err"; exit 1; }
  python3 - "$out/demo/summary.json" "$i" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
t = s["time_s"]
print(f'{sys.argv[2]:>3}  {s["wall_s"]:6.1f}  {s["faster_than_real_time"]:11.0f}  {t["flood"]:7.1f}  {t["traffic"]:9.1f}  '
      f'{t["flood_and_traffic_wall"]:11.1f}  '
      f'{t["emergency_access"]:8.1f}  {t["coupling"]:10.1f}  {t["impacts"]:9.2f}  {t["recording"]:11.1f}  '
      f'{s["records"]:7d}  {s["roads_closed"]:12d}')
PY
done
