#!/usr/bin/env python3
"""The operators' console, driven by a real browser (headless Chromium through
Selenium) against a real `cadereau serve` over TLS on 127.0.0.1.

First the console's own endpoints through the API (the map's layers in WGS84
checked against PROJ's cs2cs, the relief and water pictures placed where the
records say the water is, refusals), then the people: a director who logs in
with the keyboard, creates an exercise and runs its clock at x60; a police
player who reads and acknowledges an inject and closes a road by clicking it on
the map; the crisis cell drawing a CAP alert's area on the map, seeing whom it
reaches and sending it; the timeline opening a record's chain; a replay's
slider; French and English. Screens are saved into --screens for a look.
"""

import argparse
import io
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from PIL import Image
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import api_test  # noqa: E402
from api_test import Client, Fail, Server, add_users, check, make_certificate, print_log_tail, run_checks, wait_for  # noqa: E402

PASSWORD = "a long enough passphrase"
USERS = {"anne": ("director", None), "bob": ("player", "police"), "cora": ("player", "crisis"), "eva": ("observer", None),
         "olga": ("operator", None), "tom": ("player", "traffic")}


def tid(name):
    return f'[data-testid="{name}"]'


class Browser:
    """One person's browser."""

    def __init__(self, url, screens, who):
        options = webdriver.ChromeOptions()
        for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1600,1000",
                    "--lang=fr-FR", "--no-proxy-server", "--disable-extensions", "--disable-background-networking"):
            options.add_argument(arg)
        options.binary_location = "/usr/bin/chromium"
        options.accept_insecure_certs = True  # the test's own self-signed certificate
        options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
        self.d = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
        self.d.set_page_load_timeout(60)
        self.d.set_script_timeout(30)
        self.url, self.screens, self.who = url, screens, who

    def find(self, css, timeout=20, displayed=True):
        return wait_for(f"{self.who}: {css}", lambda: next(iter(
            [e for e in self.d.find_elements(By.CSS_SELECTOR, css) if not displayed or e.is_displayed()]), None), timeout=timeout)

    def all(self, css):
        return self.d.find_elements(By.CSS_SELECTOR, css)

    def js(self, script, *args):
        return self.d.execute_script(script, *args)

    def shot(self, name):
        if self.screens:
            os.makedirs(self.screens, exist_ok=True)
            self.d.save_screenshot(os.path.join(self.screens, f"{name}.png"))

    def login(self, user, password=PASSWORD):
        self.d.get(self.url + "/")
        wait_for("the login field to have the focus", lambda: self.js(
            "return document.activeElement && document.activeElement.dataset.testid === 'login-user'") or None)
        # With the keyboard only: the user field has the focus, Tab to the password, Enter to log in.
        ActionChains(self.d).send_keys(user).send_keys(Keys.TAB).send_keys(password).send_keys(Keys.ENTER).perform()

    def errors(self):
        """What the page logged as errors (scripts failing, the content policy refusing something)."""
        self.logged = getattr(self, "logged", []) + [e["message"] for e in self.d.get_log("browser") if e["level"] == "SEVERE"
                                                     and "water.png" not in e["message"]  # no frame yet: a 404 the map expects
                                                     and "/traffic - " not in e["message"]  # nor traffic reading
                                                     and "/api/v1/login - " not in e["message"]]  # a wrong password: a 401
        return self.logged

    def pending(self):
        """The page's requests still unanswered (from Chromium's network log), for a failure's diagnosis."""
        sent, ended, answered = {}, set(), {}
        for entry in self.d.get_log("performance"):
            m = json.loads(entry["message"])["message"]
            p = m.get("params", {})
            if m["method"] == "Network.requestWillBeSent":
                sent[p["requestId"]] = (f'{p["request"]["method"]} {p["request"]["url"].split("/api/v1")[-1][:80]} '
                                        f'at {time.strftime("%H:%M:%S", time.localtime(entry["timestamp"] / 1000))}')
            elif m["method"] == "Network.responseReceived":
                answered[p["requestId"]] = f'{p["response"]["status"]} {p["response"].get("headers", {}).get("Content-Length", "")}'
            elif m["method"] in ("Network.loadingFinished", "Network.loadingFailed", "Network.webSocketClosed"):
                ended.add(p["requestId"])
        self.sent = {**getattr(self, "sent", {}), **sent}
        self.answered = {**getattr(self, "answered", {}), **answered}
        self.ended = getattr(self, "ended", set()) | ended
        return [f"{what} ({self.answered.get(rid, 'no answer')})" for rid, what in self.sent.items() if rid not in self.ended]

    def quit(self):
        try:
            self.d.quit()
        except Exception:  # already gone
            pass


def to_wgs84(points):
    """Lambert-93 to WGS84 by PROJ's own command line."""
    text = "\n".join(f"{x} {y}" for x, y in points) + "\n"
    out = subprocess.run(["cs2cs", "-f", "%.8f", "EPSG:2154", "EPSG:4326"], input=text, text=True, capture_output=True,
                         check=True).stdout
    result = []
    for line in out.splitlines():
        lat, lon = line.split()[:2]  # EPSG:4326 is latitude first
        result.append((float(lon), float(lat)))
    return result


def mercator_y(lat):
    return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))


def pixel_of(lon, lat, bounds, width, height):
    (south, west), (north, east) = bounds
    x = (lon - west) / (east - west) * width
    y = (mercator_y(north) - mercator_y(lat)) / (mercator_y(north) - mercator_y(south)) * height
    return int(x), int(y)


# ---------------------------------------------------------------- the checks

def drawn_on_screen(b, layer):
    """Pixels of the map on screen that change when one of its layers (a TwinMap member) is hidden: what it shows."""
    element = b.find(tid("map"))
    shown = Image.open(io.BytesIO(element.screenshot_as_png)).convert("RGB")
    b.js("const m = app.session.map; m.map.removeLayer(m[arguments[0]]);", layer)
    time.sleep(0.5)
    hidden = Image.open(io.BytesIO(element.screenshot_as_png)).convert("RGB")
    b.js("const m = app.session.map; m[arguments[0]].addTo(m.map);", layer)
    return sum(1 for a, h in zip(shown.getdata(), hidden.getdata()) if sum(abs(x - y) for x, y in zip(a, h)) > 30)


