#!/usr/bin/python3
"""Load benchmark of the crisis exercise server (`cadereau serve`). Opt-in: not run by CTest.

What it does
    Starts a server on 127.0.0.1 in a temporary data directory (the demo
    territory is generated on a first start, then the server is started again
    so that its memory figures do not include the generation), adds a
    director, an observer and an operator, and runs two sessions of the
    flagship scenario (flash-flood-1988) one after the other:

    run A  the engine alone: a session at --speed with nobody watching; the
           only traffic is one GET /sessions/{id} per second.
    run B  the same on a new session, with --viewers WebSocket viewers on its
           stream (all in one process), two "probe" viewers in processes of
           their own, subscribed first and last (so first and last in the
           server's fan-out, and unhindered by the fleet's client), and
           --rps authenticated HTTP GETs per second (40 % GET /sessions/{id},
           30 % GET /sessions, 30 % GET /sessions/{id}/events?after=<recent>,
           about the last 20 events) over keep-alive connections, paced to
           the rate, with the observer's and the director's tokens (the
           operator's only lists: an operator may not read an exercise).

    Each run measures the same window of --seconds wall seconds, starting
    2 s after the clock started. Load generators run in their own processes
    (asyncio, hand-written HTTP/1.1) and their CPU is reported, because on a
    small machine they compete with the server and the engine for the cores.

What the numbers mean
    engine speed     simulated seconds advanced per wall second over the
                     window, from the once-a-second GET /sessions/{id}
                     (sim_time_s moves in steps of one exchange, 10 sim s,
                     so about +-0.5 % over 60 s). The pacer caps it at the
                     requested speed. Ratio B/A: the cost of the load to the
                     engine (target >= 0.95).
    stream latency   server-stamped: `clock` messages (one a second) carry
                     `elapsed_s`, the running time of the session clock when
                     the server built the message. The monotonic instant the
                     clock started is bracketed from outside by HTTP answers
                     carrying elapsed_s (the POST that started the clock and
                     every poll); latency = receive time - (clock start +
                     elapsed_s), taken with the earliest possible start, so it
                     is an upper bound, loose by at most the bracket width
                     printed. Clock messages go through the same per-client
                     queue and socket as events, so this is the server->client
                     delay of any stream message. Target: p99 < 100 ms over
                     every delivery to every viewer. The fleet's figure
                     includes its own client's queueing (200 sockets in one
                     Python process); the last probe's is the server's delay
                     to the last client of its fan-out.
    event spread     for each event seq, a viewer's receive time minus the
                     earliest receive time of that seq by any viewer (probes
                     included): how unevenly the fan-out reaches clients.
    paced lateness   `kpi` messages carry the sim time t_s of the engine's
                     exchange. The engine computes the step for t_s when the
                     paced clock reaches it (clock start + t_s / speed) and
                     reports it when done, so receive time minus that instant
                     is: the step's compute time + worker->server pipe +
                     server fan-out + client. Meaningless after the engine
                     lagged (it then moves its pace anchor); flagged if so.
    HTTP latency     send of the request to the end of the answer, per
                     request, client side; "from schedule" counts from the
                     instant the pacer meant to send it (so a generator or a
                     server falling behind shows up). Achieved rate counts
                     answers received inside the window.
    server CPU       user+sys of the server process over the window (/proc),
                     in % of one core; likewise the engine worker process and
                     the load generators. "Waiting for a CPU" is the time
                     their threads were runnable but not running
                     (/proc/PID/task/*/schedstat), and "machine CPU busy" is
                     every process on the machine (/proc/stat): together they
                     tell a starved engine from a slow one. "Engine thread
                     samples" is what the worker's main (engine) thread was
                     doing, sampled 10 times a second: R (on or waiting for a
                     CPU) or the call it was blocked in (clock_nanosleep or a
                     futex wait while it paces itself, write when the pipe to
                     the server is full, ...).
    server memory    VmHWM (peak resident) of the server process at the end,
                     and the highest VmRSS sampled during each run. Target:
                     < 300 MB.
    dropped viewers  connections closed by the server (or by failure) before
                     the benchmark closed them, with close code and reason.
    gaps / repeats   event seqs missing or received twice by a viewer (all
                     subscribed with after=0, so each should get 1, 2, 3 ...).
    kpi ahead        kpi messages whose seq (the journal's head) is above the
                     last event seq the viewer had received at that moment:
                     the events up to that seq arrive after the kpi.

Running it (Debian's python3 with its websockets and requests packages):
    bench/server_load.py                 # 200 viewers, 1000 rps, 60 s windows (~3 min)
    bench/server_load.py --quick         # 10 viewers, 100 rps, 15 s (< 1 min, CI smoke)
    bench/server_load.py --tls           # the same over https/wss (self-signed, openssl CLI)
    bench/server_load.py --cadereau build/server/cadereau --viewers 100 --rps 500 --seconds 30
    Other options: --speed X (1..60), --territory DIR (link a demo territory
    rather than generating one), --keep (keep the data directory and the
    server log), --timeout S (overall limit).

Reading it: on a small or shared machine, look at the CPU rows first. When
"machine CPU busy" is near 100 % and the engine thread is mostly R with a
large "waiting for a CPU", the engine is starved of cores (by the load
generators, by other processes), not slowed by the server; a slow server
shows as its own CPU, as latency at both probes, drops, or errors. The
probes get one clock message a second, so their p99 over a 60 s window is
their worst message.

The exit status is 0 whenever the benchmark ran, targets met or not; it is
non-zero only when the setup failed (the server did not start, a session did
not run, the server died, the overall --timeout passed).
"""

import argparse
import asyncio
import collections
import json
import multiprocessing as mp
import os
import queue
import re
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
import time

PASSWORD = "correct horse battery"
SCENARIO = "flash-flood-1988"
USERS = (("bench-director", "director"), ("bench-observer", "observer"), ("bench-operator", "operator"))
WARMUP_S = 2.0
CLK_TCK = os.sysconf("SC_CLK_TCK")
TARGET_LATENCY_MS = 100.0
TARGET_MEMORY_MB = 300.0
TARGET_RATIO = 0.95

mono = time.monotonic  # CLOCK_MONOTONIC, as the server's std::chrono::steady_clock


class SetupError(Exception):
    pass


# ---------------------------------------------------------------- helpers


