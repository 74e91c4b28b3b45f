#!/usr/bin/env bash
# The live demo: mosquitto on 127.0.0.1, `cadereau serve --mqtt` (plain HTTP
# on 127.0.0.1) with an operator, a live session on the demo territory, and
# `cadereau feed play` publishing the flagship storm's sensors into it.
#
#   scripts/live-demo.sh [DATA_DIR]      (default: a new folder under /tmp)
#
# Environment: CADEREAU_BUILD_DIR (default ./build), SPEED (1: real time, the
# live twin's own pace; faster compresses the storm and the gauges' rain
# rates with it), FROM and UNTIL (scenario times, 07:00 and 09:00), NOISE
# (0.02 m), HTTP_PORT and MQTT_PORT (free ports by default).
# Ctrl-C stops everything this script started.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${CADEREAU_BUILD_DIR:-$root/build}"
cadereau="$build/server/cadereau"
scenario="$root/scenarios/flash-flood-1988.yaml"
data="${1:-$(mktemp -d /tmp/cadereau-live-XXXXXX)}"
speed="${SPEED:-1}"
from="${FROM:-07:00}"
until="${UNTIL:-09:00}"
noise="${NOISE:-0.02}"
user=operator
password="live demo operator"

[ -x "$cadereau" ] || { echo "live-demo: no $cadereau (run scripts/build.sh)" >&2; exit 1; }
command -v mosquitto >/dev/null || { echo "live-demo: mosquitto is not installed (scripts/setup.sh)" >&2; exit 1; }
command -v curl >/dev/null || { echo "live-demo: curl is not installed (scripts/setup.sh)" >&2; exit 1; }

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
http_port="${HTTP_PORT:-$(free_port)}"
mqtt_port="${MQTT_PORT:-$(free_port)}"
mkdir -p "$data/broker"

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

# mosquitto, run as root, would become user "mosquitto", which cannot write here.
cat > "$data/broker/mosquitto.conf" <<EOF
user $(id -un)
listener $mqtt_port 127.0.0.1
allow_anonymous true
persistence true
persistence_location $data/broker/
log_dest file $data/broker/mosquitto.log
EOF
mosquitto -c "$data/broker/mosquitto.conf" &
pids+=($!)

# Added once per data folder (a second run finds it there).
echo "$password" | "$cadereau" user add "$user" --role operator --data "$data" >/dev/null 2>&1 || true
"$cadereau" serve --data "$data" --listen "127.0.0.1:$http_port" --plain-http --mqtt "127.0.0.1:$mqtt_port" \
  >"$data/serve.out" 2>"$data/serve.log" &
pids+=($!)
api="http://127.0.0.1:$http_port/api/v1"
for _ in $(seq 1 120); do
  grep -q "^listening on " "$data/serve.out" 2>/dev/null && break
  sleep 0.5
done
grep -q "^listening on " "$data/serve.out" || { echo "live-demo: the server did not start ($data/serve.log)" >&2; exit 1; }

token=$(curl -sf --noproxy '*' -H 'Content-Type: application/json' \
  -d "{\"user\": \"$user\", \"password\": \"$password\"}" "$api/login" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
auth=(-H "Authorization: Bearer $token" -H 'Content-Type: application/json')
echo "live-demo: making the demo territory on first use can take a minute..."
sid=$(curl -sf --noproxy '*' "${auth[@]}" -d '{"mode": "live", "territory": "demo", "name": "Live demo"}' "$api/sessions" |
  /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
for _ in $(seq 1 600); do
  curl -sf --noproxy '*' "${auth[@]}" "$api/sessions/$sid" | grep -q '"state":"ready"' && break
  sleep 0.5
done
curl -sf --noproxy '*' "${auth[@]}" -d '{"command": "start"}' "$api/sessions/$sid/clock" >/dev/null

cat <<EOF

Live demo running (data in $data):
  console        http://127.0.0.1:$http_port/   (user $user, password "$password")
  feed health    curl -s -H "Authorization: Bearer $token" $api/sessions/$sid/feeds
  observations   curl -s -H "Authorization: Bearer $token" "$api/sessions/$sid/events?after=0"
  stream         ws://127.0.0.1:$http_port/api/v1/sessions/$sid/stream?after=0 (same bearer token)
  broker         mosquitto_sub -h 127.0.0.1 -p $mqtt_port -t 'application/#' -v
Playing the flagship's sensors from $from to $until at speed $speed (Ctrl-C stops everything).

EOF

# The town gauges' levels come from a run of the flagship to the window's end, made once.
run="$data/flagship-run-${until/:/}"
if [ ! -f "$run/recording.h5" ]; then
  echo "live-demo: running the flagship headless to $until once for its gauge levels ($run)..."
  "$cadereau" run "$scenario" --out "$run" --territory "$data/territories/demo" --until "$until" --no-snapshots >/dev/null
fi
"$cadereau" feed play "$scenario" --mqtt "127.0.0.1:$mqtt_port" --recording "$run/recording.h5" \
  --territory "$data/territories/demo" --from "$from" --until "$until" --speed "$speed" --noise "$noise" &
pids+=($!)
wait "${pids[-1]}"
echo "live-demo: the feed is played; the server and broker keep running until Ctrl-C."
wait
