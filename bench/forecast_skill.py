#!/usr/bin/env python3
"""Forecast skill on the flagship storm: what a live session knows at 07:30,
against what the exercise run of the same storm shows from 07:30 to 09:00.

1. The exercise run (`cadereau run scenarios/flash-flood-1988.yaml`) is the
   truth.
2. The live session's knowledge: the gauges' readings every 5 minutes, as
   `cadereau feed play` publishes them and the server turns them into forcing
   (session_feeds.cpp): a rain gauge's mm since its previous reading, as a
   rate held until the next reading; an upstream gauge's level, read on its
   rating curve, as the flow held until the next reading. The level is the
   stage of the true flow on the gauge's own rating curve, plus Gaussian
   noise (--noise-m); the rain gets proportional noise (--noise-rain).
   Readings stop at 07:30: after that, the forecast holds them (persistence),
   as a live session's forecast does.
3. That live twin runs from 07:00 to 07:30 and saves its state; the forecast
   worker (`cadereau forecast --brief`, what the server starts) runs on to
   09:00.
4. Scores, as the server scores its forecasts (service/forecasts.cpp): per
   group (roads closed, assets hit, zones hit), hits, misses, false alarms,
   hit rate, false alarm ratio, critical success index and the time errors of
   the hits (forecast minus exercise). Closures the exercise's operators made
   by hand (its timed actions) are left out: no forecast knows them.

The rain's areas are the scenario's (a live session spreads each gauge's rain
over its nearest-gauge area instead; see the README's note).

    bench/forecast_skill.py [--noise-m 0.05] [--noise-rain 0.1] [--seed 1] [--keep DIR]

Runs about 5 minutes on 2 cores. Prints one table line per noise level
(none, and the one asked for).
"""

import argparse
import bisect
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EVERY_S = 300.0   # a reading every 5 minutes, as the demo's devices send them
ISSUE_S = 1800.0  # 07:30
HORIZON_S = 5400.0  # to 09:00
GROUPS = {"road_closed": "roads", "asset_on_backup": "assets", "asset_failed": "assets", "asset_cut_off": "assets",
          "zone_flooded": "zones", "zone_without_power": "zones", "zone_unreachable": "zones",
          "zone_access_degraded": "zones"}


def seconds(text, start_clock_s):
    """A series time as the scenario writes it (HH:MM or seconds) in seconds since the start."""
    if ":" not in str(text):
        return float(text)
    h, m = str(text).split(":")[:2]
    return int(h) * 3600 + int(m) * 60 - start_clock_s


def linear(series, t):
    ts = [p[0] for p in series]
    if t <= ts[0]:
        return series[0][1]
    if t >= ts[-1]:
        return series[-1][1]
    k = bisect.bisect_right(ts, t)
    (t0, v0), (t1, v1) = series[k - 1], series[k]
    return v0 + (v1 - v0) * (t - t0) / (t1 - t0)


def mean_over(series, a, b, steps=60):
    return sum(linear(series, a + (b - a) * (i + 0.5) / steps) for i in range(steps)) / steps


def rating_stage(rating, q):
    """The stage of a flow on a rating curve (its inverse, linear between points)."""
    for (h0, q0), (h1, q1) in zip(rating, rating[1:]):
        if q <= q1:
            return h0 + (h1 - h0) * (q - q0) / (q1 - q0) if q1 > q0 else h0
    (h0, q0), (h1, q1) = rating[-2], rating[-1]
    return h1 + (q - q1) * (h1 - h0) / (q1 - q0)


def rated_flow(rating, h):
    """The server's reading of a rating curve (twin::rated_discharge_m3_s)."""
    if h <= rating[0][0]:
        return rating[0][1]
    for (h0, q0), (h1, q1) in zip(rating, rating[1:]):
        if h <= h1:
            return q0 + (q1 - q0) * (h - h0) / (h1 - h0)
    (h0, q0), (h1, q1) = rating[-2], rating[-1]
    return q1 + (h - h1) * (q1 - q0) / (h1 - h0)