def percentile(sorted_values, p):
    if not sorted_values:
        return None
    k = max(0, min(len(sorted_values) - 1, int(round(p / 100.0 * len(sorted_values) + 0.5)) - 1))
    return sorted_values[k]


def summary_ms(values_s):
    v = sorted(values_s)
    if not v:
        return None
    return {"n": len(v), "p50": percentile(v, 50) * 1e3, "p99": percentile(v, 99) * 1e3, "max": v[-1] * 1e3}


def fmt_dist(d):
    if d is None:
        return "n/a"
    return f"{d['p50']:.1f} / {d['p99']:.1f} / {d['max']:.1f}"


def client_ssl_context():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def proc_cpu_s(pid):
    """user+sys seconds of a process (all its threads), or None when gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK
    except (OSError, IndexError, ValueError):
        return None


def proc_mem_kb(pid):
    """(VmRSS, VmHWM) in kB, or (None, None) when gone."""
    rss = hwm = None
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1])
                elif line.startswith("VmHWM:"):
                    hwm = int(line.split()[1])
    except OSError:
        pass
    return rss, hwm


def proc_sched_s(pid):
    """(on-CPU s, waiting-for-a-CPU s) summed over a process's threads (/proc/PID/task/*/schedstat)."""
    run = wait = 0
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return None
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                a, b = f.read().split()[:2]
            run, wait = run + int(a), wait + int(b)
        except (OSError, ValueError):
            pass
    return run / 1e9, wait / 1e9


def machine_cpu():
    """(busy, total) clock ticks of all CPUs, from /proc/stat (every process on the machine)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + (v[4] if len(v) > 4 else 0)
    total = sum(v[:8])
    return total - idle, total


SYSCALLS = {0: "read", 1: "write", 7: "poll", 20: "writev", 35: "nanosleep", 44: "sendto", 46: "sendmsg", 74: "fsync",
            75: "fdatasync", 202: "futex", 230: "clock_nanosleep", 232: "epoll_wait", 281: "epoll_pwait", 271: "ppoll"}


def thread_state(pid):
    """What a process's main thread is doing: 'R' (on or waiting for a CPU), or its state and blocking call."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        if state == "R":
            return "R"
        with open(f"/proc/{pid}/syscall") as f:
            first = f.read().split()[0]
        if first == "running":
            return "R"
        n = int(first)
        return f"{state} {SYSCALLS.get(n, 'syscall %d' % n)}"
    except (OSError, ValueError, IndexError):
        return None


def pid_alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


# ---------------------------------------------------------------- the server


