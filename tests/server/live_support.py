"""What the live-feed tests and benchmarks share: a mosquitto broker on a free
port of 127.0.0.1, `cadereau serve --mqtt` on another, a client logged in
with bearer tokens, ChirpStack uplinks, and bounded waits.

Every wait is bounded; Broker.stop and Server.stop end only the process
they started.
"""

import datetime
import getpass
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import traceback
import uuid

import requests

PASSWORD = "correct horse battery"
USERS = {"olga": ("operator", None), "eva": ("observer", None)}


class Fail(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Fail(message)


def wait_for(what, predicate, timeout=60, every=0.2):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(every)
    raise Fail(f"timed out after {timeout} s waiting for {what} (last: {last})")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def now_iso(offset_s=0.0):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=offset_s)
    return t.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def uplink(dev_eui, obj, time_iso=None, dedup=None):
    return {"deduplicationId": dedup or str(uuid.uuid4()), "time": time_iso or now_iso(),
            "deviceInfo": {"tenantId": "t", "applicationId": "nimes", "deviceName": dev_eui, "devEui": dev_eui.lower()},
            "fCnt": 1, "fPort": 2, "data": "AAE=", "object": obj}


class Broker:
    def __init__(self, folder, port):
        self.folder, self.port, self.proc = folder, port, None
        with open(os.path.join(folder, "mosquitto.conf"), "w") as f:
            # Run as root, mosquitto would become user "mosquitto", which cannot write here.
            f.write(f"user {getpass.getuser()}\nlistener {port} 127.0.0.1\nallow_anonymous true\npersistence true\n"
                    f"persistence_location {folder}/\nautosave_interval 1\nlog_dest file {folder}/mosquitto.log\n")

    def start(self):
        self.proc = subprocess.Popen(["mosquitto", "-c", os.path.join(self.folder, "mosquitto.conf")],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for("mosquitto to listen", lambda: self._listening(), timeout=10)

    def _listening(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return True
        except OSError:
            return False

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()  # mosquitto saves its persistence file on SIGTERM
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def publish(self, payload, dev_eui="0000000000000000"):
        text = payload if isinstance(payload, str) else json.dumps(payload)
        subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(self.port), "-q", "1",
                        "-t", f"application/nimes/device/{dev_eui.lower()}/event/up", "-m", text],
                       check=True, timeout=10)


class Server:
    def __init__(self, binary, data, mqtt_port):
        self.binary, self.data, self.mqtt_port, self.proc, self.url = binary, data, mqtt_port, None, None

    def start(self):
        self.proc = subprocess.Popen(
            [self.binary, "serve", "--data", self.data, "--listen", "127.0.0.1:0", "--plain-http",
             "--mqtt", f"127.0.0.1:{self.mqtt_port}"],
            stdout=subprocess.PIPE, stderr=open(os.path.join(self.data, "..", "serve.log"), "ab"), text=True)
        deadline = time.time() + 60
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            if line.startswith("listening on "):
                self.url = line.split()[-1].strip() + "/api/v1"
                return
            if self.proc.poll() is not None:
                break
        raise Fail("the server did not start")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Client:
    def __init__(self, server):
        self.server, self.tokens = server, {}

    def http(self):
        s = requests.Session()
        s.trust_env = False
        return s

    def login(self, user):
        r = self.http().post(self.server.url + "/login", json={"user": user, "password": PASSWORD}, timeout=20)
        check(r.status_code == 200, f"login {user}: {r.status_code} {r.text}")
        self.tokens[user] = r.json()["token"]

    def headers(self, user):
        return {"Authorization": "Bearer " + self.tokens[user]}

    def get(self, user, path):
        return self.http().get(self.server.url + path, headers=self.headers(user), timeout=20)

    def post(self, user, path, body, raw=None, root=False):
        url = (self.server.url[:-len("/api/v1")] if root else self.server.url) + path
        if raw is not None:
            return self.http().post(url, headers=dict(self.headers(user), **{"Content-Type": "application/json"}),
                                    data=raw, timeout=20)
        return self.http().post(url, headers=self.headers(user), json=body, timeout=20)


