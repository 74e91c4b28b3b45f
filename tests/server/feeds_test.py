#!/usr/bin/env python3
"""Live feeds through a real broker: mosquitto, ChirpStack uplinks, SensorThings.

Starts mosquitto (Debian's) on a free port of 127.0.0.1 with persistence in
a temporary folder, and `cadereau serve --mqtt` subscribed to it; opens a live
session on the demo territory and publishes uplinks with mosquitto_pub at
QoS 1. Checks: an uplink becomes an observation event with its device, value
and digest; a repeated deduplicationId counts once; unknown devices,
malformed payloads, implausible values, times in the future or out of order
are rejected with a reason and the feed goes on; a sensor never heard is
stale; a broker restart loses nothing published with QoS 1 after it comes
back; a SensorThings POST lands, and bad ones are refused; a citizen's report
is placed on the twin (its zone, the nearest street) for the reports cell.

    feeds_test.py --cadereau BUILD/server/cadereau --territory DIR

Each check prints PASS or FAIL; the exit status is the number of failures.
Every wait is bounded; the server and the broker are killed whatever happens.
"""

import argparse
import json
import os
import sys

from live_support import Fail, check, events, feeds, now_iso, open_live_session, run_live_test, uplink, wait_for


def sensor(c, sid, sensor_id):
    return next(s for s in feeds(c, sid)["sensors"] if s["sensor"] == sensor_id)


def t_uplinks(ctx):
    """An uplink becomes an observation; a repeat counts once; bad ones are rejected with a reason."""
    c, b, sid = ctx["c"], ctx["broker"], ctx["sid"]
    gauge = sensor(c, sid, "lg-ales-ville")
    rain = sensor(c, sid, "rg-mas-de-ponge")
    check(gauge["stale"] and gauge["readings"] == 0 and len(gauge["device"]) == 16, f"before any reading: {gauge}")
    dev = gauge["device"]
    first = uplink(dev, {"water_level_m": 0.42})
    b.publish(first, dev)
    obs = wait_for("the observation", lambda: events(c, sid, "observation"))
    o = obs[0]
    check(o["target"] == "lg-ales-ville" and o["device"] == dev and o["value"] == 0.42 and o["by"] == "mqtt"
          and len(o["digest"]) == 64 and "measured" in o and "received" in o, f"the observation: {o}")
    # The same uplink again (a gateway's repeat): counted, not recorded.
    b.publish(first, dev)
    wait_for("the duplicate to be counted", lambda: sensor(c, sid, "lg-ales-ville")["duplicates"] == 1)
    check(len(events(c, sid, "observation")) == 1, "a duplicate was recorded twice")
    g = sensor(c, sid, "lg-ales-ville")
    check(g["readings"] == 1 and g["last_value"] == 0.42 and not g["stale"], f"after one reading: {g}")
    # Bad ones: each rejected with its reason, and the feed goes on.
    b.publish("{not json", dev)
    b.publish(uplink("FFFFFFFFFFFFFFFF", {"water_level_m": 1.0}), "FFFFFFFFFFFFFFFF")
    b.publish(uplink(dev, {"water_level_m": 50.0}), dev)
    b.publish(uplink(dev, {"water_level_m": 0.5}, time_iso=now_iso(3600)), dev)
    b.publish(uplink(dev, {"water_level_m": 0.5}, time_iso=first["time"]), dev)  # not after the first
    b.publish(uplink(dev, {"rain_mm": 2.0}), dev)  # a level gauge does not measure rain
    b.publish(uplink(rain["device"], {"rain_mm": -3.0}), rain["device"])
    b.publish(uplink(dev, {"water_level_m": 0.61}), dev)
    wait_for("the good uplink after the bad ones", lambda: len(events(c, sid, "observation")) == 2)
    rejected = events(c, sid, "observation_rejected")
    reasons = " | ".join(e["reason"] for e in rejected)
    check(len(rejected) == 5, f"rejections: {reasons}")
    for word in ("implausible", "in the future", "not after the last reading", "does not hold"):
        check(word in reasons, f"no rejection saying '{word}': {reasons}")
    check(any(e["target"] == "rg-mas-de-ponge" and "implausible" in e["reason"] for e in rejected), "negative rain")
    server = feeds(c, sid)["server"]
    check(server["malformed"] == 1 and server["unknown_devices"] == 1 and server["duplicates"] == 1,
          f"the server's counters: {server}")
    check(server["broker"]["connected"], f"the broker: {server['broker']}")
    g = sensor(c, sid, "lg-ales-ville")
    check(g["readings"] == 2 and g["last_value"] == 0.61 and sum(g["rejected"].values()) == 4, f"the gauge's health: {g}")
    check(sensor(c, sid, "lg-uzes-ville")["stale"], "a gauge never heard is not stale")