class Server:
    def __init__(self, binary, data, log_path, tls_files):
        self.binary, self.data, self.log_path, self.tls_files = binary, data, log_path, tls_files
        self.proc = None
        self.base = None
        self.worker_pids = set()

    def start(self, timeout_s=90.0):
        cmd = [self.binary, "serve", "--data", self.data, "--listen", "127.0.0.1:0"]
        if self.tls_files:
            cmd += ["--tls-cert", self.tls_files[0], "--tls-key", self.tls_files[1]]
        else:
            cmd += ["--plain-http"]
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log)
        log.close()
        lines = queue.Queue()

        def read_stdout(stream):
            for raw in stream:
                lines.put(raw.decode(errors="replace"))
            lines.put(None)

        threading.Thread(target=read_stdout, args=(self.proc.stdout,), daemon=True).start()
        deadline = mono() + timeout_s
        while True:
            try:
                line = lines.get(timeout=max(0.1, min(1.0, deadline - mono())))
            except queue.Empty:
                line = ""
            if line is None or self.proc.poll() is not None:
                raise SetupError(f"the server exited (status {self.proc.poll()}) before listening; log: {self.log_path}")
            m = re.search(r"listening on (https?)://127\.0\.0\.1:(\d+)", line or "")
            if m:
                self.base = f"{m.group(1)}://127.0.0.1:{m.group(2)}"
                return self.base
            if mono() > deadline:
                raise SetupError(f"the server did not say it listens within {timeout_s:.0f} s")

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        """SIGTERM, SIGKILL after 10 s; returns the exit status."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        # Its engine workers end when their socket closes; make sure of it.
        deadline = mono() + 5
        for pid in list(self.worker_pids):
            while pid_alive(pid) and mono() < deadline:
                time.sleep(0.1)
            if pid_alive(pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
        return self.proc.returncode


class Api:
    """A few blocking calls with requests (setup, clock, the 1 Hz poll)."""

    def __init__(self, base):
        import requests

        self.base = base + "/api/v1"
        self.http = requests.Session()
        self.http.verify = False
        self.lock = threading.Lock()

    def call(self, method, path, token=None, body=None, timeout=10):
        headers = {"Authorization": "Bearer " + token} if token else {}
        # verify per request: a session's verify gives way to REQUESTS_CA_BUNDLE.
        return self.http.request(method, self.base + path, json=body, headers=headers, timeout=timeout, verify=False)

    def login(self, user):
        r = self.call("POST", "/login", body={"user": user, "password": PASSWORD})
        if r.status_code != 200:
            raise SetupError(f"login {user}: {r.status_code} {r.text[:200]}")
        return r.json()["token"]


# ---------------------------------------------------------------- monitor (main process)


class Monitor:
    """Polls GET /sessions/{id} once a second, /proc every half second and
    the engine thread's state ten times a second."""

    def __init__(self, server, base, token, sid, shared_last_seq=None):
        self.api = Api(base)  # a connection of its own
        self.server, self.token, self.sid = server, token, sid
        self.shared_last_seq = shared_last_seq
        self.polls = []  # dicts
        self.procs = []  # dicts: t, srv_cpu, srv_rss, srv_sched, wrk_cpu, wrk_rss, wrk_sched, machine, gen_sched
        self.states = []  # (t, the engine thread's state)
        self.worker_pid = None
        self.generators = {}  # name -> pid of a load generator process
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self._poll, daemon=True), threading.Thread(target=self._proc, daemon=True)]

    def start(self):
        for t in self.threads:
            t.start()
        return self

    def stop(self):
        self.stopping.set()
        for t in self.threads:
            t.join(timeout=15)

    def _poll(self):
        next_t = mono()
        while not self.stopping.is_set():
            t_send = mono()
            p = {"t_send": t_send}
            try:
                r = self.api.call("GET", f"/sessions/{self.sid}", self.token, timeout=5)
                p["t_recv"] = mono()
                p["status"] = r.status_code
                if r.status_code == 200:
                    d = r.json()
                    clock = d.get("clock", {})
                    worker = d.get("worker", {})
                    p.update(sim=d.get("sim_time_s"), state=d.get("state"), elapsed=clock.get("elapsed_s"),
                             achieved=clock.get("achieved_speed"), lagging=clock.get("lagging"),
                             last_seq=d.get("last_seq", 0), worker_state=worker.get("state"),
                             restarts=worker.get("restarts", 0), problem=worker.get("problem", ""))
                    if worker.get("pid"):
                        self.worker_pid = worker["pid"]
                        self.server.worker_pids.add(worker["pid"])
                    if self.shared_last_seq is not None:
                        self.shared_last_seq.value = int(p["last_seq"])
            except Exception as e:  # noqa: BLE001 (a benchmark records, it does not stop)
                p["t_recv"] = mono()
                p["error"] = type(e).__name__
            self.polls.append(p)
            next_t += 1.0
            self.stopping.wait(max(0.0, next_t - mono()))

    def _proc(self):
        n = 0
        while not self.stopping.is_set():
            t = mono()
            wpid = self.worker_pid
            if wpid:
                self.states.append((t, thread_state(wpid)))
            if n % 5 == 0:
                x = {"t": t, "srv_cpu": proc_cpu_s(self.server.pid), "srv_rss": proc_mem_kb(self.server.pid)[0],
                     "srv_sched": proc_sched_s(self.server.pid), "machine": machine_cpu(),
                     "gen_sched": sum(v[1] for v in (proc_sched_s(p) for p in self.generators.values()) if v) or None}
                if wpid:
                    x.update(wrk_cpu=proc_cpu_s(wpid), wrk_rss=proc_mem_kb(wpid)[0], wrk_sched=proc_sched_s(wpid))
                self.procs.append(x)
            n += 1
            self.stopping.wait(0.1)

    def anchor_bounds(self, lo, hi):
        """Narrows the bracket of the clock's start instant with every poll."""
        for p in self.polls:
            if p.get("state") == "running" and p.get("elapsed") is not None:
                lo = max(lo, p["t_send"] - p["elapsed"])
                hi = min(hi, p["t_recv"] - p["elapsed"])
        return lo, hi

    def engine_speed(self, t0, t1):
        pts = [(0.5 * (p["t_send"] + p["t_recv"]), p["sim"]) for p in self.polls
               if p.get("status") == 200 and p.get("sim") is not None and t0 <= 0.5 * (p["t_send"] + p["t_recv"]) <= t1]
        if len(pts) < 2 or pts[-1][0] <= pts[0][0]:
            return None
        return (pts[-1][1] - pts[0][1]) / (pts[-1][0] - pts[0][0])

    def window_polls(self, t0, t1):
        return [p for p in self.polls if t0 <= p["t_send"] <= t1]

    def rate_pct(self, t0, t1, key, part=None):
        """Growth of a sampled counter over the window, in % of one core (of wall time)."""
        s = [x for x in self.procs if t0 <= x["t"] <= t1 and x.get(key) is not None]
        if len(s) < 2:
            return None
        a, b = s[0][key], s[-1][key]
        if part is not None:
            a, b = a[part], b[part]
        return 100.0 * (b - a) / (s[-1]["t"] - s[0]["t"])

    def machine_busy_pct(self, t0, t1):
        """All CPUs of the machine, every process: busy share in % of all cores."""
        s = [x["machine"] for x in self.procs if t0 <= x["t"] <= t1]
        if len(s) < 2 or s[-1][1] == s[0][1]:
            return None
        return 100.0 * (s[-1][0] - s[0][0]) / (s[-1][1] - s[0][1])

    def max_rss_mb(self, t0, t1, key):
        s = [x[key] for x in self.procs if t0 <= x["t"] <= t1 and x.get(key) is not None]
        return max(s) / 1024.0 if s else None

    def engine_states(self, t0, t1):
        c = collections.Counter(st for t, st in self.states if t0 <= t <= t1 and st)
        n = sum(c.values())
        return ", ".join(f"{k} {100.0 * v / n:.0f}%" for k, v in c.most_common(3)) if n else "n/a"


# ---------------------------------------------------------------- viewers (child processes)


async def cpu_sampler(samples):
    """(monotonic time, this process's user+sys s) twice a second, for the window's share."""
    while True:
        samples.append((mono(), time.process_time()))
        await asyncio.sleep(0.5)


def viewers_process(cfg, n, tag, ready, connected, stop, out):
    try:
        result = asyncio.run(_viewers(cfg, n, ready, connected, stop))
    except BaseException as e:  # noqa: BLE001
        result = {"fatal": f"{type(e).__name__}: {e}"}
        ready.set()
    result["tag"] = tag
    out.put(result)