def held(values):
    """Readings [(t, v)] as a series that holds each value until the next reading (a step every reading)."""
    out = []
    for i, (t, v) in enumerate(values):
        if i:
            out.append([round(t - 0.001, 3), out[-1][1]])
        out.append([t, round(v, 4)])
    return out


def live_scenario(text, scenario, rating, noise_m, noise_rain, rng):
    """The scenario's text up to its rain, then the rain and inflows as the readings give them; no timed actions."""
    start = scenario["start"]
    start_clock_s = int(start[11:13]) * 3600 + int(start[14:16]) * 60
    # The live session ran before the storm: its gauges read at 07:00 too.
    readings = [k * EVERY_S for k in range(0, int(ISSUE_S / EVERY_S) + 1)]
    out = text[:text.index("\nrain:")] + "\n\nrain:\n"
    for r in scenario["rain"]:
        series = [[seconds(t, start_clock_s), float(v)] for t, v in r["mm_h"]]
        values = []
        for t in readings:
            values.append((t, mean_over(series, t - EVERY_S, t) * max(0.0, 1.0 + noise_rain * rng.gauss(0, 1))))
        out += f"  - gauge: {r['gauge']}\n    area: [{', '.join(r['area'])}]\n    mm_h: {json.dumps(held(values))}\n"
    out += "inflows:\n"
    for i in scenario["inflows"]:
        series = [[seconds(t, start_clock_s), float(v)] for t, v in i["m3_s"]]
        curve = rating[i["at"]]
        values = []
        for t in readings:
            stage = max(0.0, rating_stage(curve, linear(series, t)) + noise_m * rng.gauss(0, 1))
            values.append((t, rated_flow(curve, stage)))
        out += f"  - name: {json.dumps(i['name'], ensure_ascii=False)}\n    at: {i['at']}\n    m3_s: {json.dumps(held(values))}\n"
    return out


def first_times(impacts, start_s, end_s, exclude=()):
    out = {}
    for i in impacts:
        group = GROUPS.get(i["kind"])
        if not group or not (start_s < i["t_s"] <= end_s) or (i["kind"], i["target"]) in exclude:
            continue
        out.setdefault(group, {}).setdefault((i["kind"], i["target"]), i["t_s"])
    return out


