#!/usr/bin/python3
"""Load benchmark of the live feeds: ChirpStack uplinks through mosquitto into a live session. Opt-in: not run by CTest.

What it does
    Writes a territory folder: the demo territory (its files linked, not
    copied) with --devices extra level gauges, each with a device EUI
    (70B3D57ED1xxxxxx), within 100 m of a town gauge of the demo. Starts mosquitto and
    `cadereau serve --mqtt` on free ports of 127.0.0.1, in a temporary data
    folder holding that territory as "load", opens a live session on it and
    subscribes to its stream (WebSocket, bearer token). Then publishes --rate
    uplinks per second for --seconds seconds at QoS 1 (paho-mqtt, one
    connection, in this process), the devices in turn, each uplink with its
    own deduplicationId, and waits (at most --drain seconds) for their
    observations on the stream.

What the numbers mean
    lost         uplinks published (acknowledged by the broker) whose
                 observation is neither on the stream nor in /events by the
                 end of the drain (--drain s after the last publish): lost,
                 or so late that a live twin would not care.
    twice        observation events of the same uplink (its payload digest)
                 beyond the first. Targets: both 0.
    latency      from just before the publish call to the receipt of the
                 observation event on the stream, one clock (this process).
                 It includes the broker, the server's parsing and checks, the
                 command log being made durable, the engine taking the
                 command between two of its steps and the event's fan-out.
                 Target: p99 < 200 ms.
    server       the `cadereau serve` process: peak RSS (VmHWM), and CPU
                 seconds over the publishing window as a share of one core;
                 the same for its engine worker (a process of its own).
    achieved     uplinks published per second (this client keeps the rate
                 unless the machine cannot).

    bench/feeds_load.py --cadereau BUILD/server/cadereau [--territory DIR] [--rate 1000] [--seconds 60]
        [--devices 2000] [--reference OTHER/cadereau] [--json OUT.json] [--forecasts]

The live session forecasts only when asked, unless --forecasts: the figures
are the feed path's; --forecasts shows what a forecast process beside it
costs on this machine.

--reference runs the same load on another build first (a previous commit's)
and prints both side by side, with the ratio of each figure. Short form for
a quick look: --rate 200 --seconds 10. Fixed seed: the devices' order and
the values are the same on every run.
"""

import argparse
import asyncio
import collections
import hashlib
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "server"))
from live_support import USERS, Broker, Client, Server, check, free_port, now_iso, open_live_session, prepare_data  # noqa: E402

import paho.mqtt.client as mqtt  # noqa: E402
import websockets  # noqa: E402

EUI_BASE = 0x70B3D57ED1000000