async def _viewers(cfg, n, ready, connected, stop):
    import websockets

    url = cfg["ws_base"] + f"/api/v1/sessions/{cfg['sid']}/stream?after=0"
    sslctx = client_ssl_context() if url.startswith("wss:") else None
    headers = {"Authorization": "Bearer " + cfg["token"]}
    gate = asyncio.Semaphore(20)
    closing = {"now": False, "t": None}
    sockets = []
    records = []

    async def one(i):
        rec = {"events": [], "clock": [], "kpi": [], "counts": collections.Counter(), "closed": None,
               "connect_error": None, "kpi_ahead": 0}
        records.append(rec)
        async with gate:
            try:
                ws = await websockets.connect(url, extra_headers=headers, ssl=sslctx, max_size=None, compression=None,
                                              ping_interval=None, open_timeout=30, close_timeout=5)
            except Exception as e:  # noqa: BLE001
                rec["connect_error"] = f"{type(e).__name__}: {e}"[:200]
                return
        sockets.append(ws)
        connected.value += 1
        events, clocks, kpis, counts = rec["events"], rec["clock"], rec["kpi"], rec["counts"]
        max_event_seq = 0
        loads = json.loads
        try:
            async for raw in ws:
                t = mono()
                m = loads(raw)
                kind = m.get("type")
                counts[kind] += 1
                if kind == "event":
                    seq = m["seq"]
                    events.append((seq, t))
                    if seq > max_event_seq:
                        max_event_seq = seq
                elif kind == "clock":
                    if m.get("state") == "running":
                        clocks.append((m.get("elapsed_s"), t))
                elif kind == "kpi":
                    kpis.append((m.get("seq", 0), m.get("t_s"), t))
                    if m.get("seq", 0) > max_event_seq:
                        rec["kpi_ahead"] += 1
                        if rec["kpi_ahead"] == 1:
                            rec["kpi_ahead_example"] = (m.get("seq"), m.get("t_s"), max_event_seq)
        except websockets.ConnectionClosed:
            pass
        except Exception as e:  # noqa: BLE001
            rec["closed"] = {"t": mono(), "code": None, "reason": f"{type(e).__name__}: {e}"[:200]}
            return
        if not closing["now"] and rec["closed"] is None:
            rec["closed"] = {"t": mono(), "code": ws.close_code, "reason": ws.close_reason}

    cpu = []
    sampler = asyncio.ensure_future(cpu_sampler(cpu))
    tasks = [asyncio.ensure_future(one(i)) for i in range(n)]
    deadline = mono() + 60 + n * 0.1
    while connected.value + sum(1 for r in records if r["connect_error"]) < n and mono() < deadline:
        await asyncio.sleep(0.05)
    ready.set()
    while not stop.is_set():
        await asyncio.sleep(0.1)
    closing["now"], closing["t"] = True, mono()
    await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
    await asyncio.wait(tasks, timeout=10)
    sampler.cancel()
    for rec in records:
        rec["counts"] = dict(rec["counts"])
    return {"viewers": records, "cpu": cpu}


# ---------------------------------------------------------------- HTTP load (child process)


def http_process(cfg, rps, nconn, ready, go, times, last_seq, out):
    try:
        result = asyncio.run(_http_load(cfg, rps, nconn, ready, go, times, last_seq))
    except BaseException as e:  # noqa: BLE001
        result = {"fatal": f"{type(e).__name__}: {e}"}
        ready.set()
    out.put(result)


async def _http_load(cfg, rps, nconn, ready, go, times, last_seq):
    host, port = cfg["host"], cfg["port"]
    sslctx = client_ssl_context() if cfg["tls"] else None
    sid, tokens = cfg["sid"], cfg["tokens"]
    # The operator may list exercise sessions but not read one: it only lists.
    readers = [f"Authorization: Bearer {tokens[r]}\r\n" for r in ("observer", "director")]
    listers = [f"Authorization: Bearer {tokens[r]}\r\n" for r in ("observer", "operator", "director")]
    statuses = collections.Counter()  # (kind, status)
    errors = collections.Counter()
    lat = collections.defaultdict(list)  # kind -> [(due, sent, received)]
    state = {"slot": 0, "reconnects": 0}

    async def connect():
        return await asyncio.wait_for(asyncio.open_connection(host, port, ssl=sslctx), timeout=10)

    async def read_answer(reader):
        head = await reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        lower = head.lower()
        close = b"\r\nconnection: close" in lower
        m = re.search(rb"\r\ncontent-length:\s*(\d+)", lower)
        if m:
            await reader.readexactly(int(m.group(1)))
        elif b"\r\ntransfer-encoding: chunked" in lower:
            while True:
                size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                await reader.readexactly(size + 2)
                if size == 0:
                    break
        else:
            close = True
            await reader.read()
        return status, close

    cpu = []
    sampler = asyncio.ensure_future(cpu_sampler(cpu))
    conns = []
    for _ in range(nconn):
        try:
            conns.append(await connect())
        except Exception as e:  # noqa: BLE001
            errors["connect " + type(e).__name__] += 1
    if not conns:
        raise RuntimeError("no HTTP connection could be opened")
    ready.set()
    while not go.is_set():
        await asyncio.sleep(0.01)
    t0, t1 = times[0], times[1]

    async def worker(conn):
        reader, writer = conn
        while True:
            i = state["slot"]
            due = t0 + i / rps
            if due >= t1:
                break
            state["slot"] = i + 1
            delay = due - mono()
            if delay > 0:
                await asyncio.sleep(delay)
            k = i % 10
            if k < 4:
                kind, path = "session", f"/api/v1/sessions/{sid}"
            elif k < 7:
                kind, path = "list", "/api/v1/sessions"
            else:
                kind, path = "events", f"/api/v1/sessions/{sid}/events?after={max(0, last_seq.value - 20)}"
            auth = listers[i % 3] if kind == "list" else readers[i % 2]
            request = (f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n{auth}"
                       "Accept: application/json\r\n\r\n").encode()
            try:
                if writer is None:
                    reader, writer = await connect()
                    state["reconnects"] += 1
                sent = mono()
                writer.write(request)
                status, close = await asyncio.wait_for(read_answer(reader), timeout=10)
                received = mono()
                statuses[(kind, status)] += 1
                lat[kind].append((due, sent, received))
                if close:
                    writer.close()
                    writer = None
            except Exception as e:  # noqa: BLE001
                errors[type(e).__name__] += 1
                if writer is not None:
                    writer.close()
                writer = None
        if writer is not None:
            writer.close()

    await asyncio.wait([asyncio.ensure_future(worker(c)) for c in conns], timeout=(t1 - mono()) + 15)
    planned = int((t1 - t0) * rps)
    sampler.cancel()
    return {"cpu": cpu, "statuses": [(k, s, n) for (k, s), n in statuses.items()], "errors": dict(errors), "lat": dict(lat),
            "issued": state["slot"], "planned": planned, "reconnects": state["reconnects"], "connections": len(conns)}


# ---------------------------------------------------------------- runs


def new_session(api, token, deadline):
    r = api.call("POST", "/sessions", token, {"mode": "exercise", "scenario": SCENARIO})
    if r.status_code != 201:
        raise SetupError(f"POST /sessions: {r.status_code} {r.text[:300]}")
    d = r.json()
    sid = d["id"]
    while True:
        d = api.call("GET", f"/sessions/{sid}", token).json()
        w = d.get("worker", {})
        if w.get("state") == "ready":
            return sid, d
        if w.get("state") == "failed" or mono() > deadline:
            raise SetupError(f"session {sid}: the engine worker is not ready: {w}")
        time.sleep(0.2)


