#!/usr/bin/env python3
"""`cadereau demo --serve`, as a new user starts it: a self-signed certificate that verifies for 127.0.0.1, demo users
whose printed passwords log in with their roles, the flagship exercise ready to start, the console served; started
again, the same certificate, users and exercise. Bad options are refused before anything starts."""

import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

import requests

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from live_support import Fail, check  # noqa: E402

EXERCISE = "Crue éclair du 3 octobre 1988 (démo)"
ROLES = {"direction": ("director", None), "police": ("player", "police"), "circulation": ("player", "traffic"),
         "crise": ("player", "crisis"), "inondation": ("player", "flood"), "signalements": ("player", "reports"),
         "veille": ("operator", None), "observateur": ("observer", None), "admin": ("admin", None)}


RUNNING = []


def start(cadereau, data, log):
    """Starts the demo server; returns the process, the URL and what it printed before listening."""
    proc = subprocess.Popen([cadereau, "demo", "--serve", "--data", data, "--listen", "127.0.0.1:0"],
                            stdout=subprocess.PIPE, stderr=log, text=True)
    RUNNING.append(proc)
    printed = []
    deadline = time.time() + 180  # the first start makes the demo territory
    while time.time() < deadline:
        line = proc.stdout.readline()
        if not line and proc.poll() is not None:
            break
        printed.append(line)
        if line.startswith("listening on "):
            return proc, line.split()[-1].strip(), "".join(printed)
    proc.kill()
    raise Fail(f"the demo server did not start (exit {proc.poll()}): {''.join(printed)[-800:]}")


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    try:
        check(proc.wait(30) == 0, f"the demo server stopped with {proc.returncode}")
    except subprocess.TimeoutExpired:
        proc.kill()
        raise Fail("the demo server did not stop within 30 s of SIGTERM")


def verified(cert):
    """HTTPS that trusts only the demo's own certificate (not the CA bundle the environment may name)."""
    http = requests.Session()
    http.trust_env = False
    http.verify = cert
    return http


def passwords(printed):
    found = {}
    for line in printed.splitlines():
        words = line.split()
        if len(words) >= 4 and words[0] in ROLES:
            found[words[0]] = (words[1], None if words[2] == "-" else words[2], words[3])
    return found


def fingerprint(printed):
    m = re.search(r"fingerprint[^:]*: ([0-9A-F:]{95})", printed)
    check(m, f"no certificate fingerprint printed: {printed[:400]}")
    return m.group(1)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cadereau", required=True)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cadereau-demo-serve-") as tmp:
        data = os.path.join(tmp, "data")
        log = open(os.path.join(tmp, "serve.log"), "ab")
        try:
            # Refused before anything starts, naming the option.
            for extra, word in ((["--out", "x"], "--out"), (["--listen", "nowhere"], "--listen")):
                r = subprocess.run([args.cadereau, "demo", "--serve", "--data", data, *extra], capture_output=True,
                                   text=True, timeout=30)
                check(r.returncode == 2 and word in r.stderr, f"demo --serve {extra}: {r.returncode} {r.stderr[:300]}")
            check(not os.path.exists(data), "a refused start left a data folder")

            proc, url, printed = start(args.cadereau, data, log)
            cert = os.path.join(data, "tls", "cert.pem")
            check("made a self-signed certificate" in printed, f"no certificate made: {printed[:400]}")
            check(oct(os.stat(os.path.join(data, "tls", "key.pem")).st_mode & 0o777) == "0o600", "the key is not private")
            first_print = fingerprint(printed)
            users = passwords(printed)
            check(set(users) == set(ROLES), f"the users printed: {sorted(users)}")
            # The certificate is the client's trust anchor: TLS verifies it fully for 127.0.0.1.
            http = verified(cert)
            check(http.get(url + "/api/v1/health", timeout=10).json()["status"] == "ok", "health over verified TLS")
            page = http.get(url + "/", timeout=10)
            check(page.status_code == 200 and "text/html" in page.headers["Content-Type"], "the console")
            for name, (role, cell, password) in users.items():
                r = http.post(url + "/api/v1/login", json={"user": name, "password": password}, timeout=30)
                check(r.status_code == 200, f"{name} with the printed password: {r.status_code} {r.text[:200]}")
                check((r.json()["role"], r.json().get("cell")) == ROLES[name] == (role, cell),
                      f"{name}: {r.json()} printed as {role} {cell}")
            token = http.post(url + "/api/v1/login", json={"user": "direction", "password": users["direction"][2]},
                              timeout=30).json()["token"]
            sessions = http.get(url + "/api/v1/sessions", headers={"Authorization": f"Bearer {token}"}, timeout=10).json()
            check(len(sessions) == 1 and sessions[0]["mode"] == "exercise" and sessions[0]["name"] == EXERCISE
                  and sessions[0]["state"] == "created", f"the demo's sessions: {sessions}")
            check(EXERCISE in printed and "ready to start" in printed, f"the exercise was not announced: {printed[-400:]}")
            stop(proc)

            # Again: the same certificate, users and exercise.
            proc, url, printed = start(args.cadereau, data, log)
            check("made a self-signed certificate" not in printed and fingerprint(printed) == first_print,
                  "the certificate changed at the second start")
            check(passwords(printed) == users, "the users changed at the second start")
            check("as it was left" in printed, f"the exercise was not found again: {printed[-300:]}")
            http = verified(cert)
            token = http.post(url + "/api/v1/login", json={"user": "direction", "password": users["direction"][2]},
                              timeout=30).json()["token"]
            sessions = http.get(url + "/api/v1/sessions", headers={"Authorization": f"Bearer {token}"}, timeout=10).json()
            check([s["id"] for s in sessions] == [s["id"] for s in sessions if s["name"] == EXERCISE] and len(sessions) == 1,
                  f"a second exercise was made: {sessions}")
            stop(proc)
        except Exception as e:  # a check, or anything unexpected: said, with the server's log, and nothing left running
            print(f"FAIL: {type(e).__name__}: {e}", flush=True)
            log.close()
            with open(os.path.join(tmp, "serve.log"), errors="replace") as f:
                print("---- serve.log (last 30 lines)\n" + "".join(f.readlines()[-30:]))
            return 1
        finally:
            for proc in RUNNING:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
    print("PASS demo --serve: certificate, users, exercise, console; the same again at the second start")
    return 0


if __name__ == "__main__":
    sys.exit(main())