def load_territory(source, folder, devices):
    """`source` linked file by file into `folder`, its sensors file extended with `devices` level gauges."""
    os.makedirs(folder)
    for name in os.listdir(source):
        if name != "sensors.geojson":
            os.symlink(os.path.join(os.path.abspath(source), name), os.path.join(folder, name))
    with open(os.path.join(source, "sensors.geojson")) as f:
        sensors = json.load(f)
    town = next(x for x in sensors["features"] if x["properties"]["id"] == "lg-ales-ville")
    x0, y0 = town["geometry"]["coordinates"][:2]
    euis = []
    for i in range(devices):
        eui = f"{EUI_BASE + i:016X}"
        euis.append(eui)
        sensors["features"].append({
            "type": "Feature",
            # About 2 m apart (the sensors file is GeoJSON: lon, lat).
            "geometry": {"type": "Point", "coordinates": [x0 + (i % 40) * 2.5e-5, y0 + (i // 40) * 1.8e-5]},
            "properties": {"id": f"lg-load-{i:04d}", "name": f"Load gauge {i}", "kind": "level_gauge",
                           "watercourse": "load", "dev_eui": eui}})
    with open(os.path.join(folder, "sensors.geojson"), "w") as f:
        json.dump(sensors, f)
    return euis


def proc_cpu_s(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_hwm_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def children(pid):
    """Processes whose parent is pid (the engine workers of a server)."""
    out = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        out.append(int(name))
            except (OSError, ValueError, IndexError):
                pass
    return out


class StreamWatcher:
    """The session's stream in a thread of its own: receipt time of each observation by payload digest."""

    def __init__(self, url, headers):
        self.url, self.headers = url, headers
        self.seen = {}      # digest -> first receipt (time.monotonic())
        self.events = 0     # observation events received
        self.steps = []     # (receipt, sim t_s) of the engine's steps (kpi messages)
        self.clocks = []    # receipts of the server's clock messages (one a second)
        self.stop = threading.Event()
        self.ready = threading.Event()
        self.error = None
        self.thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)

    async def _run(self):
        try:
            async with websockets.connect(self.url, extra_headers=self.headers, open_timeout=20, max_size=2**24,
                                          max_queue=None) as ws:
                self.ready.set()
                while not self.stop.is_set():
                    try:
                        text = await asyncio.wait_for(ws.recv(), 0.5)
                    except asyncio.TimeoutError:
                        continue
                    now = time.monotonic()
                    m = json.loads(text)
                    if m.get("type") == "kpi":
                        self.steps.append((now, m.get("t_s")))
                    elif m.get("type") == "clock":
                        self.clocks.append(now)
                    if m.get("kind") == "observation":
                        self.events += 1
                        self.seen.setdefault(m["digest"], now)
        except Exception as e:  # reported by the run
            self.error = repr(e)
            self.ready.set()


def publish(port, euis, rate, seconds):
    """Publishes rate x seconds uplinks at QoS 1; returns {digest: publish time} of those the broker acknowledged."""
    client = mqtt.Client(client_id=f"feeds-load-{os.getpid()}", clean_session=True)
    client.max_inflight_messages_set(1000)
    client.max_queued_messages_set(0)
    # paho calls on_publish holding its own lock, which publish() takes too:
    # the callback only counts, and acknowledgements are matched at the end.
    acked_mids = collections.Counter()
    counter_lock = threading.Lock()

    def on_publish(_client, _userdata, mid):
        with counter_lock:
            acked_mids[mid] += 1

    client.on_publish = on_publish
    client.connect("127.0.0.1", port, keepalive=30)
    client.loop_start()
    rng = random.Random(42)
    total = int(rate * seconds)
    sent = []  # (mid, digest, publish time)
    start = time.monotonic()
    for k in range(total):
        due = start + k / rate
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        eui = euis[k % len(euis)]
        payload = json.dumps({"deduplicationId": str(uuid.UUID(int=rng.getrandbits(128), version=4)), "time": now_iso(),
                              "deviceInfo": {"applicationId": "load", "devEui": eui.lower()},
                              "fCnt": k, "fPort": 2, "object": {"water_level_m": round(rng.uniform(0.0, 2.0), 3)}})
        t = time.monotonic()
        info = client.publish(f"application/load/device/{eui.lower()}/event/up", payload, qos=1)
        sent.append((info.mid, hashlib.sha256(payload.encode()).hexdigest(), t))
    elapsed = time.monotonic() - start
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with counter_lock:
            if sum(acked_mids.values()) >= total:
                break
        time.sleep(0.1)
    client.loop_stop()
    client.disconnect()
    acked = {}
    with counter_lock:
        for mid, digest, t in sent:  # mids come round again after 65535: taken in order
            if acked_mids[mid] > 0:
                acked_mids[mid] -= 1
                acked[digest] = t
    return acked, total, elapsed


def percentile(values, p):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100.0 * (len(values) - 1))))]