def start_clock(api, token, sid, speed):
    t_send = mono()
    r = api.call("POST", f"/sessions/{sid}/clock", token, {"command": "start", "speed": speed})
    t_recv = mono()
    if r.status_code != 200:
        raise SetupError(f"clock start: {r.status_code} {r.text[:300]}")
    e = r.json()["clock"]["elapsed_s"]
    return t_send, t_send - e, t_recv - e


def stop_session(api, token, sid, server, monitor):
    try:
        api.call("POST", f"/sessions/{sid}/clock", token, {"command": "stop"})
    except Exception:  # noqa: BLE001
        pass
    pid = monitor.worker_pid
    deadline = mono() + 20
    while pid and pid_alive(pid) and mono() < deadline:
        time.sleep(0.2)


def sleep_until(t, server, what):
    while mono() < t:
        if not server.alive():
            raise SetupError(f"the server died during {what} (status {server.proc.returncode})")
        time.sleep(min(0.5, max(0.0, t - mono())))


def run_alone(args, server, api, tokens):
    sid, _ = new_session(api, tokens["director"], mono() + 60)
    mon = Monitor(server, server.base, tokens["observer"], sid).start()
    t_clock, lo, hi = start_clock(api, tokens["director"], sid, args.speed)
    t0 = t_clock + WARMUP_S
    t1 = t0 + args.seconds
    sleep_until(t1 + 0.6, server, "run A")
    mon.stop()
    stop_session(api, tokens["director"], sid, server, mon)
    return {"sid": sid, "t0": t0, "t1": t1, "mon": mon}


