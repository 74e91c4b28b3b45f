#!/usr/bin/env python3
"""The crisis server's API, driven over real TLS by real clients.

Starts `cadereau serve` on 127.0.0.1 (port 0, a self-signed certificate made
with the openssl CLI), adds one user per role, and checks the contract of
DESIGN.md ("The server"): login and cookies, the permission matrix (every
endpoint x every role), the flagship exercise run at x60, acted on and
paused, the WebSocket stream resumed without gaps, actions recorded with
their author, a replay with seek, a live session kept apart from exercise
data, hostile requests, a worker killed mid-run, the whole server killed and
started again, and a clean SIGTERM.

    api_test.py --cadereau BUILD/server/cadereau [--territory DIR] [--only NAME]

Each check prints PASS or FAIL; the exit status is the number of failures.
Every wait is bounded; the server is killed whatever happens.
"""

import argparse
import asyncio
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import traceback

import requests
import websockets

from live_support import Fail, check, wait_for

PASSWORD = "correct horse battery"
USERS = {  # name: (role, cell)
    "root": ("admin", None),
    "anne": ("director", None),
    "olga": ("operator", None),
    "omar": ("operator", None),
    "bob": ("player", "police"),
    "tina": ("player", "traffic"),
    "rita": ("player", "reports"),
    "cora": ("player", "crisis"),
    "eva": ("observer", None),
}
# An exercise uploaded as YAML: a stream in spate on the demo territory, on a
# coarse flood grid (the bad-input checks edit it).
SCENARIO = """name: Short spate for the API test
territory: demo
start: 1988-10-03T07:00:00
duration: 3h
seed: 7
flood_cell_m: 40
inflows:
  - name: cadereau d'Alès
    at: lg-ales-amont
    m3_s: [[07:00, 300], [10:00, 300]]
"""
EDGE = "h1_8"  # a street of the demo territory
# Stream messages that are journal events (with a seq); the rest (clock, kpi, frame) is state.
JOURNAL = ("event", "inject", "alert", "procedure", "report")


class Server:
    def __init__(self, binary, data, cert, key):
        self.binary, self.data, self.cert, self.key = binary, data, cert, key
        self.proc = None
        self.url = None

    def start(self):
        self.proc = subprocess.Popen(
            [self.binary, "serve", "--data", self.data, "--listen", "127.0.0.1:0", "--tls-cert", self.cert,
             "--tls-key", self.key],
            stdout=subprocess.PIPE, stderr=open(os.path.join(self.data, "..", "serve.log"), "ab"), text=True)
        deadline = time.time() + 60
        line = ""
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            if line.startswith("listening on "):
                self.url = line.split()[-1].strip()
                return
            if self.proc.poll() is not None:
                break
        raise Fail(f"the server did not start: {line!r}, exit {self.proc.poll()}")

    def api(self, path):
        return self.url + "/api/v1" + path

    def ws(self, path):
        return self.url.replace("https://", "wss://") + "/api/v1" + path

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                return self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise Fail(f"the server did not stop within {timeout} s of signal {sig}")
        return self.proc.returncode if self.proc else None


class Client:
    def __init__(self, server, cert):
        self.server, self.cert = server, cert
        self.tokens = {}

    def http(self):
        s = requests.Session()
        s.trust_env = False  # hermetic: no proxy, no CA bundle from the environment (it would win over verify)
        s.verify = self.cert
        return s

    def login(self, user):
        r = self.http().post(self.server.api("/login"), json={"user": user, "password": PASSWORD}, timeout=20)
        check(r.status_code == 200, f"login {user}: {r.status_code} {r.text}")
        self.tokens[user] = r.json()["token"]
        return r

    def headers(self, user):
        return {"Authorization": "Bearer " + self.tokens[user]} if user else {}

    def get(self, user, path, **kw):
        return self.http().get(self.server.api(path), headers=self.headers(user), timeout=20, **kw)

    def post(self, user, path, body, **kw):
        return self.http().post(self.server.api(path), headers=self.headers(user), json=body, timeout=30, **kw)

    def ssl_context(self):
        ctx = ssl.create_default_context(cafile=self.cert)
        return ctx


def session(c, user, sid):
    r = c.get(user, f"/sessions/{sid}")
    check(r.status_code == 200, f"GET session: {r.status_code} {r.text}")
    return r.json()


def events(c, user, sid, after=0):
    out = []
    while True:
        r = c.get(user, f"/sessions/{sid}/events", params={"after": after})
        check(r.status_code == 200, f"events: {r.status_code} {r.text}")
        page = r.json()
        if not page:
            return out
        out += page
        after = page[-1]["seq"]


def ready(c, sid):
    return wait_for("the engine to be ready", lambda: session(c, "anne", sid)["worker"]["state"] == "ready" or None)


async def stream(c, user, sid, after, until, extra_headers=None, timeout=60):
    """Messages of the stream until until(messages) is true."""
    headers = dict(c.headers(user))
    headers.update(extra_headers or {})
    got = []
    async with websockets.connect(c.server.ws(f"/sessions/{sid}/stream?after={after}"), ssl=c.ssl_context(),
                                  extra_headers=headers, open_timeout=20, max_size=2**22,
                                  max_queue=None) as ws:  # unread messages would hold back the close
        deadline = time.time() + timeout
        while not until(got):
            remaining = deadline - time.time()
            check(remaining > 0, f"stream: timed out with {len(got)} messages")
            got.append(json.loads(await asyncio.wait_for(ws.recv(), remaining)))
    return got


def make_certificate(folder):
    cert, key = os.path.join(folder, "cert.pem"), os.path.join(folder, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", cert],
                   check=True, capture_output=True)
    return cert, key


# ---------------------------------------------------------------- the checks

def t_health_and_login(ctx):
    c = ctx["c"]
    r = c.http().get(c.server.api("/health"), timeout=10)
    check(r.status_code == 200 and r.json()["status"] == "ok" and r.json()["version"], f"health: {r.text}")
    for user in USERS:
        r = c.login(user)
    cookie = r.headers.get("Set-Cookie", "")
    for attribute in ("HttpOnly", "Secure", "SameSite=Strict"):
        check(attribute in cookie, f"the login cookie lacks {attribute}: {cookie}")
    check(r.json()["role"] == "observer", f"role in the login answer: {r.text}")
    r = c.http().post(c.server.api("/login"), json={"user": "anne", "password": "wrong password here"}, timeout=10)
    check(r.status_code == 401 and r.json()["error"]["code"] == "unauthenticated", f"bad password: {r.status_code} {r.text}")
    r = c.http().get(c.server.api("/sessions"), timeout=10)
    check(r.status_code == 401, f"no token: {r.status_code}")
    r = c.http().get(c.server.api("/sessions"), headers={"Authorization": "Bearer AAAA"}, timeout=10)
    check(r.status_code == 401, f"bad token: {r.status_code}")
    # The cookie alone works, as a browser would send it.
    s = c.http()
    s.cookies.set("cadereau_session", c.tokens["eva"])
    check(s.get(c.server.api("/sessions"), timeout=10).status_code == 200, "the session cookie is not accepted")


def t_login_throttle(ctx):
    c = ctx["c"]
    statuses = []
    for _ in range(12):
        r = c.http().post(c.server.api("/login"), json={"user": "mallory", "password": "guess guess guess"}, timeout=10)
        statuses.append(r.status_code)
        if r.status_code == 429:
            check(int(r.headers.get("Retry-After", "0")) > 0, f"429 without Retry-After: {r.headers}")
            break
    check(429 in statuses, f"no 429 after repeated failures: {statuses}")


