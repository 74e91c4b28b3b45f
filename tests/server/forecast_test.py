#!/usr/bin/env python3
"""Rolling forecasts of a live session, fed over a real broker.

Starts mosquitto and `cadereau serve --mqtt` (feeds_test.py's helpers), opens
a live session on the demo territory with short forecasts, and checks:
the first forecast comes at once and goes on the stream; a gauge that jumps
asks for the next one at once, with the reason; its impacts carry their
chains back to the reading; it says what changed from the previous one; a
reading past a procedure's threshold raises an alert with a CAP draft the
server takes, and proposes the procedure; an operator may ask for a forecast
now (an observer may not); once its horizon has passed on the live clock a
forecast is scored and the scores are recorded; bad settings are refused
with the field named; the feed layer is on the stream.

    forecast_test.py --cadereau BUILD/server/cadereau --territory DIR

Each check prints PASS or FAIL; the exit status is the number of failures.
Every wait is bounded; the server and the broker are killed whatever happens.
"""

import argparse
import asyncio
import json
import sys
import time

import websockets

from live_support import check, events, feeds, open_live_session, run_live_test, uplink, wait_for


def forecasts(c, sid):
    r = c.get("olga", f"/sessions/{sid}/forecasts")
    check(r.status_code == 200, f"forecasts: {r.status_code} {r.text}")
    return r.json()["forecasts"]


def done(c, sid, number, timeout=240):
    def finished():
        f = [x for x in forecasts(c, sid) if x["number"] == number]
        return f[0] if f and f[0]["state"] != "running" else None
    f = wait_for(f"forecast {number}", finished, timeout=timeout, every=1)
    check(f["state"] == "done", f"forecast {number}: {f}")
    return f


async def read_stream(c, sid, until, timeout=60):
    got = []
    url = c.server.url.replace("http://", "ws://") + f"/sessions/{sid}/stream?after=0"
    async with websockets.connect(url, extra_headers=c.headers("olga"), open_timeout=20, max_size=2**24,
                                  max_queue=None) as ws:
        deadline = time.time() + timeout
        while not until(got):
            remaining = deadline - time.time()
            check(remaining > 0, f"stream: timed out with {len(got)} messages ({sorted({m['type'] for m in got})})")
            got.append(json.loads(await asyncio.wait_for(ws.recv(), remaining)))
    return got


def t_first_forecast(ctx):
    """The first forecast comes at once, on the stream too; the feed layer is there."""
    c, sid = ctx["c"], ctx["sid"]
    first = done(c, sid, 1)
    check(first["reason"] == "every 60 min" and first["changes"] is None and first["horizon_s"] > 170, f"the first: {first}")
    check("persistence" in first["assumption"], f"the assumption is not said: {first}")
    got = asyncio.run(read_stream(c, sid, lambda m: {"forecast", "feed"} <= {x["type"] for x in m}))
    f = next(m for m in got if m["type"] == "forecast")
    check(f["number"] >= 1 and "impacts" in f and "gauges" in f and f["issued_at"].endswith("Z"), f"the stream's forecast: {f}")
    layer = next(m for m in got if m["type"] == "feed")
    check(len(layer["sensors"]) > 10 and "stale" in layer, f"the feed layer: {str(layer)[:300]}")
    r = c.get("olga", f"/sessions/{sid}/forecast")
    check(r.status_code == 200 and r.json()["number"] == 1 and "verification" in r.json(), f"GET forecast: {r.text[:300]}")


def t_jump_and_chains(ctx):
    """A gauge that jumps asks for a forecast at once; its impacts chain back to the reading; changes are said."""
    c, b, sid = ctx["c"], ctx["broker"], ctx["sid"]
    dev = ctx["devices"]["lg-ales-amont"]
    b.publish(uplink(dev, {"water_level_m": 2.5}), dev)
    second = done(c, sid, 2)
    check(second["reason"].startswith("lg-ales-amont rose 2.50 m since the last forecast"), f"the reason: {second['reason']}")
    r = c.get("olga", f"/sessions/{sid}/forecast")
    latest = r.json()
    check(latest["number"] == 2 and latest["figures"]["roads_closed"] > 0, f"the forecast: {str(latest)[:400]}")
    impacts = latest["impacts"]
    check(all(i["t_s"] > latest["issued_s"] for i in impacts), "an impact before the forecast's issue")
    roads = [i for i in impacts if i["kind"] == "road_closed"]
    check(roads and all(any(x["kind"] == "forcing_changed" and x["target"] == "lg-ales-amont" for x in i["chain"])
                        for i in roads), f"a closure without its chain to the reading: {roads[:1]}")
    check(all(4.2 < i["lon"] < 4.5 and 43.7 < i["lat"] < 43.9 for i in impacts), "impacts not placed in WGS84")
    changes = latest["changes"]
    check(len(changes["new"]) == len({(i["kind"], i["target"]) for i in impacts}) and "new road closure" in changes["summary"],
          f"the changes: {changes['summary']}")
    check(any(g["id"] == "lg-ales-amont" and len(g["t_s"]) == len(g["depth_m"]) > 2 for g in latest["gauges"]),
          "the gauge levels are not in the forecast")
    ev = [e for e in events(c, sid, "forecast") if e["forecast"] == 2]
    check(ev and "new road closure" in ev[0]["detail"], f"the forecast event: {ev}")


