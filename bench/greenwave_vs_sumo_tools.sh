#!/bin/sh
# Traffic benchmarks (opt-in, fixed seeds):
#  1. bench/greenwave_corridors.py: the plans of `cadereau greenwave` against
#     SUMO's own tools (tlsCycleAdaptation.py -u, tlsCoordinator.py, both) on
#     generated corridors (4-8 lights, unequal blocks, 40-70 km/h, turning
#     flows, random arrivals, one one-way), every plan judged by plain `sumo`
#     on seeds the planner never saw; fails when a corridor misses the goal
#     (arterial travel time 8 % under the best tool, fewer stops, all trips no
#     slower, no fewer completed). PLANNER_ARGS (default "--budget-s 180")
#     go to the planner.
#  2. libsumo in-process (the traffic twin reading all edge states every 10 s)
#     against the plain `sumo` binary on Bologna "joined" (~11,000 vehicles)
#     and on the demo territory's morning peak: wall-time ratio and simulated
#     seconds per wall second.
# Usage: bench/greenwave_vs_sumo_tools.sh [BUILD_DIR]   (default build)
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
export SUMO_HOME=${SUMO_HOME:-/usr/share/sumo}
export CADEREAU_SHARED_DATA=${CADEREAU_SHARED_DATA:-$here/../shared/data}
if [ -z "${CADEREAU_TEST_TERRITORY:-}" ]; then
  CADEREAU_TEST_TERRITORY=$(mktemp -d)/demo
  "$build/server/cadereau" territory demo --out "$CADEREAU_TEST_TERRITORY" >/dev/null
  export CADEREAU_TEST_TERRITORY
fi
# Both benchmarks run whatever the first one finds; the status is the worse.
status=0
/usr/bin/python3 "$here/bench/greenwave_corridors.py" --build "$build" --planner-args "${PLANNER_ARGS:---budget-s 180}" || status=1
"$build/tests/traffic_tests" "libsumo twin vs plain sumo: Bologna and the demo territory" || status=1
exit $status