def t_create(ctx):
    c = ctx["c"]
    r = c.post("eva", "/sessions", {"mode": "exercise", "scenario_yaml": SCENARIO})
    check(r.status_code == 403, f"an observer created a session: {r.status_code}")
    r = c.post("anne", "/sessions", {"mode": "exercise", "scenario_yaml": SCENARIO.replace("duration: 3h", "duration: ha")})
    check(r.status_code == 400 and "scenario.yaml:4" in r.json()["error"]["message"], f"bad YAML: {r.status_code} {r.text}")
    r = c.post("anne", "/sessions", {"mode": "exercise", "scenario": "no-such-scenario"})
    check(r.status_code == 404, f"unknown scenario: {r.status_code} {r.text}")
    r = c.post("anne", "/sessions", {"mode": "exercise", "scenario_yaml": SCENARIO.replace("territory: demo", "territory: ../../etc")})
    check(r.status_code == 400, f"a territory outside DATA: {r.status_code} {r.text}")
    r = c.post("anne", "/sessions", {"mode": "drill", "scenario_yaml": SCENARIO})
    check(r.status_code == 400, f"unknown mode: {r.status_code}")
    r = c.post("anne", "/sessions", {"mode": "exercise", "scenario_yaml": SCENARIO})
    check(r.status_code == 201, f"create from YAML: {r.status_code} {r.text}")
    check(r.json()["name"] == "Short spate for the API test", f"the uploaded scenario's name: {r.text}")
    # The rest runs on the flagship, by its name.
    r = c.post("anne", "/sessions", {"mode": "exercise", "scenario": "flash-flood-1988"})
    check(r.status_code == 201, f"create: {r.status_code} {r.text}")
    sid = r.json()["id"]
    check(r.headers.get("Location", "").endswith(sid), f"Location: {r.headers}")
    ctx["sid"] = sid
    # The flagship comes with its MSEL: the director holds one inject and cancels another.
    injects = c.get("anne", f"/sessions/{sid}/injects").json()
    check(len(injects) >= 25 and all(i["state"] == "scheduled" for i in injects), f"the flagship's injects: {injects[:2]}")
    check(c.get("bob", f"/sessions/{sid}/injects").json() == [], "a player sees injects before they are delivered")
    check(c.post("bob", f"/sessions/{sid}/injects/6", {"command": "cancel"}).status_code == 403, "a player cancels")
    check(c.post("anne", f"/sessions/{sid}/injects/6", {"command": "cancel"}).json()["state"] == "cancelled", "cancel")
    check(c.post("anne", f"/sessions/{sid}/injects/7", {"command": "hold"}).json()["state"] == "on_hold", "hold")
    check(c.post("anne", f"/sessions/{sid}/injects/6", {"command": "release"}).status_code == 409, "release a cancelled one")
    check(c.post("anne", f"/sessions/{sid}/injects/99", {"command": "fire"}).status_code == 404, "fire an unknown one")
    check(c.post("anne", f"/sessions/{sid}/injects/7", {"command": "explode"}).status_code == 400, "an unknown command")
    # A test-fire shows the staff what the cells would get, and changes nothing.
    r = c.post("anne", f"/sessions/{sid}/injects/1", {"command": "test"})
    check(r.status_code == 200 and r.json()["state"] == "scheduled", f"test-fire: {r.text}")
    tested = [e for e in events(c, "eva", sid) if e["kind"] == "inject_test"]
    check(tested and tested[-1]["inject"] == "1" and tested[-1]["by"] == "director:anne", f"test-fire event: {tested}")
    check(not [e for e in events(c, "cora", sid) if e["kind"] == "inject_test"], "a player sees a test-fire")
    ready(c, sid)
    r = c.get("eva", "/sessions")
    check(any(s["id"] == sid and s["state"] == "created" for s in r.json()), f"list: {r.text}")
    # The uploaded one is stopped at once: one engine is enough on two cores.
    first = [s["id"] for s in r.json() if s["name"] == "Short spate for the API test"][0]
    check(c.post("anne", f"/sessions/{first}/clock", {"command": "stop"}).status_code == 200, "stop")
    check(c.post("anne", f"/sessions/{first}/clock", {"command": "start"}).status_code == 409, "a stopped session started")


def t_permission_matrix(ctx):
    """Every endpoint x every role on an exercise, against the permission table."""
    c, sid = ctx["c"], ctx["sid"]
    allowed = {  # endpoint: roles allowed on an exercise (permissions.h)
        "list": set(USERS),
        "read": {"root", "anne", "bob", "tina", "rita", "cora", "eva"},
        "events": {"root", "anne", "bob", "tina", "rita", "cora", "eva"},
        "stream": {"root", "anne", "bob", "tina", "rita", "cora", "eva"},
        "clock": {"root", "anne"},
        # police and crisis may close roads; traffic (tina) may not, reports (rita) neither
        "action": {"root", "bob", "cora"},
        "create": {"root", "anne"},
    }
    failures = []
    for user in USERS:
        results = {
            "list": c.get(user, "/sessions").status_code,
            "read": c.get(user, f"/sessions/{sid}").status_code,
            "events": c.get(user, f"/sessions/{sid}/events").status_code,
            # A speed change is a harmless clock request: 200 when allowed.
            "clock": c.post(user, f"/sessions/{sid}/clock", {"speed": 1}).status_code,
            "action": c.post(user, f"/sessions/{sid}/actions", {"verb": "close_road", "target": "no-such-edge"}).status_code,
            "create": c.post(user, "/sessions", {"mode": "exercise", "scenario": "no-such-scenario"}).status_code,
        }
        try:
            asyncio.run(stream(c, user, sid, 0, lambda got: len(got) >= 1, timeout=20))
            results["stream"] = 200
        except websockets.exceptions.InvalidStatusCode as e:
            results["stream"] = e.status_code
        for endpoint, status in results.items():
            # Allowed: the request reaches the service (200, or 404 for the names that do not exist).
            ok = status in (200, 202, 404) if user in allowed[endpoint] else status == 403
            if not ok:
                failures.append(f"{user}/{USERS[user][0]} {endpoint}: {status}")
    check(not failures, "permission matrix: " + "; ".join(failures))
    r = c.post("tina", f"/sessions/{sid}/actions", {"verb": "close_road", "target": EDGE})
    check(r.status_code == 403 and "traffic cell" in r.json()["error"]["message"], f"a traffic player closing a road: {r.text}")