def run_once(cadereau, source_territory, args, tmp):
    data = os.path.join(tmp, "data")
    os.makedirs(data)
    euis = load_territory(source_territory, os.path.join(tmp, "load"), args.devices)
    prepare_data(cadereau, data, {"load": os.path.join(tmp, "load")})
    broker_dir = os.path.join(tmp, "broker")
    os.makedirs(broker_dir)
    broker = Broker(broker_dir, free_port())
    server = Server(cadereau, data, broker.port)
    try:
        broker.start()
        server.start()
        c = Client(server)
        for user in USERS:
            c.login(user)
        # The feed path alone, unless asked: a forecast takes a core of its own
        # (on 2 cores, one the publisher here also needs).
        sid = open_live_session(c, territory="load", timeout=300,
                                forecast=None if args.forecasts else {"every_min": 0})
        after = c.get("olga", f"/sessions/{sid}").json()["last_seq"]
        url = server.url.replace("http://", "ws://") + f"/sessions/{sid}/stream?after={after}"
        watcher = StreamWatcher(url, c.headers("olga"))
        watcher.thread.start()
        check(watcher.ready.wait(30) and not watcher.error, f"the stream: {watcher.error}")
        workers = children(server.proc.pid)
        cpu0 = {p: proc_cpu_s(p) for p in [server.proc.pid] + workers}
        acked, total, elapsed = publish(broker.port, euis, args.rate, args.seconds)
        cpu1 = {p: proc_cpu_s(p) for p in cpu0 if os.path.exists(f"/proc/{p}")}
        deadline = time.monotonic() + args.drain
        while time.monotonic() < deadline and not set(acked) <= set(watcher.seen):
            time.sleep(0.2)
        time.sleep(1.0)  # a repeat would come now
        watcher.stop.set()
        watcher.thread.join(5)
        # What the stream missed may still be in the journal: counted there.
        journal, page_after = {}, after
        while True:
            page = c.get("olga", f"/sessions/{sid}/events?after={page_after}").json()
            if not page:
                break
            for e in page:
                if e.get("kind") == "observation":
                    journal[e["digest"]] = journal.get(e["digest"], 0) + 1
            page_after = page[-1]["seq"]
        latencies = [(watcher.seen[d] - t) * 1000.0 for d, t in acked.items() if d in watcher.seen]
        result = {
            "published": total, "acknowledged": len(acked), "seconds": elapsed, "achieved_per_s": total / elapsed,
            "lost": sum(1 for d in acked if d not in journal and d not in watcher.seen),
            "twice": sum(n - 1 for n in journal.values()) + max(0, watcher.events - len(watcher.seen)),
            "on_stream": len(watcher.seen),
            "p50_ms": percentile(latencies, 50), "p99_ms": percentile(latencies, 99),
            "max_ms": max(latencies) if latencies else float("nan"),
            "server_rss_mib": proc_hwm_mib(server.proc.pid),
            "server_cpu": (cpu1.get(server.proc.pid, 0) - cpu0[server.proc.pid]) / elapsed,
            "worker_rss_mib": sum(proc_hwm_mib(p) for p in workers if os.path.exists(f"/proc/{p}")),
            "worker_cpu": sum(cpu1.get(p, 0) - cpu0[p] for p in workers) / elapsed,
        }
        return result
    finally:
        server.stop()
        broker.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cadereau", required=True)
    parser.add_argument("--reference", help="another build's cadereau, run first for a side-by-side ratio")
    parser.add_argument("--territory", help="the demo territory folder (default: written with `cadereau territory demo`)")
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--devices", type=int, default=2000)
    parser.add_argument("--drain", type=float, default=60.0, help="seconds to wait for the last observations")
    parser.add_argument("--json", help="write the figures here")
    parser.add_argument("--forecasts", action="store_true",
                        help="let the live session forecast (a 5-minute forecast at once, then on jumps): "
                             "the cost of a forecast process beside the feeds")
    args = parser.parse_args()
    check(shutil.which("mosquitto"), "mosquitto is not installed (scripts/setup.sh)")
    with tempfile.TemporaryDirectory(prefix="cadereau-feeds-load-") as tmp:
        territory = args.territory
        if not territory:
            territory = os.path.join(tmp, "demo")
            subprocess.run([args.cadereau, "territory", "demo", "--out", territory], check=True, capture_output=True,
                           timeout=600)
        runs = {}
        for name, binary in ([("reference", args.reference)] if args.reference else []) + [("this", args.cadereau)]:
            folder = os.path.join(tmp, name)
            os.makedirs(folder)
            print(f"{name}: {args.rate:.0f} uplinks/s for {args.seconds:.0f} s from {args.devices} devices ({binary})",
                  flush=True)
            runs[name] = run_once(binary, territory, args, folder)
    rows = [("published", "{:.0f}"), ("acknowledged", "{:.0f}"), ("achieved_per_s", "{:.0f}"), ("lost", "{:.0f}"),
            ("twice", "{:.0f}"), ("on_stream", "{:.0f}"), ("p50_ms", "{:.1f}"), ("p99_ms", "{:.1f}"),
            ("max_ms", "{:.1f}"), ("server_rss_mib", "{:.0f}"), ("server_cpu", "{:.2f}"), ("worker_rss_mib", "{:.0f}"),
            ("worker_cpu", "{:.2f}")]
    names = list(runs)
    print(f"{'':16}" + "".join(f"{n:>12}" for n in names) + ("       ratio" if len(names) == 2 else ""))
    for key, fmt in rows:
        line = f"{key:16}" + "".join(f"{fmt.format(runs[n][key]):>12}" for n in names)
        if len(names) == 2 and runs[names[0]][key]:
            line += f"{runs[names[1]][key] / runs[names[0]][key]:12.2f}"
        print(line)
    this = runs["this"]
    verdict = this["lost"] == 0 and this["twice"] == 0 and this["p99_ms"] < 200.0
    print(f"targets (none lost, none twice, p99 < 200 ms): {'met' if verdict else 'NOT met'}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(runs, f, indent=2)
    return 0 if verdict else 1


if __name__ == "__main__":
    sys.exit(main())