def events(c, sid, kind=None):
    out, after = [], 0
    while True:
        r = c.get("olga", f"/sessions/{sid}/events?after={after}")
        check(r.status_code == 200, f"events: {r.status_code}")
        page = r.json()
        if not page:
            return [e for e in out if kind is None or e["kind"] == kind]
        out += page
        after = page[-1]["seq"]


def feeds(c, sid):
    r = c.get("olga", f"/sessions/{sid}/feeds")
    check(r.status_code == 200, f"feeds: {r.status_code} {r.text}")
    return r.json()


def prepare_data(cadereau, data, territories):
    """A server's data folder: `territories` {name: folder} linked in, USERS added."""
    os.makedirs(os.path.join(data, "territories"))
    for name, folder in territories.items():
        os.symlink(os.path.abspath(folder), os.path.join(data, "territories", name))
    for user, (role, cell) in USERS.items():
        subprocess.run([cadereau, "user", "add", user, "--role", role, "--data", data],
                       input=PASSWORD + "\n", text=True, check=True, capture_output=True, timeout=60)


# One short forecast at the start of a live session, then one an hour: the
# feed tests do not pay for two-hour forecasts (forecast_test.py tests them).
LIGHT_FORECASTS = {"every_min": 60, "horizon_min": 5}


def open_live_session(c, territory="demo", user="olga", timeout=120, forecast=None):
    """A live session on `territory`, its engine ready, its clock started, the broker subscribed: its id."""
    r = c.post(user, "/sessions", {"mode": "live", "territory": territory, "forecast": forecast or LIGHT_FORECASTS})
    check(r.status_code == 201, f"live session: {r.status_code} {r.text}")
    sid = r.json()["id"]
    wait_for("the engine", lambda: c.get(user, f"/sessions/{sid}").json()["worker"]["state"] == "ready", timeout)
    check(c.post(user, f"/sessions/{sid}/clock", {"command": "start"}).status_code == 200, "start the live clock")
    wait_for("the server's subscription", lambda: feeds(c, sid)["server"]["broker"]["connected"], timeout=30)
    return sid


def run_live_test(cadereau, territories, prefix, checks, context, prepare=None):
    """Starts a broker and `cadereau serve --mqtt` on a fresh data folder
    (`territories` {name: folder}, the USERS added), logs them in, and runs
    each check with the context `context(c, broker, tmp, data, prepared)`
    returns (`prepared`: what `prepare(tmp)` made first, before any
    process). Prints PASS or FAIL per check, and the server's and the
    broker's logs after a failure. Returns the number of failures; 0 with a
    SKIP line when mosquitto is not installed."""
    if not shutil.which("mosquitto") or not shutil.which("mosquitto_pub"):
        print("SKIP: mosquitto and mosquitto_pub are not installed (scripts/setup.sh installs them)")
        return 0
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        data = os.path.join(tmp, "data")
        prepare_data(cadereau, data, territories)
        broker_dir = os.path.join(tmp, "broker")
        os.makedirs(broker_dir)
        broker = Broker(broker_dir, free_port())
        server = Server(cadereau, data, broker.port)
        failures = 0
        try:
            prepared = prepare(tmp) if prepare else None
            broker.start()
            server.start()
            c = Client(server)
            for user in USERS:
                c.login(user)
            ctx = context(c, broker, tmp, data, prepared)
            for t in checks:
                started = time.time()
                try:
                    t(ctx)
                    print(f"PASS {t.__name__} ({time.time() - started:.1f} s)", flush=True)
                except Exception as e:
                    failures += 1
                    print(f"FAIL {t.__name__}: {e}", flush=True)
                    if not isinstance(e, Fail):
                        traceback.print_exc()
        except Exception as e:
            failures += 1
            print(f"FAIL setting up: {e}", flush=True)
        finally:
            server.stop()
            broker.stop()
            if failures:
                for log in (os.path.join(tmp, "serve.log"), os.path.join(broker_dir, "mosquitto.log")):
                    if os.path.exists(log):
                        print(f"---- {log} (last 30 lines)")
                        with open(log, errors="replace") as f:
                            print("".join(f.readlines()[-30:]))
        return failures