def t_threshold_alert(ctx):
    """A reading past a procedure's threshold: an alert with a CAP draft the server takes, and the procedure proposed."""
    c, sid = ctx["c"], ctx["sid"]
    alerts = wait_for("the threshold alert", lambda: [e for e in events(c, sid, "threshold_alert")
                                                      if e["target"] == "lg-ales-amont" and e["basis"] == "observed"])
    a = alerts[0]
    check(a["above_m"] == 0.5 and a["value_m"] == 2.5 and "cadereau-rising" in a["procedures"], f"the alert: {a}")
    proposed = [e for e in events(c, sid, "procedure_proposed") if e["procedure"] == "cadereau-rising"]
    check(proposed and proposed[0]["reason"].startswith("reading at"), f"the procedure: {proposed}")
    r = c.post("olga", f"/sessions/{sid}/alerts", a["cap_draft"])
    check(r.status_code == 201 and r.json()["state"] == "awaiting_approval", f"the CAP draft sent: {r.status_code} {r.text}")
    check(r.json()["reach"]["people"] >= 0, f"no reach: {r.text}")
    # Still high: no second alert. Down well below, then up again: the new rise alerts.
    dev, b = ctx["devices"]["lg-ales-amont"], ctx["broker"]
    for level in (2.4, 0.1, 2.5):
        b.publish(uplink(dev, {"water_level_m": level}), dev)
        wait_for(f"the reading {level}", lambda: any(e["target"] == "lg-ales-amont" and e["value"] == level
                                                     for e in events(c, sid, "observation")))
    observed = [e for e in events(c, sid, "threshold_alert") if e["target"] == "lg-ales-amont" and e["basis"] == "observed"]
    check(len(observed) == 2 and observed[1]["value_m"] == 2.5, f"the alerts after a fall and a rise: {observed}")


def t_asked_and_scored(ctx):
    """An operator asks for a forecast now; once its time has passed it is scored and the scores are recorded."""
    c, sid = ctx["c"], ctx["sid"]
    check(c.post("eva", f"/sessions/{sid}/forecast", {}).status_code == 403, "an observer asked for a forecast")
    for bad in ({"horizon_min": 0}, {"horizon_min": "soon"}, {"horizon_min": 10000}):
        r = c.post("olga", f"/sessions/{sid}/forecast", bad)
        check(r.status_code == 400 and "horizon_min" in r.text, f"{bad}: {r.status_code} {r.text}")
    wait_for("no forecast running", lambda: all(f["state"] != "running" for f in forecasts(c, sid)), timeout=240, every=1)
    r = c.post("olga", f"/sessions/{sid}/forecast", {"horizon_min": 1})
    check(r.status_code == 202, f"asked: {r.status_code} {r.text}")
    number = r.json()["number"]
    again = c.post("olga", f"/sessions/{sid}/forecast", {})
    check(again.status_code == 202 and again.json()["number"] == number, f"asked twice: {again.text}")
    f = done(c, sid, number)
    check(f["by"] == "operator:olga" and f["reason"] == "asked by operator:olga", f"who asked: {f}")
    scored = wait_for("the scores", lambda: [e for e in events(c, sid, "forecast_verified") if e["forecast"] == number],
                      timeout=150, every=2)
    s = scored[0]
    # The twin ran on the same readings it was forecast with: every closure predicted happened, at its time.
    check(all(s[g]["misses"] == 0 and s[g]["false_alarms"] == 0 for g in ("roads", "assets", "zones"))
          and sum(s[g]["hits"] for g in ("roads", "assets", "zones")) > 0, f"the scores: {s}")
    final = [x for x in forecasts(c, sid) if x["number"] == number][0]
    check(final["verification"]["final"] and "hit_rate" in final["verification"]["roads"], f"the recorded scores: {final}")


def t_bad_settings(ctx):
    """Bad forecast settings are refused with the field named."""
    c = ctx["c"]
    r = c.post("olga", "/sessions", {"mode": "live", "territory": "demo", "forecast": {"every_min": 0.5}})
    check(r.status_code == 400 and "forecast.every_min" in r.text, f"every_min 0.5: {r.status_code} {r.text}")
    r = c.post("olga", "/sessions", {"mode": "live", "territory": "demo", "forecast": {"every": 5}})
    check(r.status_code == 400 and "'every' is not a forecast setting" in r.text, f"an unknown setting: {r.text}")


CHECKS = [t_first_forecast, t_jump_and_chains, t_threshold_alert, t_asked_and_scored, t_bad_settings]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cadereau", required=True)
    parser.add_argument("--territory", required=True)
    args = parser.parse_args()

    def context(c, broker, tmp, data, prepared):
        sid = open_live_session(c, forecast={"every_min": 60, "horizon_min": 3, "jump_m": 0.3})
        check(c.get("olga", f"/sessions/{sid}").json()["forecast"]["horizon_min"] == 3, "the session's forecast settings")
        return {"c": c, "broker": broker, "sid": sid, "devices": {s["sensor"]: s["device"] for s in feeds(c, sid)["sensors"]}}

    return run_live_test(args.cadereau, {"demo": args.territory}, "cadereau-forecast-", CHECKS, context)


if __name__ == "__main__":
    sys.exit(main())
