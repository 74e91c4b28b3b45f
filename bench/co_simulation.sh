#!/usr/bin/env bash
# Times the co-simulation on the flagship scenario (2 simulated hours of the
# demo flash flood: flood + traffic + impacts + recording) side by side with
# plain SUMO on the same territory's demand over the same two hours
# (07:00-09:00, no flood), run after run on the same machine, and prints each
# variant's ratio to plain SUMO, where its time goes and what it found.
#   bench/co_simulation.sh [RUNS] [THREADS] [--with-10m]
# Variants, all on the same built territory (plain SUMO gets its network and
# demand built too):
#   meso-20m   the flagship as written: mesoscopic traffic, 20 m flood cells
#   micro-20m  the same with traffic_model: microscopic
#   meso-10m   mesoscopic, flood on the DEM's own 10 m cells (--with-10m; long)
# The flood and the traffic run side by side: both_wall_s is their joint wall
# time, and each side's idle time is both_wall_s minus its own. Goal (the
# co-simulation speed issue): the flagship in at most 0.6x plain SUMO's time,
# at 10 m in at most 2x. OMP_WAIT_POLICY is passed through as set (PASSIVE on
# a busy machine).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${CADEREAU_BUILD_DIR:-$root/build}"
runs="${1:-3}"
threads="${2:-0}"
with_10m="${3:-}"
[[ -z "$with_10m" || "$with_10m" == --with-10m ]] || { echo "co_simulation: unknown option '$with_10m'" >&2; exit 2; }
command -v sumo >/dev/null || { echo "co_simulation: plain sumo is not installed (apt-get install sumo)" >&2; exit 1; }
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
"$build/server/cadereau" territory demo --out "$out/territory" >/dev/null 2>"$out/err" || { cat "$out/err"; exit 1; }
flagship="$root/scenarios/flash-flood-1988.yaml"
for line in '^flood_cell_m: 20$' '^traffic_model: '; do
  grep -q "$line" "$flagship" || { echo "co_simulation: $flagship has no line matching '$line'" >&2; exit 1; }
done
variants=(meso-20m micro-20m)
[[ -n "$with_10m" ]] && variants+=(meso-10m)
for v in "${variants[@]}"; do
  cell="${v#*-}"
  model=microscopic
  [[ "$v" == meso-* ]] && model=mesoscopic
  sed -e "s/^flood_cell_m: 20$/flood_cell_m: ${cell%m}/" -e "s/^traffic_model: .*$/traffic_model: $model/" "$flagship" >"$out/$v.yaml"
done

echo "run  variant    wall_s  ratio  flood_s  traffic_s  both_wall_s  flood_idle_s  traffic_idle_s  access_s  coupling_s  impacts_s  recording_s  roads_closed  caught  assets_failed  cut_off_peak  arrived"
for i in $(seq 1 "$runs"); do
  start=$EPOCHREALTIME
  sumo -n "$out/territory/network.net.xml" -r "$out/territory/demand.rou.xml" --begin 25200 --end 32400 \
    --no-step-log true --no-warnings true >/dev/null 2>"$out/err" || { cat "$out/err"; exit 1; }
  sumo_s=$(python3 -c "print($EPOCHREALTIME - $start)")
  printf '%3d  %-9s  %6.1f  %5.2f\n' "$i" sumo "$sumo_s" 1
  for v in "${variants[@]}"; do
    start=$EPOCHREALTIME
    "$build/server/cadereau" run "$out/$v.yaml" --territory "$out/territory" --out "$out/$v" --no-snapshots \
      --threads "$threads" >/dev/null 2>"$out/err" || { cat "$out/err"; exit 1; }
    end=$EPOCHREALTIME
    python3 - "$out/$v/summary.json" "$i" "$v" "$sumo_s" "$start" "$end" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
t = s["time_s"]
run, variant = sys.argv[2], sys.argv[3]
sumo_s, start, end = map(float, sys.argv[4:7])
wall = end - start
both = t["flood_and_traffic_wall"]
print(f'{run:>3}  {variant:<9}  {wall:6.1f}  {wall / sumo_s:5.2f}  {t["flood"]:7.1f}  {t["traffic"]:9.1f}  '
      f'{both:11.1f}  {both - t["flood"]:12.1f}  {both - t["traffic"]:14.1f}  '
      f'{t["emergency_access"]:8.1f}  {t["coupling"]:10.1f}  {t["impacts"]:9.2f}  {t["recording"]:11.1f}  '
      f'{s["roads_closed"]:12d}  {s["vehicles_caught"]:6d}  {s["assets_failed"]:13d}  {s["people_cut_off_peak"]:12.0f}  '
      f'{s["vehicles_arrived"]:7d}')
PY
  done
done
