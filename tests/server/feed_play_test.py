#!/usr/bin/env python3
"""The feed simulator through a real broker: `cadereau feed play` into a live session.

Runs the flagship headless to 07:16 (a small recording), starts mosquitto and
`cadereau serve --mqtt` on free ports of 127.0.0.1, opens a live session on
the demo territory, and plays the level gauges of 07:05-07:15 at 120 times
real time, one reading a minute, with gaps and duplicates. Checks: every
reading published lands once as an observation (sent = observations, the
duplicates counted on /feeds and not recorded, the gaps absent), a town
gauge's values are its depth in the recording, every reading is in the
command log and a worker started again journals none twice, and bad options are refused
with a clear message (an unknown sensor, a speed out of range, a broker that
does not answer).

    feed_play_test.py --cadereau BUILD/server/cadereau --territory DIR --scenario FLAGSHIP.yaml

Each check prints PASS or FAIL; the exit status is the number of failures.
"""

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import time

from live_support import check, events, feeds, free_port, open_live_session, run_live_test, wait_for

FROM, UNTIL, EVERY_S, SPEED = "07:05", "07:15", 60, 120
ROUNDS = 11  # 07:05 to 07:15, one a minute


def level_gauges(territory):
    with open(os.path.join(territory, "sensors.geojson")) as f:
        props = [x["properties"] for x in json.load(f)["features"]]
    return {p["id"]: p for p in props if p.get("kind") == "level_gauge" and p.get("dev_eui")}


def run(cmd, timeout=60):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def t_play(ctx):
    """Every reading published lands once; duplicates are counted, not recorded; gaps are absent."""
    c, sid, gauges = ctx["c"], ctx["sid"], ctx["gauges"]
    before = {s["sensor"]: s for s in feeds(c, sid)["sensors"]}
    cmd = [ctx["cadereau"], "feed", "play", ctx["scenario"], "--mqtt", f"127.0.0.1:{ctx['broker'].port}",
           "--recording", ctx["recording"], "--territory", ctx["territory"], "--sensors", ",".join(sorted(gauges)),
           "--from", FROM, "--until", UNTIL, "--every", str(EVERY_S), "--speed", str(SPEED),
           "--gaps", "0.15", "--duplicates", "0.2", "--seed", "7"]
    started = time.time()
    r = run(cmd, timeout=60)
    check(r.returncode == 0, f"feed play: {r.returncode}\n{r.stdout}\n{r.stderr}")
    m = re.search(r"(\d+) uplinks published .* and acknowledged \((\d+) readings, (\d+) dropped as gaps, (\d+) sent twice\)",
                  r.stdout)
    check(m, f"no summary line: {r.stdout}")
    uplinks, sent, gaps, twice = map(int, m.groups())
    check(sent + gaps == ROUNDS * len(gauges), f"{sent} sent + {gaps} gaps for {ROUNDS} rounds of {len(gauges)} gauges")
    check(uplinks == sent + twice, f"{uplinks} uplinks for {sent} readings and {twice} repeats")
    check(gaps > 0 and twice > 0, f"the seed gives no gap or no duplicate ({gaps}, {twice}): nothing tested")
    check(time.time() - started < (10 * 60 / SPEED) + 20, f"feed play took {time.time() - started:.1f} s")
    check("feed play: " in r.stderr and "scenario 07:15 (100 %)" in r.stderr, f"no progress lines: {r.stderr}")

    def landed():
        obs = [e for e in events(c, sid, "observation") if e["target"] in gauges]
        return obs if len(obs) >= sent else None

    obs = wait_for(f"{sent} observations", landed, timeout=30)
    time.sleep(1.0)  # anything more would be a duplicate recorded
    obs = [e for e in events(c, sid, "observation") if e["target"] in gauges]
    check(len(obs) == sent, f"{len(obs)} observations for {sent} readings sent")
    rejected = [e for e in events(c, sid, "observation_rejected") if e["target"] in gauges]
    check(not rejected, f"rejected: {[e['reason'] for e in rejected][:3]}")
    after = {s["sensor"]: s for s in feeds(c, sid)["sensors"]}
    dups = sum(after[g]["duplicates"] - before[g]["duplicates"] for g in gauges)
    readings = sum(after[g]["readings"] - before[g]["readings"] for g in gauges)
    check(dups == twice and readings == sent, f"/feeds: {readings} readings, {dups} duplicates; sent {sent}, {twice} twice")
    per_sensor = {g: sum(1 for e in obs if e["target"] == g) for g in gauges}
    check(all(0 < n <= ROUNDS for n in per_sensor.values()), f"observations per gauge: {per_sensor}")
    check(len({e["digest"] for e in obs}) == len(obs), "two observations of the same uplink")
    ctx["observations"] = obs