def run_loaded(args, server, api, tokens, ctx):
    sid, _ = new_session(api, tokens["director"], mono() + 60)
    host_port = server.base.split("://")[1]
    ws_base = ("wss://" if args.tls else "ws://") + host_port
    out = ctx.Queue()
    children = []

    def child(target, *a):
        p = ctx.Process(target=target, args=a, daemon=True)
        p.start()
        children.append(p)
        return p

    # Viewers subscribe with after=0 before the clock starts, in this order: the
    # first probe (first in the server's fan-out), the fleet, the last probe.
    viewer_cfg = {"ws_base": ws_base, "sid": sid, "token": tokens["observer"]}
    stop = ctx.Event()
    connected = {}
    procs = {}
    for tag, n in (("probe", 1), ("viewers", args.viewers), ("probe_last", 1)):
        ready, connected[tag] = ctx.Event(), ctx.Value("i", 0)
        procs[tag] = child(viewers_process, viewer_cfg, n, tag, ready, connected[tag], stop, out)
        if not ready.wait(timeout=90 + n * 0.2):
            raise SetupError(f"the {tag} did not get ready")
    http_ready, http_go, times, last_seq = ctx.Event(), ctx.Event(), ctx.Array("d", [0.0, 0.0]), ctx.Value("q", 0)
    nconn = max(4, min(64, args.rps // 15))
    http_cfg = {"host": "127.0.0.1", "port": int(host_port.rsplit(":", 1)[1]), "tls": args.tls, "sid": sid,
                "tokens": tokens}
    procs["http"] = child(http_process, http_cfg, args.rps, nconn, http_ready, http_go, times, last_seq, out)
    if not http_ready.wait(timeout=60):
        raise SetupError("the HTTP load did not get ready")
    results = {}
    mon = None
    try:
        mon = Monitor(server, server.base, tokens["observer"], sid, shared_last_seq=last_seq)
        mon.generators = {tag: p.pid for tag, p in procs.items()}
        mon.start()
        t_clock, lo, hi = start_clock(api, tokens["director"], sid, args.speed)
        t0 = t_clock + WARMUP_S
        t1 = t0 + args.seconds
        times[0], times[1] = t0, t1
        http_go.set()
        sleep_until(t1 + 0.6, server, "run B")
        stop.set()
        while len(results) < len(procs):
            try:
                r = out.get(timeout=max(1.0, t1 + 40 - mono()))
            except queue.Empty:
                raise SetupError(f"load generators did not report (have {sorted(results)})") from None
            results[r.get("tag", "http")] = r
    finally:
        stop.set()
        if mon:
            mon.stop()
    for p in children:
        p.join(timeout=10)
        if p.is_alive():
            p.kill()
    stop_session(api, tokens["director"], sid, server, mon)
    for r in results.values():
        if "fatal" in r:
            raise SetupError(f"a load generator failed: {r['fatal']}")
    lo, hi = mon.anchor_bounds(lo, hi)
    return {"sid": sid, "t0": t0, "t1": t1, "t_clock": t_clock, "mon": mon, "anchor": (lo, hi), "results": results,
            "nconn": nconn, "connected": {tag: v.value for tag, v in connected.items()}}


# ---------------------------------------------------------------- analysis and report


def analyse_streams(b, speed):
    t0, t1 = b["t0"], b["t1"]
    lo, hi = b["anchor"]
    probe = b["results"]["probe"]["viewers"]
    last = b["results"]["probe_last"]["viewers"]
    fleet = b["results"]["viewers"]["viewers"]
    everyone = probe + fleet + last
    out = {}
    # Server-stamped stream latency (clock messages).
    def clock_lat(recs):
        return [t - (lo + e) for r in recs for (e, t) in r["clock"] if e is not None and t0 <= t <= t1]

    out["clock_probe"] = summary_ms(clock_lat(probe))
    out["clock_last"] = summary_ms(clock_lat(last))
    out["clock_fleet"] = summary_ms(clock_lat(fleet))
    out["clock_all"] = summary_ms(clock_lat(everyone))
    # Paced lateness (kpi).
    def paced(recs):
        return [t - (lo + ts / speed) for r in recs for (_, ts, t) in r["kpi"] if ts is not None and t0 <= t <= t1]

    out["paced_probe"] = summary_ms(paced(probe))
    out["paced_fleet"] = summary_ms(paced(fleet))
    # Event fan-out spread.
    first = {}
    for r in everyone:
        for seq, t in r["events"]:
            if seq not in first or t < first[seq]:
                first[seq] = t
    in_window = {s for s, t in first.items() if t0 <= t <= t1}
    spread = [t - first[seq] for r in everyone for seq, t in r["events"] if seq in in_window]
    out["spread"] = summary_ms(spread)
    out["spread_probe"] = summary_ms([t - first[seq] for r in probe for seq, t in r["events"] if seq in in_window])
    out["spread_last"] = summary_ms([t - first[seq] for r in last for seq, t in r["events"] if seq in in_window])
    out["events_in_window"] = len(in_window)
    out["deliveries"] = len(spread)
    # Completeness: every viewer should hold seq 1..its last without gaps or repeats.
    gaps = dups = 0
    for r in everyone:
        seqs = [s for s, _ in r["events"]]
        if seqs:
            dups += len(seqs) - len(set(seqs))
            gaps += max(seqs) - len(set(seqs))
    out["gaps"], out["dups"] = gaps, dups
    out["kpi_ahead"] = sum(r["kpi_ahead"] for r in everyone)
    out["kpi_ahead_example"] = next((r["kpi_ahead_example"] for r in everyone if r.get("kpi_ahead_example")), None)
    out["kpi_total"] = sum(r["counts"].get("kpi", 0) for r in everyone)
    out["connect_errors"] = collections.Counter(r["connect_error"] for r in everyone if r["connect_error"])
    drops = [r["closed"] for r in everyone if r["closed"]]
    out["drops"] = collections.Counter(f"{d['code']} {d['reason']!r}" for d in drops)
    out["drop_times"] = sorted(d["t"] - b["t_clock"] for d in drops)
    out["msgs"] = collections.Counter()
    for r in everyone:
        out["msgs"].update(r["counts"])
    return out


def analyse_http(b):
    h = b["results"]["http"]
    t0, t1 = b["t0"], b["t1"]
    all_lat, all_sched, per_kind = [], [], {}
    received = 0
    for kind, rows in h["lat"].items():
        per_kind[kind] = summary_ms([r - s for (_, s, r) in rows])
        all_lat += [r - s for (_, s, r) in rows]
        all_sched += [r - d for (d, _, r) in rows]
        received += sum(1 for (_, _, r) in rows if t0 <= r <= t1)
    by_status = collections.Counter()
    failed = collections.Counter()
    for kind, status, n in h["statuses"]:
        by_status[status] += n
        if status != 200:
            failed[f"{kind} {status}"] += n
    return {"lat": summary_ms(all_lat), "sched": summary_ms(all_sched), "kinds": per_kind, "rate": received / (t1 - t0),
            "status": by_status, "failed": failed, "errors": h["errors"], "issued": h["issued"], "planned": h["planned"],
            "reconnects": h["reconnects"], "connections": h["connections"]}


def log_findings(log_path, since_offset):
    levels = collections.Counter()
    samples = []
    try:
        with open(log_path, errors="replace") as f:
            f.seek(since_offset)
            for line in f:
                m = re.search(r"\[(warning|error|critical)\]", line)
                if m:
                    levels[m.group(1)] += 1
                    text = re.sub(r"^\[[^\]]*\] ", "", line.strip())
                    if len(samples) < 6 and text not in samples:
                        samples.append(text)
    except OSError:
        pass
    return levels, samples


def report(args, a, b, streams, http, server, log_levels, log_samples):
    ma, mb = a["mon"], b["mon"]
    speed_a = ma.engine_speed(a["t0"], a["t1"])
    speed_b = mb.engine_speed(b["t0"], b["t1"])
    ratio = speed_b / speed_a if speed_a and speed_b else None
    _, hwm = proc_mem_kb(server.pid)
    hwm_mb = hwm / 1024.0 if hwm else None
    rss_a, rss_b = ma.max_rss_mb(a["t0"], a["t1"], "srv_rss"), mb.max_rss_mb(b["t0"], b["t1"], "srv_rss")
    lo, hi = b["anchor"]
    W = a["t1"] - a["t0"]

    def lagging(m, t0, t1):
        ps = m.window_polls(t0, t1)
        return sum(1 for p in ps if p.get("lagging")), len(ps)

    def engine_reported(m, t0, t1):
        v = sorted(p["achieved"] for p in m.window_polls(t0, t1) if p.get("achieved"))
        return percentile(v, 50)

    def http_errors(m, t0, t1):
        ps = m.window_polls(t0, t1)
        return sum(1 for p in ps if p.get("status") != 200), len(ps)

    def num(x, f="{:.1f}"):
        return "n/a" if x is None else f.format(x)

    print()
    print(f"cadereau server load benchmark — scenario {SCENARIO} at x{args.speed:g}, window {W:.0f} s "
          f"(from {WARMUP_S:.0f} s after the clock started), {'https/wss' if args.tls else 'plain http/ws'}, "
          f"{os.cpu_count()} CPUs")
    print(f"run A: session {a['sid']}, no viewers.  run B: session {b['sid']}, {args.viewers} viewers + 2 probes "
          f"(connected {b['connected']['viewers']} + {b['connected']['probe'] + b['connected']['probe_last']}), {args.rps} req/s target over {http['connections']} "
          "keep-alive connections")
    print("latencies are p50 / p99 / max in ms:")
    print("  stream latency  = viewer receive time - server build time of `clock` messages (server-stamped by elapsed_s;")
    print(f"                    upper bound, clock-start bracket {1e3 * (hi - lo):.1f} ms wide)")
    print("  event spread    = a viewer's receive time of an event seq - the first receive time of that seq by any viewer")
    print("  paced lateness  = `kpi` receive time - (clock start + t_s/speed): engine step + pipe + fan-out + client")
    print("  HTTP            = request sent -> answer read, client side; 'from schedule' counts from the paced send time")
    print()
    rows = []

    def row(name, va, vb, target="", ok=None):
        status = "" if ok is None else ("met" if ok else "MISSED")
        rows.append((name, va, vb, target, status))

    row("engine speed, sim s / wall s", num(speed_a, "{:.2f}"), num(speed_b, "{:.2f}"))
    row("engine speed ratio B/A", "", num(ratio, "{:.3f}"), f">= {TARGET_RATIO}", None if ratio is None else ratio >= TARGET_RATIO)
    row("engine's own achieved_speed (median)", num(engine_reported(ma, a["t0"], a["t1"]), "{:.2f}"),
        num(engine_reported(mb, b["t0"], b["t1"]), "{:.2f}"))
    la, na = lagging(ma, a["t0"], a["t1"])
    lb, nb = lagging(mb, b["t0"], b["t1"])
    row("polls with clock.lagging true", f"{la}/{na}", f"{lb}/{nb}")
    c = streams["clock_all"]
    row("stream latency, all viewers (ms)", "", fmt_dist(c), f"p99 < {TARGET_LATENCY_MS:.0f}",
        None if c is None else c["p99"] < TARGET_LATENCY_MS)
    row("  stream latency, first probe (ms)", "", fmt_dist(streams["clock_probe"]))
    row("  stream latency, last probe (ms)", "", fmt_dist(streams["clock_last"]))
    row(f"event spread, {streams['deliveries']} deliveries (ms)", "", fmt_dist(streams["spread"]))
    row("  event spread, first probe (ms)", "", fmt_dist(streams["spread_probe"]))
    row("  event spread, last probe (ms)", "", fmt_dist(streams["spread_last"]))
    lag_note = "n/a: engine lagged"
    row("paced lateness, first probe (ms)", "", lag_note if lb else fmt_dist(streams["paced_probe"]))
    row("paced lateness, all viewers (ms)", "", lag_note if lb else fmt_dist(streams["paced_fleet"]))
    row("HTTP latency (ms)", "", fmt_dist(http["lat"]))
    for kind in ("session", "list", "events"):
        if kind in http["kinds"]:
            row(f"  GET {kind} (ms)", "", fmt_dist(http["kinds"][kind]))
    row("HTTP latency from schedule (ms)", "", fmt_dist(http["sched"]))
    row("HTTP achieved req/s", "", f"{http['rate']:.0f} of {args.rps}")
    row("HTTP answers by status", "", " ".join(f"{s}:{n}" for s, n in sorted(http["status"].items())) or "none")
    row("HTTP client errors", "", " ".join(f"{k}:{v}" for k, v in sorted(http["errors"].items())) or "0")
    ea, pa = http_errors(ma, a["t0"], a["t1"])
    eb, pb = http_errors(mb, b["t0"], b["t1"])
    row("monitor polls failed", f"{ea}/{pa}", f"{eb}/{pb}")
    def both(key, part=None):
        return (num(ma.rate_pct(a["t0"], a["t1"], key, part), "{:.0f}"), num(mb.rate_pct(b["t0"], b["t1"], key, part), "{:.0f}"))

    row("machine CPU busy, every process (% of all)", num(ma.machine_busy_pct(a["t0"], a["t1"]), "{:.0f}"),
        num(mb.machine_busy_pct(b["t0"], b["t1"]), "{:.0f}"))
    row("server CPU (% of one core)", *both("srv_cpu"))
    row("  server threads waiting for a CPU (%)", *both("srv_sched", 1))
    row("engine worker CPU (% of one core)", *both("wrk_cpu"))
    row("  worker threads waiting for a CPU (%)", *both("wrk_sched", 1))
    row("  engine thread samples", ma.engine_states(a["t0"], a["t1"]), mb.engine_states(b["t0"], b["t1"]))
    def gen_cpu(k):
        s = [x for x in b["results"][k].get("cpu", []) if b["t0"] <= x[0] <= b["t1"]]
        return None if len(s) < 2 else 100.0 * (s[-1][1] - s[0][1]) / (s[-1][0] - s[0][0])

    row("load generators CPU % (viewers/probes/http)", "",
        "/".join(num(gen_cpu(k), "{:.0f}") for k in ("viewers", "probe", "probe_last", "http")))
    row("  load generators waiting for a CPU (%)", "", num(mb.rate_pct(b["t0"], b["t1"], "gen_sched"), "{:.0f}"))
    row("server RSS, max sampled (MB)", num(rss_a), num(rss_b))
    row("server peak RSS, VmHWM (MB)", "", num(hwm_mb), f"< {TARGET_MEMORY_MB:.0f}", None if hwm_mb is None else hwm_mb < TARGET_MEMORY_MB)
    row("engine worker RSS, max sampled (MB)", num(ma.max_rss_mb(a["t0"], a["t1"], "wrk_rss")),
        num(mb.max_rss_mb(b["t0"], b["t1"], "wrk_rss")))
    ndrop = sum(streams["drops"].values())
    nconnerr = sum(streams["connect_errors"].values())
    row("viewers dropped / failed to connect", "", f"{ndrop} / {nconnerr}", "0", ndrop + nconnerr == 0)
    row("event seq gaps / repeats (all viewers)", "", f"{streams['gaps']} / {streams['dups']}", "0",
        streams["gaps"] + streams["dups"] == 0)
    row("kpi seq ahead of events received", "", f"{streams['kpi_ahead']} of {streams['kpi_total']}")
    row("engine worker restarts", str(max([p.get("restarts", 0) for p in ma.polls] or [0])),
        str(max([p.get("restarts", 0) for p in mb.polls] or [0])))

    w = [max(len(r[i]) for r in rows + [("metric", "run A", "run B", "target", "")]) for i in range(5)]
    head = ("metric", "run A", "run B", "target", "")
    print(f"{head[0]:<{w[0]}}  {head[1]:>{w[1]}}  {head[2]:>{w[2]}}  {head[3]:<{w[3]}}  {head[4]}")
    for r in rows:
        print(f"{r[0]:<{w[0]}}  {r[1]:>{w[1]}}  {r[2]:>{w[2]}}  {r[3]:<{w[3]}}  {r[4]}".rstrip())
    print()
    msgs = streams["msgs"]
    print("stream messages received in run B: " + ", ".join(f"{k} {v}" for k, v in sorted(msgs.items())) +
          f"; {streams['events_in_window']} event seqs first seen in the window")
    if streams["kpi_ahead_example"]:
        seq, t_s, had = streams["kpi_ahead_example"]
        print(f"kpi ahead of events: a viewer got {{type: kpi, seq: {seq}, t_s: {t_s}}} when it had events up to seq {had} "
              "(the events up to the kpi's seq came after it)")
    if streams["drops"]:
        print("dropped viewers (close code, reason: count):")
        for k, n in streams["drops"].most_common():
            print(f"  {k}: {n}")
        t = streams["drop_times"]
        print(f"  first at {t[0]:.1f} s, last at {t[-1]:.1f} s after the clock started")
    if streams["connect_errors"]:
        print("viewers that failed to connect:")
        for k, n in streams["connect_errors"].most_common(5):
            print(f"  {k}: {n}")
    if http["failed"]:
        print("HTTP answers other than 200, by request: " + ", ".join(f"{k}: {n}" for k, n in http["failed"].most_common()))
    if http["issued"] < http["planned"]:
        print(f"HTTP: {http['planned'] - http['issued']} of {http['planned']} planned requests were never sent "
              "(every connection was busy: the server or the generator fell behind)")
    if log_levels:
        print("server log during the runs: " + ", ".join(f"{n} {k}" for k, n in log_levels.items()))
        for s in log_samples:
            print(f"  {s[:200]}")
    else:
        print("server log during the runs: no warnings or errors")


# ---------------------------------------------------------------- main


def make_cert(tmp):
    cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
    r = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                        "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", key, "-out", cert], capture_output=True, timeout=60)
    if r.returncode != 0:
        raise SetupError("openssl could not make a certificate: " + r.stderr.decode(errors="replace")[-300:])
    return cert, key


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description="Load benchmark of `cadereau serve` (see the module docstring).")
    parser.add_argument("--cadereau", default=os.path.join(here, "..", "build", "server", "cadereau"),
                        help="the cadereau binary (default: ../build/server/cadereau next to this script)")
    parser.add_argument("--viewers", type=int, default=None, help="WebSocket viewers in run B (200)")
    parser.add_argument("--rps", type=int, default=None, help="HTTP requests per second in run B (1000)")
    parser.add_argument("--seconds", type=float, default=None, help="measured window of each run, wall s (60)")
    parser.add_argument("--speed", type=float, default=60.0, help="session clock speed, 1..60 (60)")
    parser.add_argument("--quick", action="store_true", help="10 viewers, 100 rps, 15 s: a smoke run under a minute")
    parser.add_argument("--tls", action="store_true", help="serve https/wss with a self-signed certificate")
    parser.add_argument("--territory", help="a demo territory folder to link rather than generating one")
    parser.add_argument("--keep", action="store_true", help="keep the temporary data directory and server log")
    parser.add_argument("--timeout", type=float, default=None, help="overall time limit, s (default from the window)")
    args = parser.parse_args()
    quick = (10, 100, 15.0) if args.quick else (200, 1000, 60.0)
    args.viewers = quick[0] if args.viewers is None else args.viewers
    args.rps = quick[1] if args.rps is None else args.rps
    args.seconds = quick[2] if args.seconds is None else args.seconds
    if not 1 <= args.speed <= 60 or args.viewers < 0 or args.rps < 1 or args.seconds < 3:
        parser.error("needs --speed 1..60, --viewers >= 0, --rps >= 1, --seconds >= 3")
    max_window = 7200.0 / args.speed - WARMUP_S - 3
    if args.seconds > max_window:
        print(f"note: the scenario lasts {7200 / args.speed:.0f} s at x{args.speed:g}: window cut to {max_window:.0f} s")
        args.seconds = max_window
    if args.timeout is None:
        args.timeout = 240 + 2 * args.seconds + args.viewers * 0.3
    binary = os.path.abspath(args.cadereau)
    if not os.access(binary, os.X_OK):
        print(f"server_load: {binary} is not an executable (build it, or pass --cadereau)", file=sys.stderr)
        return 2

    import urllib3

    urllib3.disable_warnings()

    def on_alarm(signum, frame):
        raise TimeoutError(f"the benchmark ran over its {args.timeout:.0f} s limit")

    def on_term(signum, frame):
        raise SystemExit(f"server_load: stopped by signal {signum}")

    signal.signal(signal.SIGALRM, on_alarm)
    signal.signal(signal.SIGTERM, on_term)
    signal.alarm(int(args.timeout))

    ctx = mp.get_context("spawn")
    tmp = tempfile.mkdtemp(prefix="cadereau-bench-")
    data = os.path.join(tmp, "data")
    log_path = os.path.join(tmp, "server.log")
    server = None
    status = 0
    try:
        t_begin = mono()
        os.makedirs(data, mode=0o700)
        for name, role in USERS:
            r = subprocess.run([binary, "user", "add", name, "--role", role, "--data", data], input=PASSWORD + "\n",
                               capture_output=True, text=True, timeout=60)
            if r.returncode != 0:
                raise SetupError(f"user add {name}: {r.stderr.strip()}")
        if args.territory:
            os.makedirs(os.path.join(data, "territories"), exist_ok=True)
            os.symlink(os.path.abspath(args.territory), os.path.join(data, "territories", "demo"))
        tls_files = make_cert(tmp) if args.tls else None
        if not args.territory:
            # First start: generates the demo territory; the measured server is the next one.
            print("generating the demo territory (first start of the server)...", flush=True)
            first = Server(binary, data, log_path, tls_files)
            try:
                first.start(timeout_s=180)
            finally:
                first.stop()
        server = Server(binary, data, log_path, tls_files)
        log_offset = os.path.getsize(log_path) if os.path.exists(log_path) else 0
        server.start()
        api = Api(server.base)
        tokens = {role: api.login(name) for name, role in USERS}
        print(f"server at {server.base} (pid {server.pid}); run A: engine alone for {args.seconds:.0f} s...", flush=True)
        a = run_alone(args, server, api, tokens)
        print(f"run B: {args.viewers} viewers + 2 probes, {args.rps} req/s for {args.seconds:.0f} s...", flush=True)
        b = run_loaded(args, server, api, tokens, ctx)
        streams = analyse_streams(b, args.speed)
        http = analyse_http(b)
        levels, samples = log_findings(log_path, log_offset)
        report(args, a, b, streams, http, server, levels, samples)
        if not server.alive():
            raise SetupError(f"the server exited during the benchmark (status {server.proc.returncode})")
        print(f"(benchmark took {mono() - t_begin:.0f} s)")
    except (SetupError, TimeoutError) as e:
        print(f"server_load: setup failed: {e}", file=sys.stderr)
        status = 2
    except Exception as e:  # noqa: BLE001 (a request that failed outright, an unexpected answer)
        import traceback

        traceback.print_exc()
        print(f"server_load: setup failed: {type(e).__name__}: {e}", file=sys.stderr)
        status = 2
    finally:
        signal.alarm(0)
        for p in mp.active_children():
            p.kill()
        if server is not None:
            code = server.stop()
            if code not in (0, None):
                print(f"server_load: the server's exit status was {code}", file=sys.stderr)
                status = status or 1
        if status and os.path.exists(log_path):
            with open(log_path, errors="replace") as f:
                tail = f.readlines()[-15:]
            print("server log, last lines:\n" + "".join("  " + line for line in tail), file=sys.stderr)
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