def t_broker_restart(ctx):
    """A broker restart loses nothing published with QoS 1 after it comes back."""
    c, b, sid = ctx["c"], ctx["broker"], ctx["sid"]
    dev = sensor(c, sid, "lg-uzes-ville")["device"]
    before = feeds(c, sid)["server"]["broker"]["connections"]
    b.stop()
    wait_for("the server to see the broker gone", lambda: not feeds(c, sid)["server"]["broker"]["connected"], timeout=30)
    b.start()
    # Published at once, before the server is back: the broker keeps it for the persistent session.
    b.publish(uplink(dev, {"water_level_m": 0.33}), dev)
    wait_for("the server to reconnect", lambda: feeds(c, sid)["server"]["broker"]["connections"] > before, timeout=60)
    wait_for("the uplink published during the outage",
             lambda: any(e["target"] == "lg-uzes-ville" for e in events(c, sid, "observation")), timeout=30)
    b.publish(uplink(dev, {"water_level_m": 0.35}), dev)
    wait_for("an uplink after the restart", lambda: sensor(c, sid, "lg-uzes-ville")["readings"] == 2, timeout=30)


def t_sensorthings(ctx):
    """A SensorThings observation lands; bad ones are refused; only operators push."""
    c, sid = ctx["c"], ctx["sid"]
    datastream = sensor(c, sid, "lg-vistre-est")["datastream"]
    path = f"/v1.1/Datastreams({datastream})/Observations"
    r = c.post("olga", path, {"phenomenonTime": now_iso(), "result": 0.27}, root=True)
    check(r.status_code == 201 and r.json()["sessions"] == 1, f"SensorThings: {r.status_code} {r.text}")
    wait_for("the SensorThings observation", lambda: any(
        e["target"] == "lg-vistre-est" and e["by"] == "sensorthings" for e in events(c, sid, "observation")))
    check(c.post("olga", "/v1.1/Datastreams(9999)/Observations", {"result": 1.0}, root=True).status_code == 404, "unknown")
    check(c.post("olga", path, None, raw="{", root=True).status_code == 400, "a broken body")
    check(c.post("olga", path, {"result": "high"}, root=True).status_code == 400, "a result that is not a number")
    check(c.post("olga", path, {"result": 1.0, "phenomenonTime": "yesterday"}, root=True).status_code == 400, "a bad time")
    check(c.post("eva", path, {"result": 1.0}, root=True).status_code == 403, "an observer pushed a reading")


