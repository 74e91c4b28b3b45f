#!/usr/bin/env bash
# Times the co-simulation on the flagship scenario (2 simulated hours of the
# demo flash flood: flood + traffic + impacts + recording) side by side with
# plain SUMO on the same territory's demand over the same two hours
# (07:00-09:00, no flood), run after run on the same machine, and prints the
# ratio, where the demo's time goes and what it found.
#   bench/co_simulation.sh [RUNS] [THREADS]
# The flood and the traffic run side by side: both_wall_s is their joint wall
# time, and each side's idle time is both_wall_s minus its own. Goal (the
# co-simulation speed issue): the demo in at most 0.6x plain SUMO's time.
# OMP_WAIT_POLICY is passed through as set (PASSIVE on a busy machine).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${CADEREAU_BUILD_DIR:-$root/build}"
runs="${1:-3}"
threads="${2:-0}"
command -v sumo >/dev/null || { echo "co_simulation: plain sumo is not installed (apt-get install sumo)" >&2; exit 1; }
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
"$build/server/cadereau" territory demo --out "$out/territory" >/dev/null 2>"$out/err" || { cat "$out/err"; exit 1; }
echo "run  sumo_s  demo_s  ratio  flood_s  traffic_s  both_wall_s  flood_idle_s  traffic_idle_s  access_s  coupling_s  impacts_s  recording_s  roads_closed  caught  assets_failed  cut_off_peak"
for i in $(seq 1 "$runs"); do
  sumo_start=$EPOCHREALTIME
  sumo -n "$out/territory/network.net.xml" -r "$out/territory/demand.rou.xml" --begin 25200 --end 32400 \
    --no-step-log true --no-warnings true >/dev/null 2>"$out/err" || { cat "$out/err"; exit 1; }
  sumo_end=$EPOCHREALTIME
  "$build/server/cadereau" demo --out "$out/demo" --no-snapshots --threads "$threads" >/dev/null 2>"$out/err" ||
    { cat "$out/err"; exit 1; }
  demo_end=$EPOCHREALTIME
  python3 - "$out/demo/summary.json" "$i" "$sumo_start" "$sumo_end" "$demo_end" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
t = s["time_s"]
run, sumo_start, sumo_end, demo_end = sys.argv[2], *map(float, sys.argv[3:6])
sumo_s, demo_s = sumo_end - sumo_start, demo_end - sumo_end
both = t["flood_and_traffic_wall"]
print(f'{run:>3}  {sumo_s:6.1f}  {demo_s:6.1f}  {demo_s / sumo_s:5.2f}  {t["flood"]:7.1f}  {t["traffic"]:9.1f}  '
      f'{both:11.1f}  {both - t["flood"]:12.1f}  {both - t["traffic"]:14.1f}  '
      f'{t["emergency_access"]:8.1f}  {t["coupling"]:10.1f}  {t["impacts"]:9.2f}  {t["recording"]:11.1f}  '
      f'{s["roads_closed"]:12d}  {s["vehicles_caught"]:6d}  {s["assets_failed"]:13d}  {s["people_cut_off_peak"]:12.0f}')
PY
done
