#!/usr/bin/env bash
# The flood model side by side with LISFLOOD-FP 8.1 on EA Test 4 (flat
# 1000 x 2000 m floodplain, 5 m cells, Manning 0.05, 20 m3/s peak inflow
# over 20 m of the western edge, closed edges, 2 h by default): LISFLOOD-FP's
# local-inertial (ACC) and first-order finite-volume (FV1) solvers against
# `cadereau-bench-flood ea4` (full equations, finite volumes), every side on
# the same number of threads with passive OpenMP waits, runs alternated so a
# machine whose speed drifts slows each side alike. Prints each run's wall
# time, the medians, and the ratios cadereau / ACC and cadereau / FV1.
#
#   bench/flood_vs_lisflood.sh LISFLOOD [options]
#
# LISFLOOD is the lisflood binary, or a LISFLOOD-FP 8.1 source tree, which is
# then built (CPU only: no NetCDF, no CUDA; needs libnuma-dev) into
# ${XDG_CACHE_HOME:-$HOME/.cache}/cadereau-bench/lisflood-fp-8.1 unless a
# binary is already there. Nothing is downloaded and nothing is built into
# the project. Without LISFLOOD-FP the script says so and exits 0.
#
# Options:
#   --cadereau BIN    cadereau-bench-flood to time (default: build/bench/ under the repository)
#   --baseline BIN    another cadereau-bench-flood (a previous build) timed in the same rotation
#   --runs N          runs of each side (default 3)
#   --hours H         simulated hours (default 2)
#   --threads N       threads for every side (default 2)
#   --keep DIR        write the LISFLOOD-FP case and outputs to DIR and keep them
#
# The cadereau time is its process time for the model (setup and run, as
# `process_s` in its benchmark line; the bandwidth measurement it makes
# afterwards is left out); LISFLOOD-FP's is its whole process (reading the
# case, the run, its last output).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
lisflood_arg=""
cadereau="$repo/build/bench/cadereau-bench-flood"
baseline=""
runs=3
hours=2
threads=2
keep=""

usage() { sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; }

while [[ $# -gt 0 ]]; do
  case "$1" in
    --cadereau) cadereau="$2"; shift 2 ;;
    --baseline) baseline="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --hours) hours="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --keep) keep="$2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    -*) echo "flood_vs_lisflood: unknown option $1" >&2; exit 2 ;;
    *) lisflood_arg="$1"; shift ;;
  esac
done

skip() { echo "flood_vs_lisflood skipped: $*"; exit 0; }

# --- LISFLOOD-FP: a binary, or a source tree built into the cache.
lisflood=""
cache="${XDG_CACHE_HOME:-$HOME/.cache}/cadereau-bench"
if [[ -z "$lisflood_arg" ]]; then
  skip "no LISFLOOD-FP given (pass the lisflood binary or a LISFLOOD-FP 8.1 source tree)"
elif [[ -f "$lisflood_arg" && -x "$lisflood_arg" ]]; then
  lisflood="$lisflood_arg"
elif [[ -f "$lisflood_arg/CMakeLists.txt" && -f "$lisflood_arg/lisflood.cpp" ]]; then
  build="$cache/lisflood-fp-8.1"
  if [[ ! -x "$build/lisflood" ]]; then
    mkdir -p "$cache"
    # The default configuration with NetCDF off; CUDA left out even where a compiler is found.
    cat > "$cache/lisflood-cpu.cmake" <<'EOF'
set(_NETCDF 0)
add_compile_definitions(_NUMERIC_MODE=0)
add_compile_definitions(_ONLY_RECT=1)
add_compile_definitions(_PROFILE_MODE=0)
add_compile_definitions(_DISABLE_WET_DRY=0)
add_compile_definitions(_CALCULATE_Q_MODE=1)
add_compile_definitions(_SGM_BY_BLOCKS=0)
add_compile_definitions(_BALANCE_TYPE=0)
EOF
    echo "building LISFLOOD-FP from $lisflood_arg into $build ..."
    cmake -S "$lisflood_arg" -B "$build" -DCMAKE_BUILD_TYPE=Release -D_CONFIG="$cache/lisflood-cpu.cmake" \
      -DCMAKE_CUDA_COMPILER=OFF > "$cache/lisflood-build.log" 2>&1 &&
      cmake --build "$build" -j "$threads" --target lisflood >> "$cache/lisflood-build.log" 2>&1 ||
      skip "LISFLOOD-FP did not build (see $cache/lisflood-build.log; it needs libnuma-dev)"
  fi
  lisflood="$build/lisflood"
else
  skip "LISFLOOD-FP not found at '$lisflood_arg' (neither an executable nor a source tree)"
fi
[[ -x "$cadereau" ]] || { echo "flood_vs_lisflood: $cadereau is not built (cmake --build build --target cadereau-bench-flood)" >&2; exit 2; }
[[ -z "$baseline" || -x "$baseline" ]] || { echo "flood_vs_lisflood: baseline $baseline is not executable" >&2; exit 2; }

# --- The case, in LISFLOOD-FP's formats.
if [[ -n "$keep" ]]; then
  work="$keep"
  mkdir -p "$work"