def t_clock_and_actions(ctx):
    c, sid = ctx["c"], ctx["sid"]
    r = c.post("anne", f"/sessions/{sid}/clock", {"command": "start", "speed": 61})
    check(r.status_code == 400, f"speed 61: {r.status_code}")
    r = c.post("anne", f"/sessions/{sid}/clock", {"command": "resume"})
    check(r.status_code == 409, f"resume before start: {r.status_code}")
    t0 = time.time()
    r = c.post("anne", f"/sessions/{sid}/clock", {"command": "start", "speed": 60})
    check(r.status_code == 200 and r.json()["state"] == "running", f"start: {r.text}")
    r = c.post("anne", f"/sessions/{sid}/clock", {"command": "start"})
    check(r.status_code == 409, f"a second start: {r.status_code}")
    wait_for("sim time to pass 04:00", lambda: session(c, "eva", sid)["sim_time_s"] >= 240, timeout=120)
    r = c.post("bob", f"/sessions/{sid}/actions", {"verb": "close_road", "target": EDGE})
    check(r.status_code == 202, f"action: {r.status_code} {r.text}")
    ctx["action_seq"] = r.json()["seq"]
    r = c.post("bob", f"/sessions/{sid}/actions", {"verb": "close_road", "target": "no-such-edge"})
    check(r.status_code == 404 and r.json()["error"]["code"] == "not_found", f"unknown edge: {r.text}")
    lagged = []

    def past_ten_minutes():
        d = session(c, "eva", sid)
        lagged.append(d["clock"]["lagging"])
        return d["sim_time_s"] >= 600

    wait_for("sim time to pass 10:00", past_ten_minutes, timeout=120)
    d = session(c, "eva", sid)
    rate = d["sim_time_s"] / (time.time() - t0)
    # The clock never runs ahead of its speed; behind it (a busy machine), it says so.
    check(rate <= 63, f"x60 ran at x{rate:.1f}")
    check(rate >= 45 or any(lagged), f"x60 ran at x{rate:.1f} and never said it was lagging")
    check(d["clock"]["elapsed_s"] > 0, f"clock: {d['clock']}")
    r = c.post("anne", f"/sessions/{sid}/clock", {"command": "pause"})
    check(r.status_code == 200 and r.json()["state"] == "paused", f"pause: {r.text}")
    # An exchange step under way when the pause came ends first.
    previous = [None]

    def settled():
        t = session(c, "eva", sid)["sim_time_s"]
        same, previous[0] = t == previous[0], t
        return same

    wait_for("the engine to stop at the pause", settled, timeout=20, every=0.5)
    held, elapsed = session(c, "eva", sid)["sim_time_s"], session(c, "eva", sid)["clock"]["elapsed_s"]
    time.sleep(2)
    d = session(c, "eva", sid)
    check(d["sim_time_s"] == held, f"pause does not hold: {held} -> {d['sim_time_s']}")
    check(abs(d["clock"]["elapsed_s"] - elapsed) < 0.01, f"elapsed time counted a pause: {elapsed} -> {d['clock']['elapsed_s']}")
    ev = events(c, "eva", sid)
    check([e["seq"] for e in ev] == list(range(1, len(ev) + 1)), "event seqs are not 1..N")
    accepted = [e for e in ev if e["seq"] == ctx["action_seq"]]
    check(accepted and accepted[0]["by"] == "player:bob" and accepted[0]["kind"] == "action_accepted",
          f"the accepted action: {accepted}")
    taken = [e for e in ev if e["kind"] == "action" and e.get("target") == EDGE]
    check(taken and taken[0]["by"] == "player:bob", f"the engine's record of the action: {taken}")
    check(any(e["kind"] == "road_closed" for e in ev), "no road closed by the water in 10 min of spate")
    check(any(e["kind"] == "clock" and e["by"] == "director:anne" for e in ev), "the clock changes are not events")
    r = c.post("anne", f"/sessions/{sid}/clock", {"command": "resume"})
    check(r.status_code == 200, f"resume: {r.text}")


def t_stream_resume(ctx):
    c, sid = ctx["c"], ctx["sid"]
    started = time.time()
    journal = JOURNAL
    first = asyncio.run(stream(c, "eva", sid, 0, lambda got: sum(m["type"] in journal for m in got) >= 20))
    seqs = [m["seq"] for m in first if m["type"] in journal]
    check(seqs == list(range(1, len(seqs) + 1)), f"first stream: seqs {seqs[:30]}")
    check(first[0]["type"] == "clock" and "sim_time_s" in first[0] and "seq" in first[0], f"first message: {first[0]}")
    print(f"      first stream {time.time() - started:.1f} s", flush=True)
    last = seqs[-1]
    again = asyncio.run(stream(c, "eva", sid, last, lambda got: sum(m["type"] in journal for m in got) >= 5))
    seqs2 = [m["seq"] for m in again if m["type"] in journal]
    check(seqs2 == list(range(last + 1, last + 1 + len(seqs2))), f"resumed after {last}: {seqs2}")
    check(all("seq" in m for m in first + again), "a message without seq")
    for messages, after in ((first, 0), (again, last)):
        seen = after
        for m in messages:
            if m["type"] in journal:
                seen = m["seq"]
            else:
                check(m["seq"] <= seen, f"a {m['type']} message names seq {m['seq']} before event {seen} was sent")
    print(f"      resumed stream {time.time() - started:.1f} s", flush=True)
    # A page of another site cannot open the stream with the cookie.
    try:
        asyncio.run(stream(c, "eva", sid, 0, lambda got: True, {"Origin": "https://evil.example"}, timeout=10))
        raise Fail("a foreign Origin opened the stream")
    except websockets.exceptions.InvalidStatusCode as e:
        check(e.status_code == 403, f"foreign Origin: {e.status_code}")


def t_replay(ctx):
    c, sid = ctx["c"], ctx["sid"]
    r = c.post("anne", "/sessions", {"mode": "replay", "of": sid})
    check(r.status_code == 201, f"replay: {r.text}")
    rid = r.json()["id"]
    r = c.post("bob", f"/sessions/{rid}/actions", {"verb": "close_road", "target": EDGE})
    check(r.status_code == 403, f"an action into a replay: {r.status_code}")
    r = c.post("root", f"/sessions/{rid}/actions", {"verb": "close_road", "target": EDGE})
    check(r.status_code == 403, f"an admin's action into a replay: {r.status_code}")
    check(c.post("anne", f"/sessions/{rid}/clock", {"command": "start", "speed": 60}).status_code == 200, "replay start")
    wait_for("the replay to pass 05:00", lambda: session(c, "eva", rid)["sim_time_s"] >= 300, timeout=60)
    shown = events(c, "eva", rid)
    check(shown and all(e["t_s"] <= session(c, "eva", rid)["sim_time_s"] + 1e-6 for e in shown), "a replay shows the future")
    r = c.post("anne", f"/sessions/{rid}/clock", {"command": "seek", "time_s": 60})
    check(r.status_code == 200, f"seek: {r.text}")
    d = session(c, "eva", rid)
    check(60 <= d["sim_time_s"] < 120, f"after seek: {d['sim_time_s']}")
    check(all(e["t_s"] <= 120 for e in events(c, "eva", rid)), "events after the seek point are still shown")
    r = c.post("anne", f"/sessions/{sid}/clock", {"command": "seek", "time_s": 60})
    check(r.status_code == 400, f"seek on an exercise: {r.status_code}")


def t_live_apart(ctx):
    c, sid = ctx["c"], ctx["sid"]
    r = c.post("anne", "/sessions", {"mode": "live", "territory": "demo"})
    check(r.status_code == 403, f"a director creating a live session: {r.status_code}")
    # Forecasts are tested in forecast_test.py: here, one short one at the start.
    r = c.post("olga", "/sessions", {"mode": "live", "territory": "demo", "forecast": {"every_min": 60, "horizon_min": 5}})
    check(r.status_code == 201, f"live: {r.text}")
    lid = r.json()["id"]
    check(c.get("bob", f"/sessions/{lid}").status_code == 403, "a player reads a live session")
    check(c.post("olga", f"/sessions/{lid}/clock", {"command": "start", "speed": 10}).status_code == 409, "a live clock sped up")
    check(c.post("olga", f"/sessions/{lid}/clock", {"command": "start"}).status_code == 200, "live start")
    check(c.post("olga", f"/sessions/{lid}/clock", {"command": "pause"}).status_code == 409, "a live clock paused")
    check(c.post("olga", f"/sessions/{sid}/actions", {"verb": "close_road", "target": EDGE}).status_code == 403,
          "an operator acting in an exercise")
    wait_for("the live engine", lambda: session(c, "olga", lid)["worker"]["state"] == "ready" or None)
    live_events = events(c, "olga", lid)
    check(all(e.get("by", "").split(":")[0] not in ("player", "director") for e in live_events),
          f"exercise data in a live session: {live_events}")
    check(c.post("olga", f"/sessions/{lid}/clock", {"command": "stop"}).status_code == 200, "live stop")