def t_values(ctx):
    """A town gauge's observations are its depth above the bed in the recording."""
    try:
        import h5py
    except ImportError:
        print("  (h5py is not installed: values not compared)")
        return
    with h5py.File(ctx["recording"], "r", swmr=True) as f:
        series = {}
        for g in ctx["gauges"]:
            d = f["timeseries"][f"gauge_{g}_wse_m"]
            desc = d.attrs["description"]
            bed = float(re.search(r"bed at (-?[0-9.]+) m", desc if isinstance(desc, str) else desc.decode()).group(1))
            series[g] = (d["time_s"][:], d["value"][:] - bed)
    compared = 0
    for e in ctx["observations"]:
        g = e["target"]
        if "ville" not in g and "vistre" not in g:
            continue  # a gauge carrying an inflow plays the scenario's flow on its rating curve
        times, depth = series[g]
        # Its scenario time is not in the uplink: one of the rounds' depths.
        values = [max(0.0, float(v)) for t, v in zip(times, depth) if 300 <= t <= 900 and int(t) % EVERY_S == 0]
        check(any(abs(e["value"] - v) < 1e-6 for v in values),
              f"{g}: {e['value']} m is no depth of the recording's at 07:05-07:15 ({values[:4]}...)")
        compared += 1
    check(compared > 0, "no town gauge compared")


def t_worker_restart(ctx):
    """Every reading is in the command log; a worker started again is re-fed them and none is journalled twice."""
    c, sid = ctx["c"], ctx["sid"]
    before = events(c, sid, "observation")
    with open(os.path.join(ctx["data"], "sessions", sid, "commands.jsonl")) as f:
        logged = [json.loads(line) for line in f if line.strip()]
    tickets = {x["ticket"] for x in logged if x.get("event", {}).get("kind") == "observation"}
    check(tickets == {e["ticket"] for e in before}, f"{len(before)} observations, {len(tickets)} in commands.jsonl")
    worker = c.get("olga", f"/sessions/{sid}").json()["worker"]
    os.kill(worker["pid"], signal.SIGKILL)  # the engine worker of the server this test started
    wait_for("the worker to be started again", lambda: (lambda w: w["restarts"] == worker["restarts"] + 1
             and w["state"] == "ready")(c.get("olga", f"/sessions/{sid}").json()["worker"]), timeout=120)
    time.sleep(2.0)  # the re-fed readings' answers come now
    after = events(c, sid, "observation")
    check(len(after) == len(before), f"{len(before)} observations before the restart, {len(after)} after")


def t_refusals(ctx):
    """Bad options are refused with a clear message."""
    base = [ctx["cadereau"], "feed", "play", ctx["scenario"], "--territory", ctx["territory"],
            "--recording", ctx["recording"]]
    mqtt = ["--mqtt", f"127.0.0.1:{ctx['broker'].port}"]
    r = run(base + mqtt + ["--sensors", "lg-nowhere"])
    check(r.returncode == 1 and "unknown sensor 'lg-nowhere'" in r.stderr, f"unknown sensor: {r.returncode} {r.stderr}")
    r = run(base + mqtt + ["--speed", "100000"])
    check(r.returncode == 2 and "--speed 100000" in r.stderr, f"speed: {r.returncode} {r.stderr}")
    r = run(base + mqtt + ["--sensors", "tc-01"])
    check(r.returncode == 1 and "tc-01 cannot be played" in r.stderr, f"a counter: {r.returncode} {r.stderr}")
    r = run(base + ["--mqtt", f"127.0.0.1:{free_port()}", "--connect-timeout", "2", "--until", "07:01"], timeout=30)
    check(r.returncode == 69 and "does not answer" in r.stderr, f"no broker: {r.returncode} {r.stderr}")
    r = run([ctx["cadereau"], "feed", "play", ctx["scenario"], "--territory", ctx["territory"]] + mqtt +
            ["--until", "07:01"])
    check(r.returncode == 0 and "not played: its level comes from a recording" in r.stdout
          and "cadereau run" in r.stdout, f"without a recording: {r.returncode} {r.stdout} {r.stderr}")


CHECKS = [t_play, t_values, t_worker_restart, t_refusals]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cadereau", required=True)
    parser.add_argument("--territory", required=True)
    parser.add_argument("--scenario", required=True)
    args = parser.parse_args()

    def recording(tmp):
        started = time.time()
        out = os.path.join(tmp, "run")
        r = run([args.cadereau, "run", args.scenario, "--out", out, "--territory", args.territory, "--until", "07:16",
                 "--no-snapshots"], timeout=120)
        check(r.returncode == 0, f"the recording: {r.returncode} {r.stderr[-2000:]}")
        print(f"  recording made in {time.time() - started:.1f} s", flush=True)
        return os.path.join(out, "recording.h5")

    return run_live_test(args.cadereau, {"demo": args.territory}, "cadereau-feed-play-", CHECKS,
                         lambda c, broker, tmp, data, made: {
                             "c": c, "broker": broker, "sid": open_live_session(c), "territory": args.territory,
                             "cadereau": args.cadereau, "scenario": args.scenario, "recording": made,
                             "gauges": level_gauges(args.territory), "data": data},
                         prepare=recording)


if __name__ == "__main__":
    sys.exit(main())