def t_map_api(ctx):
    """The console's endpoints: layers in WGS84, relief, water, refusals."""
    c, territory = ctx["c"], ctx["territory"]
    c.login("anne")
    r = c.post("anne", "/sessions", {"mode": "exercise", "scenario": "flash-flood-1988", "name": "Map check"})
    check(r.status_code == 201, f"create: {r.status_code} {r.text}")
    sid = ctx["api_session"] = r.json()["id"]
    check(c.get(None, f"/sessions/{sid}/map").status_code == 401, "the map without credentials")
    r = c.get("anne", f"/sessions/{sid}/map")
    check(r.status_code == 200, f"map: {r.status_code} {r.text[:200]}")
    doc = ctx["map"] = r.json()
    (south, west), (north, east) = doc["bounds"]
    check(43.7 < south < north < 43.9 and 4.2 < west < east < 4.5, f"bounds not around Nîmes: {doc['bounds']}")
    check(len(doc["roads"]["features"]) > 1000 and len(doc["buildings"]["features"]) > 1000 and doc["assets"]["features"]
          and doc["sensors"]["features"] and doc["zones"]["features"] and doc["lights"]["features"],
          f"layers: { {k: len(v['features']) for k, v in doc.items() if isinstance(v, dict) and 'features' in v} }")
    check(doc["crs"] == "EPSG:2154" and doc["depth_ramp"][0]["m"] == doc["shown_depth_m"], f"{doc['crs']} {doc['depth_ramp']}")
    # Every sensor where the territory's own file (RFC 7946, WGS84) has it, to 2e-6 degree (0.2 m): the map
    # reprojects the twin's Lambert-93 back.
    with open(os.path.join(territory, "sensors.geojson")) as f:
        expected = {s["properties"]["id"]: s["geometry"]["coordinates"][:2] for s in json.load(f)["features"]}
    check(len(expected) == len(doc["sensors"]["features"]), "not every sensor is on the map")
    for s in doc["sensors"]["features"]:
        lon, lat = s["geometry"]["coordinates"]
        e_lon, e_lat = expected[s["properties"]["id"]]
        check(abs(lon - e_lon) < 2e-6 and abs(lat - e_lat) < 2e-6, f"sensor {s['properties']['id']} at {lon},{lat}, PROJ: {e_lon},{e_lat}")
    both_ways = [f for f in doc["roads"]["features"] if f["properties"].get("reverse")]
    check(both_ways and all(f["properties"]["id"] != f["properties"]["reverse"] for f in both_ways), "streets both ways")
    r = c.get("anne", f"/sessions/{sid}/map/relief.png")
    check(r.status_code == 200 and r.headers["Content-Type"] == "image/png", f"relief: {r.status_code}")
    relief = Image.open(io.BytesIO(r.content)).convert("RGBA")
    w, h = relief.size
    # The Lambert-93 box is turned by the meridian convergence (about 1 degree at Nîmes) in longitude and latitude:
    # a corner of the picture lies outside it and stays transparent, the middle is ground.
    check(relief.getpixel((w // 2, h // 2))[3] == 255, "the relief has no ground in its middle")
    check(relief.getpixel((0, 0))[3] == 0 or relief.getpixel((w - 1, 0))[3] == 0, "no corner is off the territory")
    wait_for("the engine", lambda: c.get("anne", f"/sessions/{sid}").json()["worker"]["state"] == "ready" or None, timeout=120)
    # Before the clock starts: the engine's first frame, dry (nothing drawn), or none yet.
    r = c.get("anne", f"/sessions/{sid}/water.png")
    check(r.status_code == 404 and "no water frame" in r.json()["error"]["message"] or r.status_code == 200
          and r.headers["X-Frame-Time-S"] == "0" and Image.open(io.BytesIO(r.content)).convert("RGBA").getextrema()[3] == (0, 0),
          f"water before the clock starts: {r.status_code} {r.headers}")
    r = c.get("anne", f"/sessions/{sid}/water.png", params={"t": "-5"})
    check(r.status_code == 400 and "'-5'" in r.json()["error"]["message"], f"t=-5: {r.status_code} {r.text}")
    r = c.get("anne", f"/sessions/{sid}/water.png", params={"t": "nan"})
    check(r.status_code == 400, f"t=nan: {r.status_code}")
    check(c.get("anne", "/sessions/nope/map").status_code == 404, "the map of no session")
    r = c.http().get(c.server.url + "/")
    check(r.status_code == 200 and "default-src 'self'" in r.headers.get("Content-Security-Policy", "")
          and 'data-testid="login-user"' in r.text, f"the console page: {r.status_code} {r.headers}")
    check(c.http().get(c.server.url + "/vendor/leaflet/leaflet.js").status_code == 200, "Leaflet is served")
    check(c.http().get(c.server.url + "/../etc/passwd").status_code == 404, "a path outside the console")
    # The water lands where the records say it is: run to the first flooded asset, then look at its pixel.
    check(c.post("anne", f"/sessions/{sid}/clock", {"command": "start", "speed": 60}).status_code == 200, "start")

    def flooded():
        from api_test import events
        hits = [e for e in events(c, "anne", sid) if e["kind"] == "water" and "lon" in e
                and any(a["properties"]["id"] == e["target"] for a in doc["assets"]["features"])]
        return hits or None

    hits = wait_for("an asset in the water", flooded, timeout=400, every=3)
    record = hits[0]
    (lon, lat), = to_wgs84([(record["x_m"], record["y_m"])])
    check(abs(lon - record["lon"]) < 2e-6 and abs(lat - record["lat"]) < 2e-6,
          f"record at {record['lon']},{record['lat']}, PROJ: {lon},{lat}")
    r = wait_for("a water frame after it", lambda: (lambda r: r if r.status_code == 200 and float(
        r.headers["X-Frame-Time-S"]) >= record["t_s"] else None)(c.get("anne", f"/sessions/{sid}/water.png")), timeout=120)
    check(c.post("anne", f"/sessions/{sid}/clock", {"command": "pause"}).status_code == 200, "pause")
    water = Image.open(io.BytesIO(r.content)).convert("RGBA")
    x, y = pixel_of(record["lon"], record["lat"], doc["bounds"], *water.size)
    around = [water.getpixel((x + dx, y + dy))[3] for dx in (-1, 0, 1) for dy in (-1, 0, 1)]
    check(max(around) > 0, f"no water drawn at {record['target']} ({record['detail']}), pixel {x},{y} of {water.size}")
    far = [water.getpixel((px, py))[3] for px, py in ((2, 2), (water.size[0] - 3, 2))]
    check(max(far) == 0, "water drawn off the territory")
    print(f"      water at {record['target']} ({record['detail']}) drawn at pixel {x},{y}", flush=True)
    # The traffic each simulated minute: every edge with vehicles on it, its level from its speed over the limit.
    session = c.get("anne", f"/sessions/{sid}").json()
    r = c.get("anne", f"/sessions/{sid}/traffic")
    check(r.status_code == 200, f"traffic: {r.status_code} {r.text[:200]}")
    traffic = r.json()
    now = session["clock"]["sim_time_s"]
    check(now - 60 <= traffic["t_s"] <= now, f"the latest traffic reading at {traffic['t_s']} s, the clock at {now} s")
    roads = {f["properties"]["id"] for f in doc["roads"]["features"]}

    def level_of(n, ratio):
        return 0 if ratio >= 0.7 else 1 if ratio >= 0.4 else 2 if ratio >= 0.15 else 3

    levels = [0, 0, 0, 0]
    for edge, (n, ratio, level) in traffic["edges"].items():
        check(edge in roads and n >= 1 and 0 <= ratio <= 1 and level == level_of(n, ratio), f"traffic on {edge}: {n, ratio, level}")
        levels[level] += 1
    check(traffic["vehicles"] == sum(v[0] for v in traffic["edges"].values()), "the traffic's total is not its edges' sum")
    check(traffic["edges_by_level"] == dict(zip(("free", "dense", "slow", "jammed"), levels)), f"levels: {traffic['edges_by_level']}")
    check(len(traffic["edges"]) > 50 and levels[1] + levels[2] + levels[3] > 0, f"a morning with {len(traffic['edges'])} busy edges, levels {levels}")
    check(traffic["vehicles"] <= session["kpis"]["vehicles_running"], f"{traffic['vehicles']} vehicles on edges, "
          f"{session['kpis']['vehicles_running']} running")
    r = c.get("anne", f"/sessions/{sid}/traffic", params={"t": "90"})
    check(r.status_code == 200 and r.json()["t_s"] == 60, f"the traffic at or before 90 s: {r.status_code} {r.text[:100]}")
    check(c.get("anne", f"/sessions/{sid}/traffic/x").status_code == 404, "traffic/x is not 404")
    r = c.get("anne", f"/sessions/{sid}/traffic", params={"t": "-1"})
    check(r.status_code == 400 and "'-1'" in r.json()["error"]["message"], f"traffic at t=-1: {r.status_code} {r.text}")
    print(f"      traffic at {traffic['t_s']:.0f} s: {traffic['vehicles']} vehicles on {len(traffic['edges'])} edges, "
          f"levels {levels}", flush=True)
    r = c.post("anne", f"/sessions/{sid}/clock", {"command": "stop"})
    check(r.status_code == 200, "stop")


def t_director(ctx):
    """The director logs in with the keyboard, creates an exercise, starts the clock at x60."""
    b = ctx["anne"] = Browser(ctx["server"].url, ctx["screens"], "anne")
    b.login("anne", "not the password")
    error = b.find("#login-error")
    wait_for("the refusal", lambda: error.text.strip() or None)
    check("Identifiant ou mot de passe" in error.text, f"the wrong password says: {error.text!r}")
    b.login("anne")
    b.find(tid("session-list"))
    b.shot("01-sessions")
    b.find(tid("new-session")).click()
    wait_for("the new session's screen", lambda: "#/s/" in b.d.current_url or None)
    ctx["sid"] = b.d.current_url.split("#/s/")[1]
    b.find(tid("map"))
    wait_for("the map's assets", lambda: len(b.all(".asset-icon")) > 10 or None, timeout=60)
    check(b.all(".leaflet-control-scale") and b.all(tid("legend")), "no scale or legend")
    relief = wait_for("the relief", lambda: b.js(
        "const i = document.querySelector('img.leaflet-image-layer'); return i && i.complete && i.naturalWidth"), timeout=30)
    check(relief >= 1000, f"relief {relief} px wide")
    wait_for("the engine", lambda: ctx["c"].get("anne", f"/sessions/{ctx['sid']}").json()["worker"]["state"] == "ready" or None,
             timeout=120)
    b.find(tid("clock-start")).click()
    wait_for("the clock running", lambda: b.find(tid("clock")).get_attribute("data-state") == "running" or None)
    t0 = float(b.find(tid("clock")).get_attribute("data-sim-time"))
    wait_for("sim time moving at x60", lambda: float(b.find(tid("clock")).get_attribute("data-sim-time")) > t0 + 120 or None,
             timeout=60)
    wait_for("records on the timeline", lambda: len(b.all(tid("timeline-item"))) > 3 or None, timeout=60)
    # The traffic's halo under the busy streets: drawn on its own canvas, read back in pixels.
    wait_for("congested streets drawn", lambda: int(b.find(tid("map")).get_attribute("data-traffic-drawn") or 0) > 0 or None,
             timeout=60)
    purple = drawn_on_screen(b, "trafficLayer")
    check(purple > 200, f"the traffic's halo changes {purple} pixels of the map on screen")
    print(f"      traffic: {b.find(tid('map')).get_attribute('data-traffic-drawn')} busy streets drawn, {purple} pixels", flush=True)
    b.js("""const m = app.session.map;
      let worst = null;
      for (const [id, layer] of m.roadLayers) if (!worst || m.trafficLevelOf(id) > m.trafficLevelOf(worst)) worst = id;
      m.map.setView(m.roadLayers.get(worst).getBounds().getCenter(), 16, { animate: false });""")
    time.sleep(1)
    b.shot("02a-director-traffic")
    b.js("const m = app.session.map; m.map.fitBounds(m.bounds, { animate: false });")
    # Slower for the players to come: the flagship's two hours would be over in two minutes at x60.
    from selenium.webdriver.support.ui import Select
    Select(b.find(tid("clock-speed"))).select_by_visible_text("5")
    wait_for("the clock at x5", lambda: "x5" == b.find("#clock-speed").text.strip() or None)
    b.find(tid("tab-injects")).click()
    wait_for("the MSEL", lambda: len(b.all(tid("msel-row"))) >= 20 or None)
    # Inject 6 (a police patrol's radio call, 07:25) fired now by the director.
    b.find(f'{tid("msel-row")}[data-inject="6"] {tid("inject-fire")}').click()
    wait_for("inject 6 delivered", lambda: b.all(f'{tid("msel-row")}[data-inject="6"][data-state="delivered"]') or None, timeout=30)
    b.shot("02-director-msel")


def t_player_inbox_and_road(ctx):
    """A police player acknowledges an inject and closes a road by clicking it on the map."""
    b = ctx["bob"] = Browser(ctx["server"].url, ctx["screens"], "bob")
    b.login("bob")
    b.find(tid("session-item"))
    b.find(f'{tid("session-item")}[data-id="{ctx["sid"]}"] a').click()
    b.find(tid("map"))
    wait_for("the map's roads", lambda: b.js("return app.session && app.session.map && app.session.map.roadLayers.size") or None,
             timeout=60)
    b.find(tid("tab-injects")).click()
    b.find(tid("inject-inbox"), timeout=30, displayed=False)
    item = wait_for("an inject for the police", lambda: next(iter(b.all(f'{tid("inject-item")}.new')), None), timeout=60, every=1)
    number = item.get_attribute("data-inject")
    check(number == "6", f"the police's inbox shows inject {number} first, not the one the director fired")
    # The inbox may be drawn again as other injects come: what is typed stays.
    b.find(f'{tid("inject-item")}[data-inject="6"] {tid("inject-comment")}').send_keys("Patrouille envoyée")
    b.js("app.session.panels.renderInjects()")
    time.sleep(0.5)
    typed = b.find(f'{tid("inject-item")}[data-inject="6"] {tid("inject-comment")}').get_attribute("value")
    check(typed == "Patrouille envoyée", f"the comment typed was lost when the inbox was drawn again: {typed!r}")
    b.find(f'{tid("inject-item")}[data-inject="6"] {tid("inject-ack")}').click()
    wait_for("the inject acknowledged", lambda: b.all(f'{tid("inject-item")}.acked[data-inject="{number}"]') or None)
    check(b.all(tid("inject-inbox")), "the inbox went away")
    # A main street with both directions near the middle of the town: zoom on it, click its middle on the canvas.
    road = b.js("""
      const m = app.session.map, centre = m.bounds.getCenter();
      let best = null, bestDistance = Infinity;
      for (const [id, layer] of m.roadLayers) {
        const p = layer.feature.properties;
        if (!p.main || !p.reverse || m.roadStateOf(id) !== 'open' || layer.getLatLngs().length !== 2) continue;
        const d = layer.getBounds().getCenter().distanceTo(centre);
        if (d < bestDistance) { best = id; bestDistance = d; }
      }
      if (best) m.map.setView(m.roadLayers.get(best).getBounds().getCenter(), 17, { animate: false });
      return best;""")
    check(road, "no street to click on the map")
    time.sleep(1)
    x, y = b.js("""const m = app.session.map, c = m.map.latLngToContainerPoint(m.roadLayers.get(arguments[0]).getBounds().getCenter());
                   return [c.x, c.y];""", road)
    map_el = b.find(tid("map"))
    size = map_el.size
    ActionChains(b.d).move_to_element_with_offset(map_el, x - size["width"] / 2, y - size["height"] / 2).click().perform()
    popup = b.find(tid("road-popup"))
    check(popup.find_elements(By.CSS_SELECTOR, tid("road-traffic")), "the road's popup says nothing of its traffic")
    clicked = b.js("return document.querySelector('[data-testid=road-popup] .muted').textContent.split(' ')[0]")
    b.shot("03-player-road-popup")
    popup.find_element(By.CSS_SELECTOR, tid("action-close-road")).click()
    c = ctx["c"]
    c.login("bob")
    r = c.get("bob", f"/sessions/{ctx['sid']}/injects")
    acked = [i for i in r.json() if i["id"] == "6"]
    check(acked and acked[0]["response"] == "Patrouille envoyée", f"the acknowledgement: {acked}")

    def closed():
        from api_test import events
        ev = events(c, "bob", ctx["sid"])
        act = [e for e in ev if e["kind"] == "action" and e["target"] == clicked and e.get("by") == "player:bob"]
        shut = [e for e in ev if e["kind"] == "road_closed" and e["target"] == clicked]
        return (act, shut) if act and shut else None

    act, shut = wait_for(f"road {clicked} closed by bob", closed, timeout=60)
    check(shut[0]["causes"] and act[0]["record"] in shut[0]["causes"], f"the closure does not answer to the action: {shut[0]}")
    wait_for("the road drawn closed", lambda: b.js("return app.session.map.roadStateOf(arguments[0])", clicked) == "closed" or None)
    ctx["closed_road"] = clicked
    print(f"      bob acknowledged inject {number} and closed {clicked} on the map", flush=True)
    errors = b.errors()
    check(not errors, f"bob's page logged errors: {errors}")


def t_chain_from_timeline(ctx):
    """The director opens the closure from the timeline: its chain names bob's action; the map goes to it."""
    b = ctx["anne"]
    b.find(tid("tab-timeline")).click()
    item = wait_for("the closure on the timeline", lambda: next(iter(
        [i for i in b.all(f'{tid("timeline-item")}[data-kind="road_closed"]') if ctx["closed_road"] in i.text]), None), timeout=30)
    item.click()
    chain = b.find(tid("chain"))
    check("action" in chain.text.lower() and "player:bob" in b.find("#detail").text, f"the chain: {chain.text!r}")
    check(b.js("return app.session.map.highlight.getLayers().length") > 0, "the map does not show the record")
    b.shot("04-director-chain")
    b.find("#detail .close").click()


def t_alert_workbench(ctx):
    """The crisis cell draws the alert's area on the map, sees whom it reaches, and sends it."""
    b = ctx["cora"] = Browser(ctx["server"].url, ctx["screens"], "cora")
    b.login("cora")
    b.find(f'{tid("session-item")}[data-id="{ctx["sid"]}"] a').click()
    b.find(tid("map"))
    wait_for("the map", lambda: b.js("return app.session && app.session.map && app.session.map.roadLayers.size") or None, timeout=60)
    b.find(tid("tab-alert")).click()
    b.find(tid("alert-workbench"))
    b.find(tid("cap-headline")).send_keys("Crue du cadereau d'Alès : quittez les rez-de-chaussée")
    b.find(tid("cap-area")).send_keys("Bas du cadereau d'Alès")
    b.find(tid("cap-draw")).click()
    map_el = b.find(tid("map"))
    w, h = map_el.size["width"], map_el.size["height"]
    for fx, fy in ((-0.25, -0.2), (0.15, -0.2), (0.15, 0.25), (-0.25, 0.25)):
        ActionChains(b.d).move_to_element_with_offset(map_el, fx * w, fy * h).click().perform()
    b.find(tid("cap-finish")).click()
    reach = wait_for("the reach", lambda: b.find(tid("cap-reach")).get_attribute("data-people"), timeout=30)
    check(float(reach) > 0, f"an area over a quarter of the town reaches {reach} people")
    b.shot("05-crisis-alert")
    b.find(tid("cap-send")).click()
    wait_for("the alert listed", lambda: next(iter([i for i in b.all(tid("alert-item")) if "quittez" in i.text]), None), timeout=30)
    c = ctx["c"]
    c.login("cora")
    from api_test import events
    sent = [e for e in events(c, "cora", ctx["sid"]) if e["kind"] == "alert_sent"]
    check(len(sent) == 1 and sent[0]["status"] == "Exercise" and abs(sent[0]["reach"]["people"] - float(reach)) < 1e-6 * max(1, float(reach)) + 1,
          f"the alert sent: {sent} (previewed {reach})")
    cap = c.get("cora", f"/sessions/{ctx['sid']}/alerts/{sent[0]['alert']}.cap")
    check(cap.status_code == 200 and "<polygon>" in cap.text and "Exercise" in cap.text, f"CAP: {cap.status_code}")
    r = c.post("cora", f"/sessions/{ctx['sid']}/alerts/reach", {"event": "x", "headline": "x", "severity": "Severe",
               "urgency": "Immediate", "certainty": "Observed", "area": {"description": "a line", "polygon": [[4.35, 43.8], [4.36, 43.8], [4.37, 43.8]]}})
    check(r.status_code == 400 and "no area" in r.json()["error"]["message"], f"a flat area: {r.status_code} {r.text}")
    r = c.post("bob", f"/sessions/{ctx['sid']}/alerts/reach", {})
    check(r.status_code == 403, f"police previews an alert: {r.status_code}")
    print(f"      the drawn area reaches {float(reach):.0f} people; sent as CAP {sent[0]['alert']}", flush=True)
    # A unit sent from the actions panel: the engine takes it and answers for it.
    b.find(tid("tab-actions")).click()
    from selenium.webdriver.support.ui import Select
    Select(b.find(tid("unit-from"))).select_by_value("sdis-nord")
    Select(b.find(tid("unit-to"))).select_by_value("hosp-chu")
    b.find(tid("unit-dispatch")).click()
    sent_unit = wait_for("the unit dispatched", lambda: [e for e in events(c, "cora", ctx["sid"])
                                                         if e["kind"] == "unit_dispatched" and e["by"] == "player:cora"] or None,
                         timeout=60)
    check(sent_unit[0]["target"] == "VSAV 1", f"the dispatch: {sent_unit}")
    wait_for("the dispatch in the panel", lambda: b.all(f'{tid("timeline-item")}[data-kind="unit_dispatched"]') or None, timeout=30)
    errors = b.errors()
    check(not errors, f"cora's page logged errors: {errors}")


def t_languages_and_observer(ctx):
    """English on a click; an observer reads but is offered no action."""
    b = ctx["anne"]
    b.find(tid("lang")).click()
    wait_for("English", lambda: b.find(tid("tab-timeline")).text == "Timeline" or None)
    b.find(tid("lang")).click()
    wait_for("French", lambda: b.find(tid("tab-timeline")).text == "Journal" or None)
    b.find(tid("clock-pause")).click()
    wait_for("the clock paused", lambda: b.find(tid("clock")).get_attribute("data-state") == "paused" or None)
    o = ctx["eva"] = Browser(ctx["server"].url, ctx["screens"], "eva")
    o.login("eva")
    o.find(f'{tid("session-item")}[data-id="{ctx["sid"]}"] a').click()
    o.find(tid("map"))
    check(not [e for e in o.all(tid("clock-start")) if e.is_displayed()] and not o.all(tid("cap-send")), "an observer is offered control")
    errors = b.errors()
    check(not errors, f"anne's page logged errors: {errors}")


def t_replay(ctx):
    """A replay of the exercise: the slider moves its clock, the water follows."""
    c, b = ctx["c"], ctx["anne"]
    r = c.post("anne", "/sessions", {"mode": "replay", "of": ctx["sid"]})
    check(r.status_code == 201, f"replay: {r.status_code} {r.text}")
    rid = r.json()["id"]
    b.d.get(f"{ctx['server'].url}/#/s/{rid}")
    slider = b.find(tid("replay-slider"))
    wait_for("the replay's map", lambda: b.js("return app.session && app.session.map && app.session.map.roadLayers.size") or None,
             timeout=60)
    target = int(float(slider.get_attribute("max")) * 0.8)
    b.js("const s = arguments[0]; s.value = arguments[1]; s.dispatchEvent(new Event('change'));", slider, target)
    wait_for("the replay's clock at the seek", lambda: abs(float(b.find(tid("clock")).get_attribute("data-sim-time")) - target) < 120 or None,
             timeout=30)
    wait_for("the water of that time", lambda: b.find(tid("map")).get_attribute("data-water") not in (None, "", "latest") or None,
             timeout=30)
    # The traffic of the replay's time: the played session's last reading at or before it.
    played = c.get("anne", f"/sessions/{ctx['sid']}/traffic", params={"t": str(target)}).json()["t_s"]
    wait_for(f"the traffic of {played} s", lambda: b.find(tid("map")).get_attribute("data-traffic") == f"{played:g}" or None, timeout=30)
    wait_for("the replay's records", lambda: len(b.all(tid("timeline-item"))) > 5 or None, timeout=30)
    # The water on screen, over the relief and under the streets.
    time.sleep(1)
    blue = drawn_on_screen(b, "water")
    check(blue > 100, f"the water changes {blue} pixels of the map on screen")
    print(f"      the replay's water: {blue} pixels on screen", flush=True)
    check(b.all(f'{tid("timeline-item")}[data-kind="alert_sent"]'), "the replay has no alert of the exercise's")
    b.shot("06-replay")
    # The 3D view of the replay at its clock: drawn by the server, the roads closed in red.
    b.find(tid("view-3d")).click()
    wait_for("the 3D view", lambda: b.js("const i = document.querySelector('[data-testid=view-3d-image]'); "
                                         "return i && i.complete && i.naturalWidth") or None, timeout=90)
    latest = int(b.js("return document.querySelector('[data-testid=view-3d-image]').src.split('/views/')[1].split('/')[0]"))
    shown = c.get("anne", f"/sessions/{rid}/views/{latest}").json()
    played = c.get("anne", f"/sessions/{ctx['sid']}").json()
    # The exercise is paused: its recording holds its last step, and the replay's picture shows all of it.
    check(played["clock"]["state"] == "paused" and shown.get("roads_closed") == played["kpis"]["roads_closed"]
          and shown.get("assets_out_of_service") == played["kpis"]["assets_out_of_service"],
          f"the replay's 3D view {shown} against the exercise's figures {played['kpis']} at {played['clock']['sim_time_s']} s")
    caption = shown.get("caption", "")
    check(re.search(r"· (\d+) roads? closed", caption) and shown["roads_closed"] == int(re.search(r"· (\d+) roads? closed", caption)[1])
          and shown["roads_closed"] > 0 and b.find(tid("view-3d-status")).get_attribute("data-roads-closed") == str(shown["roads_closed"]),
          f"the 3D view: {shown}")
    b.shot("06b-replay-3d")
    views = [c.post("anne", f"/sessions/{rid}/views", {"t_s": t}).json() for t in (0,)]
    done = wait_for("the view at 0 s", lambda: (lambda v: v if v["state"] != "running" else None)(
        c.get("anne", f"/sessions/{rid}/views/{views[0]['view']}").json()), timeout=90, every=1)
    check(done["state"] == "done" and done["t_s"] == 0, f"the view at 0 s: {done}")
    reds = []
    for n in (views[0]["view"], latest):
        r = c.get("anne", f"/sessions/{rid}/views/{n}/view.png")
        check(r.status_code == 200 and r.headers["Content-Type"] == "image/png", f"view {n}: {r.status_code}")
        img = Image.open(io.BytesIO(r.content)).convert("RGB")
        reds.append(sum(1 for (red, g, bl) in img.getdata() if red > 150 and g < 70 and bl < 70))
    check(reds[1] > reds[0] + 150, f"red pixels at 0 s and at the replay's time: {reds}: no roads drawn closed")
    print(f"      3D view: {caption} ({reds[1] - reds[0]} more red pixels than at 0 s)", flush=True)
    for body, status, why in [({"t_s": -5}, 400, "a negative time"), ({"t_s": "now"}, 400, "a time as text"),
                              ({"t_s": 10 ** 7}, 400, "a time to come"), ([1], 400, "a list")]:
        r = c.post("anne", f"/sessions/{rid}/views", body)
        check(r.status_code == status and r.json()["error"]["message"], f"a view at {why}: {r.status_code} {r.text[:200]}")
    for path in ("/views/99", "/views/x", "/views/1/run.log", "/views/1/../../session.json", "/views"):
        check(c.get("anne", f"/sessions/{rid}{path}").status_code == 404, f"{path} is not 404")

    # The viewer itself, from outside, through the public API: the exercise as it stands.
    sid, server = ctx["sid"], ctx["server"]
    viewer = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(ctx["cadereau"]))), "viewer", "cadereau-viewer")
    token = os.path.join(os.path.dirname(server.cert), "anne.token")
    with open(token, "w") as f:
        f.write(c.tokens["anne"] + "\n")
    kpis = c.get("anne", f"/sessions/{sid}").json().get("kpis", {})
    r = c.get("anne", f"/sessions/{sid}/water.tif")
    check(r.status_code == 200 and r.content[:4] in (b"II*\x00", b"MM\x00*") and r.headers.get("X-Frame-Time-S"),
          f"water.tif: {r.status_code} {r.headers}")
    png = os.path.join(os.path.dirname(server.cert), "following.png")
    base = ["xvfb-run", "-a", "-s", "-screen 0 1280x1024x24", viewer, "--territory", ctx["territory"], "--server", server.url,
            "--session", sid, "--token-file", token]
    run = subprocess.run(base + ["--ca-file", server.cert, "--snapshot", png, "--width", "800", "--height", "500"],
                         capture_output=True, text=True, timeout=120)
    check(run.returncode == 0 and os.path.getsize(png) > 10000, f"the viewer following {sid}: {run.returncode} {run.stderr[-400:]}")
    m = re.search(r"· (\d+) roads? closed · (\d+) assets? out of service", run.stdout)
    check(m and int(m[1]) == kpis.get("roads_closed") and int(m[2]) == kpis.get("assets_out_of_service"),
          f"the viewer's counts {run.stdout.strip()} against the session's {kpis}")
    print(f"      cadereau-viewer --server: {run.stdout.splitlines()[0]}", flush=True)
    # Its window follows the exercise as it runs (x60 for a few seconds): the scene is drawn anew as records come.
    follow = subprocess.Popen(base + ["--ca-file", server.cert, "--width", "640", "--height", "400"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        time.sleep(3)
        check(c.post("anne", f"/sessions/{sid}/clock", {"command": "resume", "speed": 60}).status_code == 200, "resume")
        time.sleep(8)
        check(c.post("anne", f"/sessions/{sid}/clock", {"command": "pause"}).status_code == 200, "pause")
        time.sleep(2)
    finally:
        os.killpg(follow.pid, signal.SIGTERM)  # xvfb-run and the viewer: it closes its window as Ctrl-C does
        try:
            out, err = follow.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(follow.pid, signal.SIGKILL)
            out, err = follow.communicate()
            err += "\n(it did not end on SIGTERM)"
    check(follow.returncode in (0, -signal.SIGTERM, 143), f"the following viewer ended with {follow.returncode}: {err[-400:]}")
    seen = re.findall(r"following \S+: at \S+ \((\d+):(\d\d):(\d\d) into the run\) · (\d+) roads? closed", out + err)
    times = [int(h) * 3600 + int(m) * 60 + int(sec) for h, m, sec, _ in seen]
    check(len(seen) >= 3 and times == sorted(times) and times[-1] > times[0] + 120,
          f"the viewer's window followed {len(seen)} states {times[:3]}...{times[-3:]}: {out[-300:]} {err[-300:]}")
    print(f"      the window followed {len(seen)} states of the exercise, {times[0]} s to {times[-1]} s", flush=True)
    # Refused, saying why: no trust in the self-signed certificate, a wrong token, no such session.
    with open(os.path.join(os.path.dirname(server.cert), "bad.token"), "w") as f:
        f.write("nope\n")
    for extra, words in [([], "TLS refused"),
                         (["--ca-file", server.cert, "--token-file", os.path.join(os.path.dirname(server.cert), "bad.token")], "401"),
                         (["--ca-file", server.cert, "--session", "s-none"], "404")]:
        run = subprocess.run(base + extra + ["--snapshot", png], capture_output=True, text=True, timeout=60)
        check(run.returncode != 0 and words in run.stderr, f"the viewer with {extra}: {run.returncode} {run.stderr[-300:]}")
    errors = b.errors()
    check(not errors, f"the replay logged errors: {errors}")


def t_live_room(ctx):
    """An operator's live session: a reading pushed over SensorThings shows on the map and in the feeds' health; the
    forecasts come in and one asked now shows with its number."""
    c, territory = ctx["c"], ctx["territory"]
    c.login("olga")
    r = c.post("olga", "/sessions", {"mode": "live", "territory": "demo", "forecast": {"every_min": 60, "horizon_min": 5}})
    check(r.status_code == 201, f"live session: {r.status_code} {r.text}")
    sid = r.json()["id"]
    wait_for("the live engine", lambda: c.get("olga", f"/sessions/{sid}").json()["worker"]["state"] == "ready" or None, timeout=120)
    b = ctx["olga"] = Browser(ctx["server"].url, ctx["screens"], "olga")
    b.login("olga")
    b.find(f'{tid("session-item")}[data-id="{sid}"] a').click()
    wait_for("the map", lambda: b.js("return app.session && app.session.map && app.session.map.sensorLayers.size") or None, timeout=60)
    check(not [e for e in b.all(tid("clock-pause")) if e.is_displayed()], "a live clock offered a pause")
    b.find(tid("clock-start")).click()
    wait_for("the live clock running", lambda: b.find(tid("clock")).get_attribute("data-state") == "running" or None)
    b.find(tid("tab-live")).click()
    with open(os.path.join(territory, "sensors.geojson")) as f:
        gauges = [s["properties"] for s in json.load(f)["features"] if s["properties"]["kind"] == "level_gauge"
                  and not s["properties"]["rating"]]
    gauge = gauges[0]
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    r = c.http().post(c.server.url + f"/v1.1/Datastreams({gauge['datastream']})/Observations", headers=c.headers("olga"),
                      json={"phenomenonTime": stamp, "result": 0.42}, timeout=20)
    check(r.status_code == 201, f"SensorThings: {r.status_code} {r.text}")
    wait_for(f"{gauge['id']} at 0.42 m on the map", lambda: b.js(
        "const r = app.session.map.sensorValues.get(arguments[0]); return r && r.text", gauge["id"]) == "0.42 m" or None, timeout=60)
    # The live panel is drawn again as forecasts and feed health come: read it afresh each time.
    rows = "return [...document.querySelectorAll('[data-testid=feeds] tr')].map((r) => r.textContent)"
    wait_for("the feeds' health", lambda: [r for r in b.js(rows) if gauge["name"] in r and "0.42" in r] or None, timeout=60)
    forecast_text = "const f = document.querySelector('[data-testid=forecast]'); return f ? f.textContent : ''"
    wait_for("the first forecast", lambda: "#1" in b.js(forecast_text) or None, timeout=240, every=1)
    b.js("""const h = document.querySelector('[data-testid=forecast-horizon]');
            h.value = '5'; h.dispatchEvent(new Event('input'));
            document.querySelector('[data-testid=forecast-now]').click();""")
    wait_for("the forecast asked now", lambda: "#2" in b.js(forecast_text) or None, timeout=240, every=1)
    b.shot("07-live-room")
    errors = b.errors()
    check(not errors, f"olga's page logged errors: {errors}")
    check(c.post("olga", f"/sessions/{sid}/clock", {"command": "stop"}).status_code == 200, "stop the live session")


def click_light(b, light):
    """Centres the map on a light and clicks it on the canvas; returns the popup."""
    x, y = b.js("""const m = app.session.map, at = m.lightAt.get(arguments[0]);
                   m.map.setView(at, 17, { animate: false });
                   const c = m.map.latLngToContainerPoint(at); return [c.x, c.y];""", light)
    time.sleep(0.5)
    map_el = b.find(tid("map"))
    size = map_el.size
    ActionChains(b.d).move_to_element_with_offset(map_el, x - size["width"] / 2, y - size["height"] / 2).click().perform()
    return b.find(tid("light-popup"))


def t_green_wave(ctx):
    """A traffic-cell player picks three lights of avenue du Languedoc on the map, has the server plan a green wave on a
    quarter of an hour of the morning's demand, and reads baseline and plan side by side with their diagrams; refusals
    through the API."""
    c, sid = ctx["c"], ctx["sid"]
    corridor = ["J11_9", "J13_9", "J15_9"]
    street = [k for k in ctx["map"]["corridors"] if k["street"] == "avenue du Languedoc"]
    check(street and street[0]["lights"][4:7] == corridor, f"the map's corridors: {ctx['map']['corridors'][:2]}")
    lights = {f["properties"]["id"]: f["properties"] for f in ctx["map"]["lights"]["features"]}
    check("avenue du Languedoc" in lights["J13_9"]["streets"], f"J13_9's streets: {lights['J13_9']}")
    for user in ("tom", "bob", "eva"):
        c.login(user)
    window = {"begin_s": 27000, "end_s": 27900}
    for user, body, status, why in [
            ("bob", {"tls": corridor}, 403, "a police player planning lights"),
            ("eva", {"tls": corridor}, 403, "an observer planning lights"),
            ("tom", {"tls": ["J11_9"]}, 400, "one light"),
            ("tom", {"tls": ["J11_9", "J11_9"]}, 400, "a light twice"),
            ("tom", {"tls": ["-h", "J11_9"]}, 400, "an option for a light"),
            ("tom", {"tls": "J11_9,J13_9"}, 400, "lights as text"),
            ("tom", {"tls": corridor, "speed_kmh": 500}, 400, "500 km/h"),
            ("tom", {"tls": corridor, "begin_s": 27900, "end_s": 27000}, 400, "a window that ends first")]:
        r = c.post(user, f"/sessions/{sid}/greenwave", body)
        check(r.status_code == status and r.json()["error"]["message"], f"{why}: {r.status_code} {r.text[:200]}")
    for path in ("/greenwave/99", "/greenwave/x", "/greenwave/1/../../session.json", "/greenwave/1/run.log"):
        check(c.get("tom", f"/sessions/{sid}{path}").status_code == 404, f"{path} is not 404")
    # Lights out of order: the planner refuses them, and the job says why in the request's words.
    r = c.post("tom", f"/sessions/{sid}/greenwave", {"tls": ["J15_9", "J11_9", "J13_9"], **window})
    check(r.status_code == 202 and r.json()["state"] == "running", f"a plan: {r.status_code} {r.text[:200]}")
    bad = r.json()["job"]
    job = wait_for("the refusal", lambda: (lambda j: j if j["state"] != "running" else None)(
        c.get("tom", f"/sessions/{sid}/greenwave/{bad}").json()), timeout=120, every=1)
    check(job["state"] == "failed" and "tls" in job["problem"] and "--" not in job["problem"], f"out of order: {job}")

    b = ctx["tom"] = Browser(ctx["server"].url, ctx["screens"], "tom")
    b.login("tom")
    b.find(f'{tid("session-item")}[data-id="{sid}"] a').click()
    wait_for("the map's lights", lambda: b.js("return app.session && app.session.map && app.session.map.lightAt.size") or None,
             timeout=60)
    b.find(tid("tab-greenwave")).click()
    # The panel opens on the session's latest plan (the refused one): start afresh.
    wait_for("the latest plan shown", lambda: b.find(tid("greenwave-status")).get_attribute("data-job") == str(bad) or None)
    b.find(tid("greenwave-clear")).click()
    for light in corridor:
        popup = click_light(b, light)
        popup.find_element(By.CSS_SELECTOR, tid("greenwave-add")).click()
    picked = b.js("return [...document.querySelectorAll('[data-testid=greenwave-corridor] li')].map((li) => li.dataset.light)")
    check(picked == corridor, f"the corridor picked on the map: {picked}")
    check(len(b.all(".corridor-mark")) == 3, "the corridor's lights are not numbered on the map")
    b.find(tid("greenwave-begin")).send_keys("07:30")
    b.find(tid("greenwave-end")).send_keys("07:45")
    b.find(tid("greenwave-run")).click()
    status = tid("greenwave-status")
    wait_for("the plan under way", lambda: b.find(status).get_attribute("data-state") in ("running", "done") or None)
    number = int(b.find(status).get_attribute("data-job"))
    if b.find(status).get_attribute("data-state") == "running":
        r = c.post("anne", f"/sessions/{sid}/greenwave", {"tls": corridor})
        check(r.status_code == 409, f"a second plan while one runs: {r.status_code} {r.text[:200]}")
    wait_for("the plan", lambda: b.find(status).get_attribute("data-state") != "running" or None, timeout=300, every=1)
    check(b.find(status).get_attribute("data-state") == "done", f"the plan: {b.find(status).text}")
    job = c.get("tom", f"/sessions/{sid}/greenwave/{number}").json()
    check(job["request"] == {"tls": corridor, "speed_kmh": 50, **window, "budget_s": 0, "seeds": 1, "periods": "auto"},
          f"the request as the server took it: {job['request']}")
    report = job["report"]
    check(report["corridor"]["street"] == "avenue du Languedoc", f"the corridor: {report['corridor']}")
    # The page shows the report's own figures.
    shown = b.js("""const row = document.querySelector('[data-testid=greenwave-kpis] tr[data-kpi="corridor_trips/mean_travel_time_s"]');
                    return row ? [...row.children].map((td) => td.textContent) : null""")
    base_tt, plan_tt = report["baseline"]["corridor_trips"]["mean_travel_time_s"], report["plan"]["corridor_trips"]["mean_travel_time_s"]
    check(shown and abs(float(shown[1]) - base_tt) < 0.01 and abs(float(shown[2]) - plan_tt) < 0.01,
          f"the corridor's travel time shown {shown}, reported {base_tt} and {plan_tt}")
    wait_for("both diagrams drawn", lambda: b.js(
        "return [...document.querySelectorAll('[data-testid=greenwave-diagram]')].filter((i) => i.complete && i.naturalWidth > 100).length") == 2
        or None, timeout=30)
    r = c.get("tom", f"/sessions/{sid}/greenwave/{number}/plan.add.xml")
    check(r.status_code == 200 and r.text.count("<tlLogic") == 3 and "attachment" in r.headers.get("Content-Disposition", ""),
          f"the plan's file: {r.status_code} {r.text[:200]}")
    b.js("document.querySelector('[data-testid=greenwave-result]').scrollIntoView()")
    b.shot("08-green-wave")
    print(f"      tom's plan #{number} on {', '.join(corridor)}: corridor travel time {base_tt:.1f} s -> {plan_tt:.1f} s, "
          f"cycle {report['signal_plan']['cycle_s']:.0f} s, in {job['wall_s']:.0f} s", flush=True)
    errors = b.errors()
    check(not errors, f"tom's page logged errors: {errors}")

    # The director opens an exercise whose lights run the plan: its programs are there, and only there.
    check(not b.all(tid("greenwave-apply")), "a player was offered to open an exercise")
    for body, status, why in [({"session": sid, "plan": bad}, 409, "a failed plan"), ({"session": sid, "plan": 99}, 404, "no plan"),
                              ({"session": sid}, 400, "no plan number"), ({"session": "nope", "plan": 1}, 404, "no session")]:
        r = c.post("anne", "/sessions", {"mode": "exercise", "scenario": "flash-flood-1988", "light_plan": body})
        check(r.status_code == status, f"a light plan of {why}: {r.status_code} {r.text[:200]}")
    r = c.post("anne", "/sessions", {"mode": "exercise", "scenario_yaml": "name: x\nterritory: demo\nstart: 2026-01-01T07:00\n"
               "duration: 1h\nlight_plans: [/etc/passwd]\n"})
    check(r.status_code == 400 and "light_plan" in r.text, f"a scenario naming a file: {r.status_code} {r.text[:200]}")
    a = ctx["anne"]
    a.d.get(f"{ctx['server'].url}/#/s/{sid}")
    a.find(tid("tab-greenwave")).click()
    wait_for("the latest plan in the director's panel", lambda: a.js(
        "const s = document.querySelector('#panel-greenwave:not([hidden]) [data-testid=greenwave-status]');"
        "return s && s.dataset.job === arguments[0] && s.dataset.state === 'done'", str(number)) or None, timeout=60)
    slow = a.js("return performance.getEntriesByType('resource').filter((e) => e.duration > 2000)"
                ".map((e) => `${e.name.split('/api/v1')[1] || e.name} at ${Math.round(e.startTime)} ms took ${Math.round(e.duration)} ms`)")
    if slow:  # the director's page has been slow to show the plan before: say what it waited for
        print(f"      anne's slow requests: {slow}", flush=True)
    a.find(tid("greenwave-apply")).click()
    wait_for("the new exercise", lambda: a.js("return location.hash") != f"#/s/{sid}" or None, timeout=30)
    new_sid = a.js("return location.hash").split("/")[-1]
    a.find(tid("tab-greenwave")).click()
    check("#" + str(number) in a.find(tid("greenwave-applied")).text, "the new exercise does not say it runs the plan")
    d = c.get("anne", f"/sessions/{new_sid}").json()
    check(d["light_plan"] == {"session": sid, "plan": number, "programs": {k: "greenwave" for k in corridor}}
          and d["scenario_ref"] == "flash-flood-1988", f"the new exercise: {d}")
    wait_for("the new exercise's engine", lambda: c.get("anne", f"/sessions/{new_sid}").json()["worker"]["state"] == "ready" or None,
             timeout=120)
    check(c.post("anne", f"/sessions/{new_sid}/clock", {"command": "start", "speed": 1}).status_code == 200, "start it")
    act = {"verb": "light_program", "target": "J13_9", "program": report["signal_plan"]["program_id"]}
    r = c.post("tom", f"/sessions/{new_sid}/actions", act)
    check(r.status_code == 202, f"the plan's program in the exercise that runs it: {r.status_code} {r.text[:200]}")
    r = c.post("tom", f"/sessions/{sid}/actions", act)
    check(r.status_code in (400, 404) and "no program" in r.text, f"the plan's program elsewhere: {r.status_code} {r.text[:200]}")
    check(c.post("anne", f"/sessions/{new_sid}/clock", {"command": "stop"}).status_code == 200, "stop it")
    a.shot("09-green-wave-applied")
    errors = a.errors()
    check(not errors, f"anne's page logged errors: {errors}")


CHECKS = [t_map_api, t_director, t_player_inbox_and_road, t_chain_from_timeline, t_alert_workbench, t_languages_and_observer,
          t_replay, t_green_wave, t_live_room]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cadereau", required=True)
    parser.add_argument("--territory", required=True, help="a demo territory folder")
    parser.add_argument("--screens", help="a folder for the screenshots")
    parser.add_argument("--only", help="run the checks whose name contains this (later ones need earlier ones)")
    args = parser.parse_args()
    failures = 0
    with tempfile.TemporaryDirectory(prefix="cadereau-console-") as tmp:
        data = os.path.join(tmp, "data")
        os.makedirs(os.path.join(data, "territories"))
        os.symlink(os.path.abspath(args.territory), os.path.join(data, "territories", "demo"))
        add_users(args.cadereau, data, USERS, PASSWORD)
        cert, key = make_certificate(tmp)
        server = Server(args.cadereau, data, cert, key)
        client = Client(server, cert)
        api_test.PASSWORD = PASSWORD  # the client logs in with it
        ctx = {"server": server, "c": client, "territory": os.path.abspath(args.territory), "screens": args.screens,
               "cadereau": args.cadereau}
        people = ("anne", "bob", "cora", "eva", "olga", "tom")

        def screens_of(check):
            # Where the server's threads are (a request that never ends: which lock it waits on).
            if shutil.which("gdb") and server.proc and server.proc.poll() is None:
                bt = subprocess.run(["gdb", "-p", str(server.proc.pid), "-batch", "-ex", "thread apply all bt 30"],
                                    capture_output=True, text=True, timeout=120).stdout
                for t in bt.split("\nThread ")[1:]:
                    frames = [line.split(" in ", 1)[-1][:110] for line in t.splitlines() if line.startswith("#")]
                    print(f"      server thread: {' <- '.join(frames[:6])}", flush=True)
            # The server's connections with bytes it has not read (a connection it stopped serving).
            if shutil.which("ss") and server.url:
                port = server.url.rsplit(":", 1)[-1].strip("/")
                ss = subprocess.run(["ss", "-tnpo", "state", "established", f"( sport = :{port} )"], capture_output=True,
                                    text=True).stdout.splitlines()
                print(f"      server connections: {len(ss) - 1}; with unread bytes: "
                      f"{[line for line in ss[1:] if line.split()[0] != '0']}", flush=True)
            for name in people:
                if name in ctx and args.screens:
                    ctx[name].shot(f"failed-{check.__name__}-{name}")
                if name in ctx:
                    try:
                        errors = ctx[name].errors()
                    except Exception as e:  # the browser itself is gone
                        errors = [f"(no log: {e})"]
                    if errors:
                        print(f"      {name}'s page logged: {errors}", flush=True)
                    try:
                        state = ctx[name].js("""const s = app.session; return s ? {hash: location.hash, records: s.records.list.length,
                            socket: s.socket ? s.socket.readyState : null, clock: s.clock.state, sim: s.clock.sim_time_s,
                            items: document.querySelectorAll('[data-testid=timeline-item]').length,
                            tab: s.panels ? s.panels.current : null,
                            gw: [...document.querySelectorAll('[data-testid=greenwave-status]')].map((g) =>
                              `${g.dataset.job}/${g.dataset.state}/${g.offsetHeight}px/${g.isConnected}`).join(' '),
                            tabs: [...document.querySelectorAll('#tabs [role=tab]')].map((b) => b.id).join(' ')} : {hash: location.hash}""")
                        print(f"      {name}'s page: {state}", flush=True)
                        waiting = ctx[name].pending()
                        if waiting:
                            print(f"      {name}'s page waits for: {waiting[-12:]}", flush=True)
                    except Exception as e:  # the page itself is broken
                        print(f"      {name}'s page: (no state: {e})", flush=True)

        try:
            server.start()
            failures = run_checks(CHECKS, ctx, args.only, screens_of)
        finally:
            for name in people:
                if name in ctx:
                    ctx[name].quit()
            try:
                server.stop(timeout=20)
            except Fail:
                pass
            if failures:
                print_log_tail(os.path.join(tmp, "serve.log"))
    return failures


if __name__ == "__main__":
    sys.exit(main())