def t_hostile(ctx):
    c = ctx["c"]
    host, port = "127.0.0.1", int(c.server.url.rsplit(":", 1)[1])
    tls = ssl.create_default_context(cafile=c.cert)

    def raw(payload, read=True):
        with socket.create_connection((host, port), timeout=15) as plain:
            with tls.wrap_socket(plain, server_hostname=host) as s:
                s.sendall(payload)
                if not read:
                    return b""
                data = b""
                try:
                    while True:
                        chunk = s.recv(65536)
                        if not chunk:
                            break
                        data += chunk
                except (socket.timeout, ssl.SSLError, ConnectionResetError):
                    pass
                return data

    def status(answer):
        try:
            return int(answer.split(b" ", 2)[1])
        except (IndexError, ValueError):
            return None

    token = c.tokens["anne"].encode()
    cases = {
        "garbage": (b"\x00\x01\x02 NOT HTTP\r\n\r\n", (400,)),
        "bad version": (b"GET /api/v1/health HTTP/9.9\r\nHost: x\r\n\r\n", (400, 505)),
        "huge header": (b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\nX-A: " + b"a" * 20000 + b"\r\n\r\n", (431,)),
        "huge body": (b"POST /api/v1/login HTTP/1.1\r\nHost: x\r\nContent-Length: 5000000\r\n\r\n" + b"{" * 100000, (413,)),
        "bad json": (b"POST /api/v1/sessions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token +
                     b"\r\nContent-Length: 9\r\nConnection: close\r\n\r\n{\"mode\":[", (400,)),
        "dot dot": (b"GET /api/v1/sessions/../../../etc/passwd HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token +
                    b"\r\nConnection: close\r\n\r\n", (404,)),
        "encoded dot dot": (b"GET /api/v1/sessions/%2e%2e%2f%2e%2e/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                            token + b"\r\nConnection: close\r\n\r\n", (404,)),
        "nul in token": (b"GET /api/v1/sessions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer a\x00b\r\nConnection: close\r\n\r\n",
                         (400, 401)),
        "negative after": (b"GET /api/v1/sessions/" + ctx["sid"].encode() + b"/events?after=-1 HTTP/1.1\r\nHost: x\r\n"
                           b"Authorization: Bearer " + token + b"\r\nConnection: close\r\n\r\n", (400,)),
        "speed nan": (b"POST /api/v1/sessions/" + ctx["sid"].encode() + b"/clock HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                      token + b"\r\nContent-Length: 15\r\nConnection: close\r\n\r\n{\"speed\": NaN }", (400,)),
    }
    failures = []
    for name, (payload, expected) in cases.items():
        got = status(raw(payload))
        if got not in expected:
            failures.append(f"{name}: {got} (expected {expected})")
    # A request that never ends (slowloris) is cut off, and a flood of
    # connections does not stop the server.
    started = time.time()
    raw(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n", read=True)
    check(time.time() - started < 40, "a slow request was not cut off")
    check(not failures, "hostile requests: " + "; ".join(failures))
    r = c.http().get(c.server.api("/health"), timeout=10)
    check(r.status_code == 200, "the server is unwell after the hostile requests")


def t_worker_killed(ctx):
    c, sid = ctx["c"], ctx["sid"]
    d = session(c, "anne", sid)
    if d["state"] != "running":
        c.post("anne", f"/sessions/{sid}/clock", {"command": "resume"})
    # Past the first checkpoint (5 min), so that the worker restarts from one.
    wait_for("sim time to pass 12:00", lambda: session(c, "eva", sid)["sim_time_s"] >= 720, timeout=120)
    before = session(c, "anne", sid)
    os.kill(before["worker"]["pid"], signal.SIGKILL)
    d = wait_for("the worker to come back", lambda: (lambda s: s if s["worker"]["restarts"] == 1 and
                                                    s["worker"]["state"] == "ready" else None)(session(c, "anne", sid)),
                 timeout=120)
    wait_for("time to run on past the kill", lambda: session(c, "eva", sid)["sim_time_s"] > before["sim_time_s"] + 60,
             timeout=120)
    ev = events(c, "eva", sid)
    check([e["seq"] for e in ev] == list(range(1, len(ev) + 1)), "event seqs are not continuous after the kill")
    check(any(e["kind"] == "engine_restarted" for e in ev), "no engine_restarted event")
    check(any(e["seq"] == ctx["action_seq"] for e in ev), "the acknowledged action is gone")
    records = [e["record"] for e in ev if "record" in e]
    check(records == sorted(records) and len(records) == len(set(records)), "records told twice or out of order")
    print(f"      worker killed at {before['sim_time_s']:.0f} s; {d['worker']['diverged_records']} re-run records differed")


def t_server_killed(ctx):
    c, sid, server = ctx["c"], ctx["sid"], ctx["server"]
    before = session(c, "anne", sid)
    seen = events(c, "eva", sid)
    server.stop(signal.SIGKILL)
    # Its workers follow it (they see their socket close).
    wait_for("the workers to exit", lambda: subprocess.run(["pgrep", "-f", "worker --session " + server.data],
                                                           capture_output=True).returncode != 0 or None, timeout=30)
    server.start()
    d = session(c, "anne", sid)  # the token survived
    check(d["state"] == "paused", f"a running session came back {d['state']}")
    check(d["sim_time_s"] >= before["sim_time_s"], f"time went back: {before['sim_time_s']} -> {d['sim_time_s']}")
    ev = events(c, "eva", sid)
    check(len(ev) >= len(seen) and ev[:len(seen)] == seen, "events changed across the kill")
    check([e["seq"] for e in ev] == list(range(1, len(ev) + 1)), "seqs are not continuous after the server kill")
    ready(c, sid)
    check(c.post("anne", f"/sessions/{sid}/clock", {"command": "resume"}).status_code == 200, "resume after restart")
    wait_for("time to run on", lambda: session(c, "eva", sid)["sim_time_s"] > d["sim_time_s"] + 30, timeout=120)
    for f in sorted(os.listdir(os.path.join(server.data, "sessions", sid))):
        if f.endswith(".h5"):
            r = subprocess.run([server.binary, "replay", os.path.join(server.data, "sessions", sid, f), "--verify"],
                               capture_output=True, text=True, timeout=120)
            check(r.returncode == 0, f"{f} does not verify: {r.stdout} {r.stderr}")


def t_sigterm(ctx):
    c, sid, server = ctx["c"], ctx["sid"], ctx["server"]
    code = server.stop(signal.SIGTERM, timeout=40)
    check(code == 0, f"SIGTERM: exit {code}")
    check(subprocess.run(["pgrep", "-f", "worker --session " + server.data], capture_output=True).returncode != 0,
          "a worker outlived the server")
    with open(os.path.join(server.data, "sessions", sid, "session.json")) as f:
        state = json.load(f)["state"]
    check(state == "paused", f"a running session was saved {state}")
    with open(os.path.join(server.data, "audit.jsonl")) as f:
        audit = [json.loads(line) for line in f]
    actions = {a["action"] for a in audit}
    for needed in ("login", "session.create", "session.clock", "session.actions"):
        check(needed in actions, f"{needed} is not in the audit log")
    check([a["seq"] for a in audit] == list(range(1, len(audit) + 1)), "audit seqs are not continuous")
    # The session's recordings hold the audit of what was done to it.
    import h5py
    noted = []
    folder = os.path.join(server.data, "sessions", sid)
    for f in sorted(os.listdir(folder)):
        if f.endswith(".h5"):
            with h5py.File(os.path.join(folder, f), "r", swmr=True) as h5:
                index, payload = h5["/events/index"][:], h5["/events/payload"][:]
                sources = h5["/events/source"].asstr()[:]
                for row, source in zip(index, sources):
                    if row["kind"] == 6:  # audit
                        body = bytes(payload[row["payload_offset"]:row["payload_offset"] + row["payload_size"]])
                        noted.append((source, json.loads(body).get("action")))
    check(("director:anne", "session.clock") in noted and ("player:bob", "session.actions") in noted,
          f"the recordings lack the audit of the session: {noted[:10]}")


def t_injects(ctx):
    """Each cell receives its injects only, in order, on time; held and cancelled ones wait or never come."""
    c, sid = ctx["c"], ctx["sid"]
    # Inject 28 waits for the water at the town gauge of the Alès cadereau to
    # pass 1.5 m: in the flagship, between 07:20 and 08:00. Then the clock
    # stops, so that what is compared below does not move meanwhile.
    water = wait_for("the state-triggered inject", lambda: next(
        (e for e in events(c, "anne", sid) if e["kind"] == "inject_delivered" and e["inject"] == "28"), None), timeout=180)
    check(1200 <= water["t_s"] <= 3600, f"the state-triggered inject came at {water['t_s']} s")
    check(c.post("anne", f"/sessions/{sid}/clock", {"command": "pause"}).status_code == 200, "pause")
    previous = [None]

    def settled():  # a step under way when the pause came ends first
        t = session(c, "anne", sid)["sim_time_s"]
        same, previous[0] = t == previous[0], t
        return same

    wait_for("the engine to stop at the pause", settled, timeout=20, every=0.5)
    now = session(c, "anne", sid)["sim_time_s"]
    check(now >= 1800, f"the exercise is not past 07:30 yet ({now} s)")
    book = {i["id"]: i for i in c.get("anne", f"/sessions/{sid}/injects").json()}
    staff = [e for e in events(c, "anne", sid) if e["kind"] == "inject_delivered"]
    delivered = [e["inject"] for e in staff]
    check(len(delivered) == len(set(delivered)), f"an inject delivered twice: {delivered}")
    check("6" not in delivered and book["6"]["state"] == "cancelled", "a cancelled inject was delivered")
    check("7" not in delivered and book["7"]["state"] == "on_hold", "a held inject was delivered")
    for e in staff:
        i = book[e["inject"]]
        if i["trigger"] == "time":
            check(0 <= e["t_s"] - i["time_s"] <= 10, f"inject {i['id']} due at {i['time_s']} came at {e['t_s']}")
        if i["trigger"] == "after":
            parent = next(p for p in staff if p["inject"] == i["after"])
            check(0 <= e["t_s"] - parent["t_s"] - i["delay_s"] <= 10, f"inject {i['id']} after {i['after']}: {e['t_s']}")
    due = [k for k, i in book.items() if i["trigger"] == "time" and i["time_s"] <= now - 10 and k not in ("6", "7")]
    check(set(due) <= set(delivered), f"due but not delivered: {set(due) - set(delivered)}")
    for user, cell in (("bob", "police"), ("tina", "traffic"), ("rita", "reports")):
        seen = [e for e in events(c, user, sid) if e["type"] == "inject"]
        check(seen, f"{user} ({cell}) got no inject")
        check(all(cell in e["to"] or e["to"] == ["all"] for e in seen), f"{user} got another cell's inject")
        mine = [e["inject"] for e in staff if cell in e["to"] or e["to"] == ["all"]]
        check([e["inject"] for e in seen] == mine, f"{user}: {[e['inject'] for e in seen]} against {mine}")
        check(not any(e.get("staff_only") for e in events(c, user, sid)), f"{user} sees the staff's notes")
        listed = c.get(user, f"/sessions/{sid}/injects").json()
        check({i["id"] for i in listed} == set(mine) and all("expected" not in i for i in listed),
              f"{user}'s inject list: {listed[:2]}")
    # The stream filters the same way.
    bobs = events(c, "bob", sid)
    got = asyncio.run(stream(c, "bob", sid, 0, lambda got: sum(m["type"] in JOURNAL for m in got) >= len(bobs)))
    streamed = [m for m in got if m["type"] in JOURNAL][:len(bobs)]
    check([m["seq"] for m in streamed] == [e["seq"] for e in bobs], "bob's stream and bob's events differ")
    check(all("police" in m["to"] or m["to"] == ["all"] for m in streamed if m["type"] == "inject"),
          "another cell's inject on bob's stream")
    # Released, it comes at once (its time is past); acknowledged by its cell only.
    check(c.post("anne", f"/sessions/{sid}/injects/7", {"command": "release"}).status_code == 200, "release")
    wait_for("the released inject", lambda: c.get("anne", f"/sessions/{sid}/injects").json()[6]["state"] == "delivered" or None,
             timeout=10)
    check(c.post("rita", f"/sessions/{sid}/injects/4/ack", {"comment": "x"}).status_code == 404, "ack by another cell")
    r = c.post("bob", f"/sessions/{sid}/injects/4/ack", {"comment": "Closure kit ready, patrols 7 and 12 on the way"})
    check(r.status_code == 202, f"ack: {r.status_code} {r.text}")
    check(c.post("bob", f"/sessions/{sid}/injects/4/ack", {"comment": "again"}).status_code == 409, "a second ack")
    acked = [e for e in events(c, "tina", sid) if e["kind"] == "inject_acknowledged"]
    check(acked and acked[-1]["by"] == "player:bob", f"the traffic cell (also addressed) does not see the ack: {acked}")
    csv = c.get("anne", f"/sessions/{sid}/msel")
    check(csv.status_code == 200 and csv.headers["Content-Type"].startswith("text/csv"), f"export: {csv.status_code}")
    rows = list(__import__("csv").reader(csv.text.splitlines()))
    check(rows[0][-4:] == ["State", "Delivered", "Acknowledged", "Response"], f"export header: {rows[0]}")
    state = rows[0].index("State")
    check(rows[0][10] == "Effect", f"the flagship's effects are not exported: {rows[0]}")
    states = {r[0]: r[state] for r in rows[1:]}
    check(states["4"] == "acknowledged" and states["6"] == "cancelled" and states["7"] == "delivered", f"export: {states}")
    check(c.get("bob", f"/sessions/{sid}/msel").status_code == 403, "a player exports the MSEL")
    check(c.post("anne", f"/sessions/{sid}/clock", {"command": "resume"}).status_code == 200, "resume")


def t_msel_upload(ctx):
    c = ctx["c"]
    sid = [s["id"] for s in c.get("anne", "/sessions").json() if s["name"] == "Short spate for the API test"][0]
    awkward = ("\ufeffEvent Number,Designated Scenario Time,Event Type,Inject Mode,From,To,Message,"
               "Expected Participant Response,Exercise Objective,Notes\r\n"
               "A-1,07:05,message,phone,\"Préfecture, COD\",crisis,\"Say \"\"hello\"\",\r\nthen act\",,OBJ-1,\r\n"
               "A-2,after A-1 +1min,message,radio,Police,police / traffic,Second,,,\r\n")
    headers = {"Authorization": "Bearer " + c.tokens["anne"], "Content-Type": "text/csv"}
    url = c.server.api(f"/sessions/{sid}/msel")
    r = c.http().post(url, data=awkward.encode("utf-8"), headers=headers, timeout=20)
    check(r.status_code == 200 and r.json() == {"injects": 2}, f"upload: {r.status_code} {r.text}")
    listed = c.get("anne", f"/sessions/{sid}/injects").json()
    check(listed[0]["from"] == "Préfecture, COD" and listed[0]["message"] == 'Say "hello",\r\nthen act', f"{listed[0]}")
    bad = awkward + "A-3,31:99,message,,,crisis,x,,,\r\n"
    r = c.http().post(url, data=bad.encode("utf-8"), headers=headers, timeout=20)
    check(r.status_code == 400 and "msel.csv:5" in r.json()["error"]["message"], f"a bad row: {r.status_code} {r.text}")
    typo = awkward + "A-3,when lg-nowhere > 1m,message,,,crisis,x,,,\r\n"
    r = c.http().post(url, data=typo.encode("utf-8"), headers=headers, timeout=20)
    check(r.status_code == 400 and "lg-nowhere" in r.json()["error"]["message"], f"an unknown gauge: {r.status_code} {r.text}")


ALERT = {"event": "Flash flood", "headline": "Flash flood: stay upstairs, do not drive",
         "description": "The cadereaux are overflowing through the town.", "instruction": "Go upstairs. Do not use your car.",
         "category": "Met", "severity": "Extreme", "urgency": "Immediate", "certainty": "Observed", "response_type": "Shelter",
         "area": {"description": "Nîmes, along the cadereaux",
                  "polygon": [[4.30, 43.78], [4.43, 43.78], [4.43, 43.88], [4.30, 43.88]]}}


def t_alerts(ctx):
    """CAP 1.2 alerts: Exercise in an exercise, validated by the OASIS schema; Actual in live after a second operator."""
    c, sid = ctx["c"], ctx["sid"]
    check(c.post("bob", f"/sessions/{sid}/alerts", ALERT).status_code == 403, "a police player sends an alert")
    check(c.post("cora", f"/sessions/{sid}/alerts", dict(ALERT, status="Actual")).status_code == 403, "an Actual exercise alert")
    bad = dict(ALERT, area={"description": "x", "polygon": [[4.3, 43.8], [4.4, 43.8], [4.3, 43.8]]})
    r = c.post("cora", f"/sessions/{sid}/alerts", bad)
    check(r.status_code == 400 and "polygon" in r.json()["error"]["message"], f"a two-point polygon: {r.text}")
    check(c.post("cora", f"/sessions/{sid}/alerts", dict(ALERT, severity="Huge")).status_code == 400, "a bad severity")
    r = c.post("cora", f"/sessions/{sid}/alerts", ALERT)
    check(r.status_code == 201, f"alert: {r.status_code} {r.text}")
    alert = r.json()
    check(alert["status"] == "Exercise" and alert["state"] == "sent", f"the alert: {alert}")
    reach = alert["reach"]
    check(0 < reach["people"] <= 200000 and reach["zones"], f"reach: {reach}")
    check(reach["people_in_flooded_buildings"] > 0, f"an hour into the flood nobody is in flooded buildings: {reach}")
    cap = c.get("eva", f"/sessions/{sid}/alerts/{alert['id']}.cap")
    check(cap.status_code == 200 and "<status>Exercise</status>" in cap.text, f"CAP: {cap.status_code} {cap.text[:300]}")
    check("<polygon>43.780000,4.300000 43.780000,4.430000" in cap.text, "the CAP polygon is not lat,lon and closed")
    schema = os.path.join(os.environ.get("CADEREAU_SHARED_DATA", os.path.join(os.path.dirname(__file__), "../../../shared/data")),
                          "standards", "cap12.xsd")
    if os.path.exists(schema):
        with tempfile.NamedTemporaryFile("w", suffix=".cap", delete=False) as f:
            f.write(cap.text)
        v = subprocess.run(["xmllint", "--noout", "--schema", schema, f.name], capture_output=True, text=True)
        os.unlink(f.name)
        check(v.returncode == 0, f"the CAP alert does not validate: {v.stderr}")
    else:
        print(f"      CAP schema not found ({schema}): schema validation skipped")
    seen = [e for e in events(c, "bob", sid) if e["type"] == "alert"]
    check(seen and seen[-1]["reach"]["people"] == reach["people"], "the players do not see the alert")
    # Live: an Actual alert waits for a second operator.
    lid = c.post("olga", "/sessions", {"mode": "live", "territory": "demo"}).json()["id"]
    r = c.post("olga", f"/sessions/{lid}/alerts", ALERT)
    check(r.status_code == 201 and r.json()["status"] == "Actual" and r.json()["state"] == "awaiting_approval", f"live: {r.text}")
    aid = r.json()["id"]
    check(c.post("olga", f"/sessions/{lid}/alerts/{aid}/approve", {}).status_code == 403, "an author approves her own alert")
    r = c.post("omar", f"/sessions/{lid}/alerts/{aid}/approve", {})
    check(r.status_code == 200 and r.json()["state"] == "sent" and r.json()["approved_by"] == "operator:omar", f"approve: {r.text}")
    check(c.post("omar", f"/sessions/{lid}/alerts/{aid}/approve", {}).status_code == 409, "approved twice")
    check(c.post("olga", f"/sessions/{lid}/alerts", dict(ALERT, status="Exercise")).status_code == 400, "an Exercise alert in live")
    check(c.post("olga", f"/sessions/{lid}/clock", {"command": "stop"}).status_code == 200, "live stop")


def t_aar(ctx):
    """The after-action review: injects with their answers, actions with their inject and consequences, ratings."""
    c, sid = ctx["c"], ctx["sid"]
    r = c.post("cora", f"/sessions/{sid}/actions", {"verb": "close_road", "target": "v1_10", "inject": "4"})
    check(r.status_code == 202, f"an action answering inject 4: {r.text}")
    wait_for("the engine to apply it", lambda: any(e["kind"] == "action" and e.get("target") == "v1_10"
                                                   for e in events(c, "eva", sid, r.json()["seq"])) or None, timeout=60)
    aar = c.get("eva", f"/sessions/{sid}/aar")
    check(aar.status_code == 200, f"aar: {aar.status_code} {aar.text[:200]}")
    aar = aar.json()
    four = next(i for i in aar["injects"] if i["number"] == "4")
    check(four["acknowledged_by"] == "player:bob" and any(a["by"] == "player:cora" for a in four["actions"]),
          f"inject 4 in the review: {four}")
    check("response_delay_s" in four, "no response delay for inject 4")
    bobs = [a for a in aar["actions"] if a["by"] == "player:bob" and a["target"] == EDGE]
    check(bobs and any(x["kind"] == "road_closed" and x["target"] == EDGE for x in bobs[0]["consequences"]),
          f"bob's closure and its consequences: {bobs}")
    cancelled = next(i for i in aar["injects"] if i["number"] == "6")
    check(cancelled["state"] == "cancelled" and not cancelled["actions"], "the cancelled inject in the review")
    check(aar["objectives"] and all(o["rating"] in "PSMU" for o in aar["objectives"]), f"objectives: {aar['objectives']}")
    kinds = {t["what"] for t in aar["timeline"]}
    check({"inject", "acknowledgement", "action", "alert", "impact"} <= kinds, f"the timeline lacks some: {kinds}")
    objective = aar["objectives"][0]["objective"]
    check(c.post("bob", f"/sessions/{sid}/aar", {"ratings": {objective: "P"}}).status_code == 403, "a player rates")
    check(c.post("anne", f"/sessions/{sid}/aar", {"ratings": {objective: "Q"}}).status_code == 400, "a bad rating")
    r = c.post("anne", f"/sessions/{sid}/aar", {"ratings": {objective: "M"}})
    rated = next(o for o in r.json()["objectives"] if o["objective"] == objective)
    check(rated["rating"] == "M" and rated["rated_by_director"], f"rating: {rated}")
    check(any(p["objective"] == objective for p in r.json()["improvement_plan"]), "an M without an improvement-plan row")
    # What the players changed: the same scenario without their actions, to the same time.
    check(c.post("anne", f"/sessions/{sid}/clock", {"command": "pause"}).status_code == 200, "pause for the counterfactual")
    r = c.post("anne", f"/sessions/{sid}/aar", {"counterfactual": True})
    check(r.status_code == 200 and r.json()["counterfactual"]["state"] == "running", f"counterfactual: {r.text[:300]}")
    check(c.post("anne", f"/sessions/{sid}/aar", {"counterfactual": True}).status_code == 409, "two counterfactuals")
    cf = wait_for("the counterfactual", lambda: (lambda x: x if x["state"] in ("done", "failed") else None)(
        c.get("eva", f"/sessions/{sid}/aar").json()["counterfactual"]), timeout=400, every=2)
    check(cf["state"] == "done", f"the counterfactual failed: {cf}")
    print(f"      at {cf['until_s']:.0f} s with actions {cf['with_actions']}, without {cf['without_actions']}")
    check(any(v != 0 for v in cf["difference"].values()), f"the players' closures changed nothing: {cf}")
    page = c.get("eva", f"/sessions/{sid}/aar.html")
    check(page.status_code == 200 and page.headers["Content-Type"].startswith("text/html") and EDGE in page.text,
          f"aar.html: {page.status_code}")


# The same spate with injects that act on the twin (scenario YAML `injects:`).
INJECT_SCENARIO = SCENARIO.replace("name: Short spate for the API test", "name: Spate with acting injects") + """injects:
  - number: H1
    time: "07:02"
    type: hazard
    from: Flood-prevention officer
    to: flood
    message: The Alès cadereau doubles at the garrigues outlet.
    effect: inflow cadereau d'Alès 600 m3/s, 100 m3/s at +1h
  - number: S1
    time: "07:03"
    type: sensor
    to: flood
    message: The town gauge of the Alès cadereau stops answering.
    effect: sensor lg-ales-ville failed
  - number: S2
    time: "07:03"
    type: sensor
    to: flood
    message: The Uzès gauge jumps.
    effect: sensor lg-uzes-amont 4.5 m
  - number: R1
    time: "07:04"
    type: report
    mode: phone
    from: A nurse
    to: reports
    message: Water in the car park of the hospital.
    effect: at hosp-chu
  - number: I1
    time: "07:05"
    type: incident
    from: Police patrol 3
    to: police
    message: A lorry overturned on the avenue, both ways blocked.
    effect: block h1_8
"""


def t_acting_injects_and_dispatch(ctx):
    """Injects change the hazard, fake a sensor, place a report and block a road; the crisis cell sends a unit."""
    c = ctx["c"]
    # An effect naming what the scenario does not have is refused, and leaves no session behind.
    before = len(c.get("anne", "/sessions").json())
    bad = INJECT_SCENARIO.replace("inflow cadereau d'Alès 600", "inflow cadereau du Vistre 600")
    r = c.post("anne", "/sessions", {"mode": "exercise", "scenario_yaml": bad})
    check(r.status_code == 400 and "cadereau du Vistre" in r.json()["error"]["message"] and "scenario.yaml:" in
          r.json()["error"]["message"], f"an unknown inflow: {r.status_code} {r.text}")
    check(len(c.get("anne", "/sessions").json()) == before, "a refused scenario left a session")
    r = c.post("anne", "/sessions", {"mode": "exercise", "scenario_yaml": INJECT_SCENARIO})
    check(r.status_code == 201, f"create: {r.status_code} {r.text}")
    sid = r.json()["id"]
    listed = c.get("anne", f"/sessions/{sid}/injects").json()
    check([i["id"] for i in listed] == ["H1", "S1", "S2", "R1", "I1"] and listed[0]["effect"].startswith("inflow"),
          f"the scenario's injects: {listed}")
    ready(c, sid)
    check(c.post("anne", f"/sessions/{sid}/clock", {"command": "start", "speed": 60}).status_code == 200, "start")

    def all_effects():
        ev = events(c, "anne", sid)
        kinds = {(e["kind"], e.get("target")) for e in ev}
        return ev if (("forcing_changed", "cadereau d'Alès") in kinds and ("observation", "lg-ales-ville") in kinds
                      and ("observation", "lg-uzes-amont") in kinds and ("action", "h1_8") in kinds) else None

    ev = wait_for("the injects' effects", all_effects, timeout=120)
    forcing = next(e for e in ev if e["kind"] == "forcing_changed")
    check("600 m3/s" in forcing["detail"] and forcing["by"] == "inject H1", f"the hazard change: {forcing}")
    failed = next(e for e in ev if e["kind"] == "observation" and e["target"] == "lg-ales-ville")
    check(failed.get("failed") is True and failed["by"] == "feed", f"the failing gauge: {failed}")
    false_reading = next(e for e in ev if e["kind"] == "observation" and e["target"] == "lg-uzes-amont")
    check(false_reading["value"] == 4.5 and not false_reading.get("failed"), f"the false reading: {false_reading}")
    blocked = next(e for e in ev if e["kind"] == "action" and e["target"] == "h1_8")
    check(blocked["by"] == "inject I1", f"the crash: {blocked}")
    check(any(e["kind"] == "road_closed" and e["target"] == "h1_8" and blocked["record"] in e["causes"] for e in ev),
          "the crash closed no road")
    effects = [e for e in ev if e["kind"] == "inject_effect"]
    check(sorted(e["inject"] for e in effects) == ["H1", "I1", "S1", "S2"], f"the staff's effect events: {effects}")
    ritas = events(c, "rita", sid)
    report = [e for e in ritas if e["kind"] == "inject_delivered"]
    check(len(report) == 1 and report[0]["place"] == {"id": "hosp-chu"}, f"the report's place: {report}")
    check(not [e for e in ritas if e["kind"] == "inject_effect"], "a player sees the injects' effects")

    # Guided procedures: proposed to the cell their trigger concerns, ticked by it.
    mine = c.get("rita", f"/sessions/{sid}/procedures").json()
    check([p["id"] for p in mine] == ["citizen-report"] and mine[0]["reason"] == "inject R1 (report) delivered",
          f"the reports cell's procedures: {mine}")
    check(any(p["id"] == "road-blocked" and p["state"] == "proposed" for p in c.get("tina", f"/sessions/{sid}/procedures").json()),
          "the crash proposed nothing to the traffic cell")
    check(all(p["cell"] == "police" for p in c.get("bob", f"/sessions/{sid}/procedures").json()), "bob sees another cell's")
    staff = {p["id"]: p["state"] for p in c.get("anne", f"/sessions/{sid}/procedures").json()}
    check(staff.get("cadereau-rising") == "proposed" and staff.get("population-alert") == "waiting", f"the staff's: {staff}")
    step = f"/sessions/{sid}/procedures/citizen-report/steps/1"
    r = c.post("rita", step, {"done": True, "comment": "Nurse at the CHU car park, nobody in danger"})
    check(r.status_code == 200 and r.json()["steps"][0]["by"] == "player:rita", f"tick: {r.status_code} {r.text}")
    check(c.post("rita", step, {"done": True}).status_code == 409, "a step ticked twice")
    check(c.post("rita", f"/sessions/{sid}/procedures/citizen-report/steps/9", {}).status_code == 404, "step 9")
    check(c.post("rita", step, {"done": "yes"}).status_code == 400, "done: 'yes'")
    check(c.post("anne", step, {"done": False}).status_code == 403, "the director ticks a cell's step")
    check(c.post("bob", step, {"done": False}).status_code == 404, "police ticks the reports cell's procedure")
    ticked = [e for e in events(c, "rita", sid) if e["kind"] == "procedure_step"]
    check(len(ticked) == 1 and ticked[0]["comment"].startswith("Nurse"), f"the tick on rita's events: {ticked}")
    check(not [e for e in events(c, "bob", sid) if e["type"] == "procedure" and e["procedure"] == "citizen-report"],
          "police sees the reports cell's procedure")

    # The crisis cell sends units; other cells may not.
    unit = {"verb": "dispatch_unit", "unit": "VSAV 1", "from": "sdis-nord", "to": "hosp-chu"}
    r = c.post("bob", f"/sessions/{sid}/actions", unit)
    check(r.status_code == 403 and "crisis" in r.json()["error"]["message"], f"police dispatches: {r.status_code} {r.text}")
    r = c.post("cora", f"/sessions/{sid}/actions", dict(unit, **{"from": "school-jean-zay"}))
    check(r.status_code == 400 and "fire station or a hospital" in r.json()["error"]["message"], f"from a school: {r.text}")
    r = c.post("cora", f"/sessions/{sid}/actions", dict(unit, to={"lon": 4.36}))
    check(r.status_code == 400, f"a place without latitude: {r.status_code} {r.text}")
    r = c.post("cora", f"/sessions/{sid}/actions", dict(unit, inject="R1"))
    check(r.status_code == 202, f"dispatch: {r.status_code} {r.text}")
    r = c.post("cora", f"/sessions/{sid}/actions", unit)
    check(r.status_code == 409 and "already on its way" in r.json()["error"]["message"], f"the same unit twice: {r.text}")
    smur = {"verb": "dispatch_unit", "unit": "SMUR 2", "from": "hosp-kennedy", "to": {"lon": 4.3601, "lat": 43.8367}}
    r = c.post("cora", f"/sessions/{sid}/actions", smur)  # 1 km north of the territory's DEM
    check(r.status_code == 400 and "outside the territory" in r.json()["error"]["message"], f"a place outside: {r.text}")
    r = c.post("cora", f"/sessions/{sid}/actions", dict(smur, to={"lon": 4.3601, "lat": 43.80}))
    check(r.status_code == 202, f"dispatch to a place: {r.status_code} {r.text}")
    ends = wait_for("both units to arrive or stop", lambda: (lambda x: x if len(x) == 2 else None)(
        [e for e in events(c, "anne", sid) if e["kind"] in ("unit_arrived", "unit_stopped")]), timeout=180)
    for end in ends:
        sent = next(e for e in events(c, "anne", sid) if e["kind"] == "unit_dispatched" and e["target"] == end["target"])
        check(sent["record"] == end["causes"][0] and sent["by"] == "player:cora", f"{end} does not answer to {sent}")
    # At x60 the dispatch leaves at whatever game time the checks above took; by 11 min the water of H1 may have
    # reached the unit's road. Either end is right if it says so with its cause.
    vsav = next((e for e in ends if e["target"] == "VSAV 1"), None)
    check(vsav and (vsav["kind"] == "unit_arrived" and "CHU Carémeau in" in vsav["detail"] or
                    vsav["kind"] == "unit_stopped" and "caught by the water" in vsav["detail"] and len(vsav["causes"]) == 2),
          f"VSAV 1: {ends}")
    print(f"      {vsav['detail']}")
    aar = c.get("eva", f"/sessions/{sid}/aar").json()
    sent = [a for a in aar["actions"] if a["verb"] == "dispatch_unit" and a["target"] == "VSAV 1"]
    check(sent and sent[0]["inject"] == "R1" and any(x["kind"] == vsav["kind"] for x in sent[0]["consequences"]),
          f"the dispatch in the review: {sent}")
    guided = {p["id"]: p for p in aar["procedures"]}
    check(guided["citizen-report"]["steps_done"] == 1 and "road-blocked" in guided, f"procedures in the review: {guided}")
    # The counterfactual re-runs the injects' effects, not the players' acts.
    check(c.post("anne", f"/sessions/{sid}/clock", {"command": "pause"}).status_code == 200, "pause")
    check(c.post("anne", f"/sessions/{sid}/aar", {"counterfactual": True}).status_code == 200, "counterfactual")
    cf = wait_for("the counterfactual", lambda: (lambda x: x if x["state"] in ("done", "failed") else None)(
        c.get("eva", f"/sessions/{sid}/aar").json()["counterfactual"]), timeout=400, every=2)
    check(cf["state"] == "done", f"the counterfactual failed: {cf}")
    with open(os.path.join(ctx["server"].data, "sessions", sid, "counterfactual", "commands.jsonl")) as f:
        fed = [json.loads(line)["command"] for line in f]
    check(sorted(x.get("by") or x.get("source") for x in fed) == ["feed", "feed", "inject H1", "inject I1"],
          f"the counterfactual's commands: {fed}")
    check(c.post("anne", f"/sessions/{sid}/clock", {"command": "stop"}).status_code == 200, "stop")


CHECKS = [t_health_and_login, t_login_throttle, t_create, t_permission_matrix, t_clock_and_actions, t_stream_resume,
          t_replay, t_live_apart, t_hostile, t_worker_killed, t_server_killed, t_injects, t_msel_upload, t_alerts, t_aar,
          t_acting_injects_and_dispatch, t_sigterm]


def add_users(cadereau, data, users, password):
    """users: {name: (role, cell or None)}, all with one password."""
    for user, (role, cell) in users.items():
        cmd = [cadereau, "user", "add", user, "--role", role, "--data", data] + (["--cell", cell] if cell else [])
        subprocess.run(cmd, input=password + "\n", text=True, check=True, capture_output=True)


def run_checks(checks, ctx, only=None, after_failure=None):
    """Runs the checks in order, each PASS or FAIL with its time; returns the number that failed."""
    failures = 0
    for t in checks:
        if only and only not in t.__name__:
            continue
        started = time.time()
        try:
            t(ctx)
            print(f"PASS {t.__name__} ({time.time() - started:.1f} s)", flush=True)
        except Exception as e:  # a failed check, or a client error
            failures += 1
            print(f"FAIL {t.__name__}: {e}", flush=True)
            if not isinstance(e, Fail):
                traceback.print_exc()
            if after_failure:
                after_failure(t)
    return failures


def print_log_tail(path, lines=40):
    if os.path.exists(path):
        print(f"---- {os.path.basename(path)} (last {lines} lines)")
        with open(path, errors="replace") as f:
            print("".join(f.readlines()[-lines:]))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cadereau", required=True)
    parser.add_argument("--territory", help="a demo territory folder to use rather than making one")
    parser.add_argument("--only", help="run the checks whose name contains this (later ones need earlier ones)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cadereau-api-") as tmp:
        data = os.path.join(tmp, "data")
        os.makedirs(os.path.join(data, "territories"))
        if args.territory:
            os.symlink(os.path.abspath(args.territory), os.path.join(data, "territories", "demo"))
        add_users(args.cadereau, data, USERS, PASSWORD)
        cert, key = make_certificate(tmp)
        server = Server(args.cadereau, data, cert, key)
        ctx = {"server": server, "c": Client(server, cert)}
        failures = 0
        try:
            server.start()
            failures = run_checks(CHECKS, ctx, args.only)
        finally:
            try:
                server.stop(signal.SIGKILL, timeout=10)
            except Fail:
                pass
            if failures:
                print_log_tail(os.path.join(tmp, "serve.log"))
        return failures


if __name__ == "__main__":
    sys.exit(main())