else
  work="$(mktemp -d "${TMPDIR:-/tmp}/flood-vs-lisflood.XXXXXX")"
  trap 'rm -rf "$work"' EXIT
fi
sim_s="$(awk -v h="$hours" 'BEGIN { printf "%.0f", h * 3600 }')"
# DEM: 200 columns (west-east) by 400 rows of 5 m, flat at 0 m.
awk 'BEGIN {
  print "ncols 200"; print "nrows 400"; print "xllcorner 0"; print "yllcorner 0"; print "cellsize 5";
  print "NODATA_value -9999";
  row = ""; for (c = 0; c < 200; ++c) row = row (c ? " " : "") "0";
  for (r = 0; r < 400; ++r) print row
}' > "$work/ea4.dem.asc"
# The inflow: the four western cells whose edges cover y 990..1010 m, each
# taking the hydrograph per unit width (m2/s; 20 m3/s over 20 m at the peak),
# as cadereau-bench-flood's ea4 does.
: > "$work/ea4.bci"
for y in 992.5 997.5 1002.5 1007.5; do echo "P 2.5 $y QVAR inflow" >> "$work/ea4.bci"; done
cat > "$work/ea4.bdy" <<'EOF'
EA Test 4 inflow per unit width of the western edge (m2/s), the trapezoid of cadereau-bench-flood ea4
inflow
5 seconds
0 0
1 3600
1 10800
0 18000
0 21600
EOF
# initial_tstep caps ACC's step: set high, each solver takes the steps its
# own stability limit allows.
for solver in acc fv1; do
  keyword=$([[ $solver == acc ]] && echo acceleration || echo fv1)
  cat > "$work/ea4-$solver.par" <<EOF
DEMfile         ea4.dem.asc
resroot         ea4
dirroot         out-$solver
sim_time        $sim_s
initial_tstep   10.0
saveint         $sim_s
massint         $sim_s
fpfric          0.05
bcifile         ea4.bci
bdyfile         ea4.bdy
elevoff
$keyword
EOF
done

export OMP_NUM_THREADS="$threads" OMP_WAIT_POLICY=PASSIVE

now() { date +%s.%N; }
# One run of a side; prints its wall seconds.
run_lisflood() {  # solver
  local t0 t1 log="$work/lisflood-$1.log"
  t0=$(now)
  (cd "$work" && "$lisflood" "ea4-$1.par" > "$log" 2>&1) ||
    { echo "flood_vs_lisflood: LISFLOOD-FP $1 failed, see $log:" >&2; tail -5 "$log" >&2; exit 1; }
  t1=$(now)
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }'
}
run_cadereau() {  # binary, label
  local out
  out="$("$1" ea4 --threads "$threads" --hours "$hours" 2>/dev/null)" ||
    { echo "flood_vs_lisflood: $1 failed" >&2; exit 1; }
  echo "$out" > "$work/$2.log"
  grep '^benchmark:' <<< "$out" | sed -E 's/.* process_s=([0-9.]+).*/\1/'
}
rate_of() { grep '^benchmark:' "$work/$1.log" | sed -E 's/.* cell_updates_per_s=([0-9.e+]+).*/\1/'; }

sides=(acc fv1 cadereau)
[[ -n "$baseline" ]] && sides+=(baseline)
declare -A times
echo "EA Test 4, ${hours} h, 5 m cells, ${threads} threads, OMP_WAIT_POLICY=PASSIVE, $runs runs of each side, alternated"
echo "  LISFLOOD-FP: $lisflood"
echo "  cadereau:    $cadereau"
[[ -n "$baseline" ]] && echo "  baseline:    $baseline"
for ((i = 1; i <= runs; ++i)); do
  for side in "${sides[@]}"; do
    case "$side" in
      acc|fv1) t=$(run_lisflood "$side") ;;
      cadereau) t=$(run_cadereau "$cadereau" cadereau) ;;
      baseline) t=$(run_cadereau "$baseline" baseline) ;;
    esac
    times[$side]+="$t "
    printf '  run %d  %-9s %8.2f s\n' "$i" "$side" "$t"
  done
done

median() { tr ' ' '\n' <<< "$1" | grep -v '^$' | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
echo "median wall time (s):"
declare -A med
for side in "${sides[@]}"; do
  med[$side]=$(median "${times[$side]}")
  printf '  %-9s %8.2f   (runs: %s)\n' "$side" "${med[$side]}" "${times[$side]% }"
done
printf 'cadereau cell updates per second (last run): %s\n' "$(rate_of cadereau)"
[[ -n "$baseline" ]] && printf 'baseline cell updates per second (last run): %s\n' "$(rate_of baseline)"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
echo "ratio cadereau / LISFLOOD-FP ACC: $(ratio "${med[cadereau]}" "${med[acc]}")  (goal <= 0.5)"
echo "ratio cadereau / LISFLOOD-FP FV1: $(ratio "${med[cadereau]}" "${med[fv1]}")"
[[ -n "$baseline" ]] && echo "ratio cadereau / baseline:        $(ratio "${med[cadereau]}" "${med[baseline]}")"
exit 0