def t_twin_follows(ctx):
    """A rain gauge's reading becomes the rain over its area; a rated gauge's level, the inflow of its stream;
    a traffic counter's count, the flow on its road."""
    c, b, sid = ctx["c"], ctx["broker"], ctx["sid"]
    with open(os.path.join(ctx["territory"], "sensors.geojson")) as f:
        props = {x["properties"]["id"]: x["properties"] for x in json.load(f)["features"]}
    rating = [tuple(map(float, p.split(":"))) for p in props["lg-ales-amont"]["rating"].split()]
    stage = 1.2
    lower = max(p for p in rating if p[0] <= stage)
    upper = min(p for p in rating if p[0] > stage)
    expected = lower[1] + (upper[1] - lower[1]) * (stage - lower[0]) / (upper[0] - lower[0])
    b.publish(uplink(props["lg-ales-amont"]["dev_eui"], {"water_level_m": stage}), props["lg-ales-amont"]["dev_eui"])
    b.publish(uplink(props["rg-mas-de-ponge"]["dev_eui"], {"rain_mm": 6.0}), props["rg-mas-de-ponge"]["dev_eui"])

    def changed():
        got = {e["target"]: e for e in events(c, sid, "forcing_changed")}
        return got if {"lg-ales-amont", "rg-mas-de-ponge"} <= set(got) else None

    try:
        got = wait_for("the forcing from the feeds", changed, timeout=30)
    except Fail:
        raise Fail("the feeds drove no forcing; events: " +
                   str([(e["kind"], e.get("target"), e.get("detail", e.get("reason"))) for e in events(c, sid) if e["kind"] not in ("observation", "observation_rejected")]))
    check(f"{expected:.0f} m3/s" in got["lg-ales-amont"]["detail"] and got["lg-ales-amont"]["by"] == "mqtt",
          f"the inflow from {stage} m (expected {expected:.1f} m3/s): {got['lg-ales-amont']}")
    check("72 mm/h" in got["rg-mas-de-ponge"]["detail"], f"6 mm in 5 min is 72 mm/h: {got['rg-mas-de-ponge']}")
    staff = {e["target"]: e["detail"] for e in events(c, sid, "feed_forcing")}
    check("rating curve" in staff.get("lg-ales-amont", "") and "72.0 mm/h" in staff.get("rg-mas-de-ponge", ""),
          f"what the feeds drove: {staff}")
    # A rate no rain gauge measures is refused, and changes nothing.
    b.publish(uplink(props["rg-mas-de-ponge"]["dev_eui"], {"rain_mm": 150.0}), props["rg-mas-de-ponge"]["dev_eui"])
    wait_for("the rejection", lambda: any("mm/h, beyond" in e["reason"] for e in events(c, sid, "observation_rejected")))
    # A count drives the calibrator on the counter's road; a flow no road carries is refused.
    counter = props["tc-01"]["dev_eui"]
    b.publish(uplink(counter, {"vehicles": 60, "interval_s": 300}), counter)
    followed = wait_for("the count followed", lambda: [e for e in events(c, sid, "traffic_followed")
                                                      if e["target"] == "tc-01"], timeout=30)
    check("720 veh/h observed (60 vehicles in 300 s)" in followed[0]["detail"] and "followed from" in followed[0]["detail"],
          f"the count: {followed[0]}")
    b.publish(uplink(counter, {"vehicles": 900, "interval_s": 60}), counter)
    wait_for("the count's rejection", lambda: any(e["target"] == "tc-01" and "veh/h, beyond" in e["reason"]
                                                  for e in events(c, sid, "observation_rejected")))


def t_citizen_reports(ctx):
    """A citizen's report is placed on the twin and given to the reports cell; bad ones are refused."""
    c, sid = ctx["c"], ctx["sid"]
    report = {"point": {"type": "Point", "coordinates": [4.3601, 43.8100]}, "category": "stranded_vehicle",
              "text": "A car is stuck in the water, the driver is on the roof", "photo": "mms://+33600000000/1"}
    r = c.post("olga", f"/sessions/{sid}/reports", report)
    check(r.status_code == 201, f"report: {r.status_code} {r.text}")
    placed = r.json()
    check(placed["zone"] and placed["street"] and placed["to"] == ["reports"] and placed["by"] == "operator:olga",
          f"the report placed: {placed}")
    check(any(e["kind"] == "citizen_report" and e["report"] == placed["report"] for e in events(c, sid)), "not journalled")
    outside = dict(report, point={"type": "Point", "coordinates": [4.3601, 43.90]})
    r = c.post("olga", f"/sessions/{sid}/reports", outside)
    check(r.status_code == 400 and "outside the territory" in r.text, f"outside: {r.status_code} {r.text}")
    check(c.post("olga", f"/sessions/{sid}/reports", dict(report, category="ufo")).status_code == 400, "a bad category")
    check(c.post("olga", f"/sessions/{sid}/reports", dict(report, point=[4.36, 43.81])).status_code == 400, "not GeoJSON")
    check(c.post("olga", f"/sessions/{sid}/reports", dict(report, text="")).status_code == 400, "no text")
    check(c.post("eva", f"/sessions/{sid}/reports", report).status_code == 403, "an observer reported")


CHECKS = [t_uplinks, t_broker_restart, t_sensorthings, t_twin_follows, t_citizen_reports]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cadereau", required=True)
    parser.add_argument("--territory", required=True)
    args = parser.parse_args()
    return run_live_test(args.cadereau, {"demo": args.territory}, "cadereau-feeds-", CHECKS,
                         lambda c, broker, tmp, data, prepared: {"c": c, "broker": broker, "sid": open_live_session(c),
                                                                 "territory": args.territory})


if __name__ == "__main__":
    sys.exit(main())