def score(predicted, happened):
    rows = {}
    for group in ("roads", "assets", "zones"):
        p, h = predicted.get(group, {}), happened.get(group, {})
        hits = [p[k] - h[k] for k in p if k in h]
        misses, false_alarms = len([k for k in h if k not in p]), len([k for k in p if k not in h])
        hits.sort()
        rows[group] = {"predicted": len(p), "happened": len(h), "hits": len(hits), "misses": misses,
                       "false_alarms": false_alarms,
                       "hit_rate": len(hits) / len(h) if h else None,
                       "false_alarm_ratio": false_alarms / len(p) if p else None,
                       "csi": len(hits) / (len(hits) + misses + false_alarms) if hits or misses or false_alarms else None,
                       "time_error_median_s": hits[len(hits) // 2] if hits else None,
                       "time_error_mean_s": sum(hits) / len(hits) if hits else None}
    return rows


def run(cmd, log):
    with open(log, "w") as f:
        r = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT)
    if r.returncode != 0:
        sys.exit(f"failed ({r.returncode}): {' '.join(cmd)}\n  see {log}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cadereau", default=os.path.join(os.environ.get("CADEREAU_BUILD_DIR", os.path.join(ROOT, "build")),
                                                           "server", "cadereau"))
    parser.add_argument("--noise-m", type=float, default=0.05)
    parser.add_argument("--noise-rain", type=float, default=0.10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", help="keep the runs in this folder")
    args = parser.parse_args()
    if not os.path.exists(args.cadereau):
        sys.exit(f"no cadereau at {args.cadereau}: build first (scripts/build.sh)")
    work = args.keep or tempfile.mkdtemp(prefix="cadereau-skill-")
    os.makedirs(work, exist_ok=True)
    try:
        with open(os.path.join(ROOT, "scenarios", "flash-flood-1988.yaml"), encoding="utf-8") as f:
            text = f.read()
        scenario = yaml.load(text, Loader=yaml.BaseLoader)  # every value as written: 07:30 stays a clock time
        territory = os.path.join(work, "territory")
        if not os.path.exists(os.path.join(territory, "territory.yaml")):
            run([args.cadereau, "territory", "demo", "--out", territory], os.path.join(work, "territory.log"))
        with open(os.path.join(territory, "sensors.geojson")) as f:
            rating = {}
            for feature in json.load(f)["features"]:
                p = feature["properties"]
                if p.get("rating"):
                    rating[p["id"]] = [tuple(float(x) for x in point.split(":")) for point in p["rating"].split()]

        print("== the exercise run of the flagship (the truth) ==", flush=True)
        truth_dir = os.path.join(work, "truth")
        started = time.time()
        run([args.cadereau, "run", os.path.join(ROOT, "scenarios", "flash-flood-1988.yaml"), "--territory", territory,
             "--out", truth_dir, "--no-snapshots"], os.path.join(work, "truth.log"))
        print(f"   {time.time() - started:.0f} s", flush=True)
        with open(os.path.join(truth_dir, "impacts.json")) as f:
            truth = json.load(f)
        by_hand = {(i["kind"], i["target"]) for i in truth
                   if i["kind"] == "road_closed" and any(c["kind"] == "action" for c in i["chain"])}
        happened = first_times(truth, ISSUE_S, ISSUE_S + HORIZON_S, by_hand)

        print(f"{'noise':>12}  {'group':>6}  {'happened':>8}  {'forecast':>8}  {'hits':>5}  {'misses':>6}  {'false':>5}  "
              f"{'hit rate':>8}  {'FAR':>5}  {'CSI':>5}  {'dt median s':>11}  {'forecast wall s':>15}")
        results = []
        for noise_m, noise_rain in ((0.0, 0.0), (args.noise_m, args.noise_rain)):
            label = f"{noise_m:.2f}m/{noise_rain:.0%}"
            rng = random.Random(args.seed)
            live = live_scenario(text, scenario, rating, noise_m, noise_rain, rng)
            case = os.path.join(work, f"live-{noise_m:.2f}-{noise_rain:.2f}")
            os.makedirs(case, exist_ok=True)
            live_yaml = os.path.join(case, "live.yaml")
            with open(live_yaml, "w", encoding="utf-8") as f:
                f.write(live)
            run([args.cadereau, "run", live_yaml, "--territory", territory, "--out", os.path.join(case, "to-0730"),
                 "--no-snapshots", "--save-state-at", "07:30", "--until", "07:31"], os.path.join(case, "live.log"))
            started = time.time()
            run([args.cadereau, "forecast", live_yaml, "--territory", territory, "--state",
                 os.path.join(case, "to-0730", "state"), "--hours", str(HORIZON_S / 3600), "--out",
                 os.path.join(case, "forecast"), "--brief"], os.path.join(case, "forecast.log"))
            wall = time.time() - started
            with open(os.path.join(case, "forecast", "forecast.json")) as f:
                doc = json.load(f)
            predicted = first_times(doc["impacts"], ISSUE_S, ISSUE_S + HORIZON_S)
            rows = score(predicted, happened)
            for group, r in rows.items():
                fmt = lambda x, spec: "-" if x is None else format(x, spec)
                print(f"{label:>12}  {group:>6}  {r['happened']:8d}  {r['predicted']:8d}  {r['hits']:5d}  {r['misses']:6d}  "
                      f"{r['false_alarms']:5d}  {fmt(r['hit_rate'], '8.2f')}  {fmt(r['false_alarm_ratio'], '5.2f')}  "
                      f"{fmt(r['csi'], '5.2f')}  {fmt(r['time_error_median_s'], '11.0f')}  {wall:15.1f}", flush=True)
            results.append({"noise_m": noise_m, "noise_rain": noise_rain, "forecast_wall_s": wall,
                            "forecast_engine_s": doc.get("wall_s"), "scores": rows})
        with open(os.path.join(work, "skill.json"), "w") as f:
            json.dump({"issued": "07:30", "horizon_s": HORIZON_S, "closed_by_hand_left_out": sorted(t for _, t in by_hand),
                       "results": results}, f, indent=1)
        print(f"skill.json in {work}" if args.keep else "")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
