#!/usr/bin/python3
"""Green-wave plans of `cadereau greenwave` against SUMO's own planning tools
on generated signalised corridors, judged by plain `sumo`. Opt-in: not run by
CTest.

What it does
    Generates --corridors corridors (default 6) from a fixed master seed, each
    with a seed of its own derived from it, so corridor k is the same whatever
    --corridors or --only say (the numbers of lights and the speed limits go
    round a shuffled list of their values, so that a few corridors cover
    them). A corridor is one named street ("Avenue Test") through 4 to 8
    static traffic lights 150-450 m apart (unequal blocks on most corridors,
    equal on one; one corridor is one-way), 40-70 km/h, 1 or 2 lanes a
    direction, crossed at each light by a street of its own ("Rue 1", ...)
    with one lane each way and a 150-250 m stub on each side. The network
    comes from plain .nod.xml/.edg.xml through `netconvert` (static programs,
    no turnarounds), whose own programs are the baseline. The demand is one
    hour of vehicles with their routes and random (exponential) headways:
    art_f.N and art_b.N drive the whole arterial forward / backward (300-900
    veh/h a direction, split 50/50 to 70/30), turn.N use part of it (arterial
    traffic turning off onto a cross street, cross traffic turning onto the
    arterial and leaving at a later cross street or at its end), cross.N only
    cross it (60-300 veh/h an approach).

    On each corridor, with the same net and routes, it makes five plans:
      baseline                  the net's own programs
      tlsCycleAdaptation -u     $SUMO_HOME/tools/tlsCycleAdaptation.py -u
      tlsCoordinator            $SUMO_HOME/tools/tlsCoordinator.py
      both                      tlsCoordinator on top of tlsCycleAdaptation -u
                                (sumo loads both files)
      cadereau greenwave        `cadereau greenwave --tls ... --speed-kmh
                                <speed limit>`, its DIR/plan.add.xml
    and runs each in plain `sumo` (never cadereau: an independent referee)
    with seeds 1..--seeds, to 7200 s, two runs at a time, reading every
    tripinfo (unfinished trips included, and not counted as completed).

What the numbers mean (means over seeds)
    art_tt_s     mean duration of the completed art_f/art_b trips (the whole
                 arterial); range: its min-max over seeds; fwd_s/bwd_s by
                 direction
    stops        mean waitingCount of those trips (stops per arterial trip)
    all_tt_s     mean duration of every completed trip
    cross_s      mean duration of the completed cross.N trips
    done         trips completed by 7200 s
    loss_s       mean timeLoss of the completed trips
    dep_delay_s  mean departDelay (time waiting to enter the network), shown
                 because a queue back to an entry hides in it, not in the
                 durations; not judged
    tele         teleports (sumo warnings), not judged
    make_s       wall seconds to make the plan (the tool or the planner)

The goal, per corridor: against the best SUMO tool (of tlsCycleAdaptation -u,
tlsCoordinator and both, the one with the lowest art_tt_s; a tool that fails
is left out), the plan's art_tt_s is at most 0.92 times the tool's, its stops
are fewer, its all_tt_s is no higher (0.5 % tolerance for seed noise) and it
completes no fewer trips. Prints a table per corridor and its verdict, then
`corridors meeting the goal: K/N`; exits 1 when a corridor misses it.

    bench/greenwave_corridors.py [--build DIR] [--corridors 6] [--seeds 3]
        [--only NAME] [--work DIR] [--keep] [--planner-args "..."] [--json FILE]

The default run (6 corridors, 3 seeds) takes about 3 minutes on 2 cores (a
sumo run takes 1-8 s), plus the planner's own time (about 3 minutes a corridor
when last measured). --work keeps every file in DIR (by default a temporary
directory, removed at the end unless --keep); --planner-args are added to the
`cadereau greenwave` command line.
"""

import argparse
import concurrent.futures
import hashlib
import json
import os
import random
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MASTER_SEED = 20240611
DEMAND_S = 3600.0
END_S = 7200
PARALLEL = 2            # sumo processes at a time
STREET = "Avenue Test"
CROSS_SPEED_KMH = 50.0
GOAL_RATIO = 0.92       # plan arterial travel time / best tool's
ALL_TT_TOLERANCE = 0.005  # plan all-trips mean duration may exceed the best tool's by this fraction
TOOLS = ["tlsCycleAdaptation -u", "tlsCoordinator", "both"]
PLANS = ["baseline"] + TOOLS + ["cadereau greenwave"]


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# Corridors


def corridor_seed(k):
    """Corridor k's own seed, from the master seed (stable across Python versions)."""
    return int(hashlib.sha256(f"{MASTER_SEED}:{k}".encode()).hexdigest()[:12], 16)


def cycled(values, k, what):
    """Corridor k's value of `what`: each run of len(values) corridors takes every value once, in an order
    shuffled from the master seed, so that a few corridors already cover the range."""
    rounds, at = divmod(k - 1, len(values))
    order = list(values)
    random.Random(f"{MASTER_SEED}:{what}:{rounds}").shuffle(order)
    return order[at]


def corridor_params(k):
    """The parameters of corridor k (1-based): corridor 2 has equal blocks, corridor 3 is one-way."""
    rng = random.Random(corridor_seed(k))
    n = cycled([4, 5, 6, 7, 8], k, "lights")
    equal = k == 2
    one_way = k == 3
    if equal:
        block = round(rng.uniform(150, 450) / 5) * 5
        spacing = [block] * (n - 1)
    else:
        spacing = [round(rng.uniform(150, 450) / 5) * 5 for _ in range(n - 1)]
    p = {
        "k": k,
        "seed": corridor_seed(k),
        "lights": n,
        "spacing_m": spacing,
        "equal_spacing": equal,
        "one_way": one_way,
        "speed_kmh": cycled([40, 50, 60, 70], k, "speed"),
        "lanes": rng.choice([1, 2]),
        "entry_m": round(rng.uniform(200, 300)),
        "exit_m": round(rng.uniform(200, 300)),
        "stub_north_m": [round(rng.uniform(150, 250)) for _ in range(n)],
        "stub_south_m": [round(rng.uniform(150, 250)) for _ in range(n)],
    }
    if one_way:
        p["split"] = 1.0
        p["art_veh_h"] = {"forward": round(rng.uniform(300, 900)), "backward": 0}
    else:
        # Both directions within 300-900 veh/h, the heavier one carrying `split` of the two.
        split = rng.uniform(0.5, 0.7)
        total = rng.uniform(max(600.0, 300.0 / (1.0 - split)), min(1800.0, 900.0 / split))
        heavy, light = round(total * split), round(total * (1.0 - split))
        forward_heavy = rng.random() < 0.5
        p["split"] = round(split, 3)
        p["art_veh_h"] = {"forward": heavy if forward_heavy else light, "backward": light if forward_heavy else heavy}
    p["turn_off_share"] = round(rng.uniform(0.10, 0.25), 3)   # of the arterial entries, leaving by a cross street
    p["turn_on_share"] = round(rng.uniform(0.15, 0.35), 3)    # of a cross approach, turning onto the arterial
    bases = [rng.uniform(60, 300) for _ in range(n)]
    p["cross_veh_h"] = [{"north": round(min(300, max(60, b * rng.uniform(0.75, 1.25)))),
                         "south": round(min(300, max(60, b * rng.uniform(0.75, 1.25))))} for b in bases]
    # How the turning traffic spreads over the cross streets (random weights).
    p["off_weights"] = [[round(rng.uniform(0.5, 1.5), 3) for _ in range(2)] for _ in range(n)]
    p["leave_at_end_share"] = round(rng.uniform(0.3, 0.6), 3)
    p["name"] = f"c{k}-{n}lights-{'equal' if equal else 'unequal'}" + ("-oneway" if one_way else "")
    p["demand_seed"] = rng.getrandbits(32)
    return p


def tls_ids(p):
    return [f"J{i}" for i in range(1, p["lights"] + 1)]


def write_network(p, d):
    """Writes nodes and edges and runs netconvert; returns the net's path."""
    n = p["lights"]
    xs = [p["entry_m"]]
    for s in p["spacing_m"]:
        xs.append(xs[-1] + s)
    end_x = xs[-1] + p["exit_m"]
    nodes = ['<nodes>', '    <node id="W" x="0.00" y="0.00" type="priority"/>']
    for i, x in enumerate(xs, 1):
        nodes.append(f'    <node id="J{i}" x="{x:.2f}" y="0.00" type="traffic_light"/>')
        nodes.append(f'    <node id="N{i}" x="{x:.2f}" y="{p["stub_north_m"][i - 1]:.2f}" type="priority"/>')
        nodes.append(f'    <node id="S{i}" x="{x:.2f}" y="{-p["stub_south_m"][i - 1]:.2f}" type="priority"/>')
    nodes.append(f'    <node id="E" x="{end_x:.2f}" y="0.00" type="priority"/>')
    nodes.append('</nodes>')
    chain = ["W"] + [f"J{i}" for i in range(1, n + 1)] + ["E"]
    art = f'numLanes="{p["lanes"]}" speed="{p["speed_kmh"] / 3.6:.3f}" priority="3" name="{STREET}"'
    edges = ['<edges>']
    for i in range(n + 1):
        edges.append(f'    <edge id="af{i}" from="{chain[i]}" to="{chain[i + 1]}" {art}/>')
        if not p["one_way"]:
            edges.append(f'    <edge id="ab{i}" from="{chain[i + 1]}" to="{chain[i]}" {art}/>')
    cross = f'numLanes="1" speed="{CROSS_SPEED_KMH / 3.6:.3f}" priority="2"'
    for i in range(1, n + 1):
        for side in "NS":
            s = side.lower()
            edges.append(f'    <edge id="{s}{i}in" from="{side}{i}" to="J{i}" {cross} name="Rue {i}"/>')
            edges.append(f'    <edge id="{s}{i}out" from="J{i}" to="{side}{i}" {cross} name="Rue {i}"/>')
    edges.append('</edges>')
    with open(os.path.join(d, "corridor.nod.xml"), "w") as f:
        f.write("\n".join(nodes) + "\n")
    with open(os.path.join(d, "corridor.edg.xml"), "w") as f:
        f.write("\n".join(edges) + "\n")
    net = os.path.join(d, "corridor.net.xml")
    cmd = ["netconvert", "-n", "corridor.nod.xml", "-e", "corridor.edg.xml", "-o", "corridor.net.xml",
           "--tls.default-type", "static", "--no-turnarounds", "true", "--no-warnings", "true"]
    r = subprocess.run(cmd, cwd=d, capture_output=True, text=True)
    if r.returncode != 0 or not os.path.exists(net):
        raise RuntimeError(f"netconvert failed on {p['name']}:\n{r.stdout}{r.stderr}")
    return net


def streams(p):
    """(kind, edges, veh/h) of every demand stream of the corridor."""
    n = p["lights"]
    fwd = [f"af{i}" for i in range(n + 1)]                 # fwd[i]: into light i+1 (i < n), fwd[n]: to the end
    bwd = [f"ab{i}" for i in range(n, -1, -1)]             # bwd[0]: into light n ... bwd[n]: to the start
    dirs = [("forward", fwd, list(range(1, n + 1)))]
    if not p["one_way"]:
        dirs.append(("backward", bwd, list(range(n, 0, -1))))
    out = []
    off = p["turn_off_share"]
    for name, route, order in dirs:
        q = p["art_veh_h"][name]
        out.append(("art_f" if name == "forward" else "art_b", route, q * (1.0 - off)))
        total_w = sum(sum(p["off_weights"][j - 1]) for j in order)
        for pos, j in enumerate(order):   # turn off at light j: the arterial up to it, then a cross street
            for side_i, side in enumerate("ns"):
                rate = q * off * p["off_weights"][j - 1][side_i] / total_w
                out.append(("turn", route[:pos + 1] + [f"{side}{j}out"], rate))
    on = p["turn_on_share"]
    leave_end = p["leave_at_end_share"]
    for i in range(1, n + 1):
        for side, other in (("n", "s"), ("s", "n")):
            q = p["cross_veh_h"][i - 1]["north" if side == "n" else "south"]
            out.append(("cross", [f"{side}{i}in", f"{other}{i}out"], q * (1.0 - on)))
            for d_i, (name, route, order) in enumerate(dirs):
                share = on / len(dirs)
                pos = order.index(i)
                later = order[pos + 1:]
                rest = route[pos + 1:]                      # from light i on, to the end
                exits = [(None, 1.0 if not later else leave_end)]
                for j in later:
                    exits.append((j, (1.0 - leave_end) / len(later)))
                for j, w in exits:
                    if j is None:
                        edges = [f"{side}{i}in"] + rest
                        out.append(("turn", edges, q * share * w))
                    else:
                        k = order.index(j)
                        for s2 in "ns":
                            edges = [f"{side}{i}in"] + route[pos + 1:k + 1] + [f"{s2}{j}out"]
                            out.append(("turn", edges, q * share * w / 2.0))
    return out


def write_routes(p, d):
    """One hour of vehicles with embedded routes, sorted by depart; returns (path, counts by kind)."""
    rng = random.Random(p["demand_seed"])
    vehicles = []
    for kind, edges, rate in streams(p):
        if rate <= 0:
            continue
        t = rng.expovariate(rate / 3600.0)
        while t < DEMAND_S:
            vehicles.append((round(t, 2), kind, " ".join(edges)))
            t += rng.expovariate(rate / 3600.0)
    vehicles.sort(key=lambda v: (v[0], v[1], v[2]))
    counts = {}
    lines = ['<routes>', '    <vType id="car" sigma="0.5"/>']
    for depart, kind, edges in vehicles:
        n = counts.get(kind, 0)
        counts[kind] = n + 1
        lines.append(f'    <vehicle id="{kind}.{n}" type="car" depart="{depart:.2f}" departLane="best" '
                     f'departSpeed="max">')
        lines.append(f'        <route edges="{edges}"/>')
        lines.append('    </vehicle>')
    lines.append('</routes>')
    path = os.path.join(d, "corridor.rou.xml")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path, counts


# --------------------------------------------------------------------------
# Plans


def run_logged(cmd, log_path, cwd=None):
    """Runs cmd with stdout and stderr into log_path; returns (returncode, wall seconds)."""
    t0 = time.monotonic()
    with open(log_path, "w") as f:
        f.write("$ " + " ".join(shlex.quote(c) for c in cmd) + "\n")
        f.flush()
        try:
            r = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT, cwd=cwd)
            rc = r.returncode
        except OSError as e:
            f.write(f"{e}\n")
            rc = 127
    return rc, time.monotonic() - t0


def log_tail(path, lines=15):
    try:
        with open(path) as f:
            text = f.read().rstrip().splitlines()
    except OSError:
        return ""
    return "\n".join(text[-lines:])


def make_plans(p, d, net, routes, cadereau, planner_args):
    """Every plan of the corridor: {name: {"adds": [...], "status", "error", "make_s", "log"}}."""
    tools = os.path.join(os.environ["SUMO_HOME"], "tools")
    py = sys.executable or "/usr/bin/python3"
    plans = {"baseline": {"adds": [], "status": "ok", "make_s": 0.0}}

    def tool(name, cmd, out, adds, log_name):
        log(f"[{p['name']}] plan: {name}")
        log_path = os.path.join(d, log_name)
        rc, wall = run_logged(cmd, log_path, cwd=d)
        entry = {"adds": adds, "make_s": round(wall, 2), "log": log_path}
        if rc != 0 or not os.path.exists(out) or os.path.getsize(out) == 0:
            entry["status"] = "failed"
            entry["error"] = f"exit {rc}" + (": " + log_tail(log_path, 1) if log_tail(log_path, 1) else "")
            log(f"[{p['name']}] {name} failed (exit {rc}); its log {log_path}:\n{log_tail(log_path)}")
        else:
            entry["status"] = "ok"
        plans[name] = entry

    webster = os.path.join(d, "webster.add.xml")
    coord = os.path.join(d, "coord.add.xml")
    both = os.path.join(d, "both.add.xml")
    tool("tlsCycleAdaptation -u",
         [py, os.path.join(tools, "tlsCycleAdaptation.py"), "-n", net, "-r", routes, "-u", "-b", "0", "-o", webster],
         webster, [webster], "webster.log")
    tool("tlsCoordinator",
         [py, os.path.join(tools, "tlsCoordinator.py"), "-n", net, "-r", routes, "-o", coord],
         coord, [coord], "coord.log")
    if plans["tlsCycleAdaptation -u"]["status"] == "ok":
        tool("both",
             [py, os.path.join(tools, "tlsCoordinator.py"), "-n", net, "-r", routes, "-a", webster, "-o", both],
             both, [webster, both], "both.log")
    else:
        plans["both"] = {"adds": [], "status": "failed", "make_s": 0.0,
                         "error": "tlsCycleAdaptation -u failed, nothing to coordinate"}

    out_dir = os.path.join(d, "greenwave")
    cmd = [cadereau, "greenwave", "--net", net, "--routes", routes, "--tls", ",".join(tls_ids(p)),
           "--speed-kmh", f"{p['speed_kmh']:g}", "--out", out_dir] + planner_args
    log(f"[{p['name']}] plan: cadereau greenwave")
    log_path = os.path.join(d, "greenwave.log")
    rc, wall = run_logged(cmd, log_path)
    plan = os.path.join(out_dir, "plan.add.xml")
    entry = {"adds": [plan], "make_s": round(wall, 2), "log": log_path}
    if rc != 0 or not os.path.exists(plan):
        entry["status"] = "failed"
        entry["error"] = f"exit {rc}" + (": " + log_tail(log_path, 1) if log_tail(log_path, 1) else "")
        log(f"[{p['name']}] cadereau greenwave failed (exit {rc}); its log {log_path} (kept with --keep or --work):\n"
            f"{log_tail(log_path, 40)}")
    else:
        entry["status"] = "ok"
    log(f"[{p['name']}] cadereau greenwave: {wall:.1f} s wall")
    plans["cadereau greenwave"] = entry
    return plans


# --------------------------------------------------------------------------
# Evaluation


def mean(xs):
    return sum(xs) / len(xs) if xs else None


def read_tripinfo(path):
    """KPIs of one sumo run from its tripinfo (unfinished trips written, not counted as completed)."""
    done = []
    unfinished = 0
    for _, el in ET.iterparse(path):
        if el.tag != "tripinfo":
            continue
        a = el.attrib
        arrival = float(a.get("arrival", "-1"))
        if arrival < 0:
            unfinished += 1
        else:
            done.append((a["id"].split(".", 1)[0], float(a["duration"]), int(a.get("waitingCount", "0")),
                         float(a.get("timeLoss", "0")), float(a.get("departDelay", "0"))))
        el.clear()
    art = [t for t in done if t[0] in ("art_f", "art_b")]
    return {
        "art_tt_s": mean([t[1] for t in art]),
        "art_f_tt_s": mean([t[1] for t in art if t[0] == "art_f"]),
        "art_b_tt_s": mean([t[1] for t in art if t[0] == "art_b"]),
        "art_stops": mean([t[2] for t in art]),
        "art_trips": len(art),
        "all_tt_s": mean([t[1] for t in done]),
        "cross_tt_s": mean([t[1] for t in done if t[0] == "cross"]),
        "completed": len(done),
        "unfinished": unfinished,
        "time_loss_s": mean([t[3] for t in done]),
        "depart_delay_s": mean([t[4] for t in done]),
    }


def run_sumo(job):
    """One plain-sumo run; returns (job, kpis or None, error or None)."""
    net, routes, adds, seed, out_dir, label = job
    os.makedirs(out_dir, exist_ok=True)
    trip = os.path.join(out_dir, f"tripinfo.{seed}.xml")
    cmd = ["sumo", "-n", net, "-r", routes]
    if adds:
        cmd += ["-a", ",".join(adds)]
    cmd += ["--seed", str(seed), "--tripinfo-output", trip, "--tripinfo-output.write-unfinished",
            "--no-step-log", "--duration-log.disable", "--xml-validation", "never", "--end", str(END_S)]
    log(f"{label} seed {seed}: sumo")
    t0 = time.monotonic()
    r = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.monotonic() - t0
    with open(os.path.join(out_dir, f"sumo.{seed}.log"), "w") as f:
        f.write("$ " + " ".join(shlex.quote(c) for c in cmd) + "\n" + r.stdout + r.stderr)
    if r.returncode != 0 or not os.path.exists(trip):
        err = (r.stderr.strip().splitlines() or ["no output"])[-1]
        log(f"{label} seed {seed}: sumo failed (exit {r.returncode}): {err}")
        return job, None, f"sumo exit {r.returncode}: {err}"
    k = read_tripinfo(trip)
    k["teleports"] = r.stderr.count("Teleporting vehicle")
    k["sumo_wall_s"] = round(wall, 2)
    log(f"{label} seed {seed}: done in {wall:.1f} s, arterial {k['art_tt_s'] or float('nan'):.1f} s")
    return job, k, None


KPI_KEYS = ["art_tt_s", "art_f_tt_s", "art_b_tt_s", "art_stops", "art_trips", "all_tt_s", "cross_tt_s", "completed",
            "unfinished", "time_loss_s", "depart_delay_s", "teleports"]


def average(per_seed):
    out = {}
    for key in KPI_KEYS:
        vals = [k[key] for k in per_seed.values() if k.get(key) is not None]
        out[key] = mean(vals) if len(vals) == len(per_seed) else None
    tts = [k["art_tt_s"] for k in per_seed.values() if k.get("art_tt_s") is not None]
    out["art_tt_min_s"] = min(tts) if tts else None
    out["art_tt_max_s"] = max(tts) if tts else None
    return out


def evaluate(p, d, net, routes, plans, seeds, pool):
    jobs = []
    for name, plan in plans.items():
        plan["per_seed"] = {}
        if plan["status"] != "ok":
            continue
        sub = os.path.join(d, "eval", name.replace(" ", "_").replace("-", ""))
        for s in seeds:
            jobs.append((net, routes, plan["adds"], s, sub, f"[{p['name']}] {name}"))
    by_label = {f"[{p['name']}] {name}": name for name in plans}
    for job, kpis, err in pool.map(run_sumo, jobs):
        name = by_label[job[5]]
        if kpis is None:
            plans[name]["status"] = "failed"
            plans[name]["error"] = f"seed {job[3]}: {err}"
        else:
            plans[name]["per_seed"][str(job[3])] = kpis
    for plan in plans.values():
        plan["mean"] = average(plan["per_seed"]) if plan["status"] == "ok" else None


# --------------------------------------------------------------------------
# Report


def fmt(v, spec=".1f"):
    return "-" if v is None else format(v, spec)


def table(p, plans):
    cols = [("plan", "<", 22), ("art_tt_s", ">", 9), ("range", ">", 13), ("fwd_s", ">", 7), ("bwd_s", ">", 7),
            ("stops", ">", 6), ("all_tt_s", ">", 9), ("cross_s", ">", 8), ("done", ">", 7), ("loss_s", ">", 7),
            ("dep_delay_s", ">", 12), ("tele", ">", 5), ("make_s", ">", 7)]
    head = "".join(f"{c:{a}{w}}" for c, a, w in cols)
    lines = [head]
    for name in PLANS:
        plan = plans[name]
        if plan["status"] != "ok":
            lines.append(f"{name:<22}  failed: {plan.get('error', '')}"[:200])
            continue
        m = plan["mean"]
        vals = [name, fmt(m["art_tt_s"]), f"{fmt(m['art_tt_min_s'])}-{fmt(m['art_tt_max_s'])}",
                fmt(m["art_f_tt_s"]), fmt(m["art_b_tt_s"]), fmt(m["art_stops"], ".2f"), fmt(m["all_tt_s"]),
                fmt(m["cross_tt_s"]), fmt(m["completed"], ".0f"), fmt(m["time_loss_s"]), fmt(m["depart_delay_s"]),
                fmt(m["teleports"], ".0f"), fmt(plan.get("make_s"))]
        lines.append("".join(f"{v:{a}{w}}" for v, (_, a, w) in zip(vals, cols)))
    return "\n".join(lines)


def verdict(plans):
    ok_tools = [t for t in TOOLS if plans[t]["status"] == "ok" and plans[t]["mean"]["art_tt_s"] is not None]
    ours = plans["cadereau greenwave"]
    v = {"best_tool": None, "met": False, "checks": {}}
    if not ok_tools:
        v["why"] = "no SUMO tool gave a plan: nothing to judge against"
        return v
    best = min(ok_tools, key=lambda t: plans[t]["mean"]["art_tt_s"])
    v["best_tool"] = best
    if ours["status"] != "ok" or ours["mean"]["art_tt_s"] is None:
        v["why"] = "cadereau greenwave gave no plan: " + ours.get("error", "no arterial trip completed")
        return v
    b, m = plans[best]["mean"], ours["mean"]
    ratio = m["art_tt_s"] / b["art_tt_s"]
    v["ratio"] = ratio
    v["checks"] = {
        "arterial_tt": {"ok": ratio <= GOAL_RATIO, "plan": m["art_tt_s"], "tool": b["art_tt_s"], "ratio": ratio,
                        "limit": GOAL_RATIO},
        "stops": {"ok": m["art_stops"] < b["art_stops"], "plan": m["art_stops"], "tool": b["art_stops"]},
        "all_tt": {"ok": m["all_tt_s"] <= b["all_tt_s"] * (1.0 + ALL_TT_TOLERANCE), "plan": m["all_tt_s"],
                   "tool": b["all_tt_s"], "tolerance": ALL_TT_TOLERANCE},
        "completed": {"ok": m["completed"] >= b["completed"], "plan": m["completed"], "tool": b["completed"]},
    }
    v["met"] = all(c["ok"] for c in v["checks"].values())
    return v


def verdict_text(p, v):
    if v["best_tool"] is None or not v["checks"]:
        return f"{p['name']}: MISSED: {v['why']}"
    c = v["checks"]
    mark = lambda ok: "ok  " if ok else "MISS"
    return "\n".join([
        f"{p['name']}: best tool {v['best_tool']}; plan/best arterial travel time {v['ratio']:.3f}",
        f"  {mark(c['arterial_tt']['ok'])} arterial travel time {c['arterial_tt']['plan']:.1f} s vs "
        f"{c['arterial_tt']['tool']:.1f} s: ratio {v['ratio']:.3f} <= {GOAL_RATIO}",
        f"  {mark(c['stops']['ok'])} stops per arterial trip {c['stops']['plan']:.2f} < {c['stops']['tool']:.2f}",
        f"  {mark(c['all_tt']['ok'])} all trips mean duration {c['all_tt']['plan']:.1f} s <= "
        f"{c['all_tt']['tool']:.1f} s (+{ALL_TT_TOLERANCE * 100:.1f} % allowed for seed noise: "
        f"{c['all_tt']['tool'] * (1 + ALL_TT_TOLERANCE):.1f} s)",
        f"  {mark(c['completed']['ok'])} trips completed {c['completed']['plan']:.1f} >= {c['completed']['tool']:.1f}",
        f"  {'MET' if v['met'] else 'MISSED'}",
    ])


def describe(p, counts):
    spacing = ",".join(f"{s:g}" for s in p["spacing_m"])
    art = (f"{p['art_veh_h']['forward']} veh/h one-way" if p["one_way"] else
           f"{p['art_veh_h']['forward']}/{p['art_veh_h']['backward']} veh/h fwd/bwd")
    cross = ",".join(f"{c['north']}/{c['south']}" for c in p["cross_veh_h"])
    vehicles = " ".join(f"{k} {counts.get(k, 0)}" for k in ("art_f", "art_b", "turn", "cross"))
    return (f"== {p['name']}: {p['lights']} lights, blocks {spacing} m, {p['speed_kmh']} km/h, "
            f"{p['lanes']} lane(s) a direction{', one-way' if p['one_way'] else ''}\n"
            f"   arterial {art}, turning off {p['turn_off_share'] * 100:.0f} %, on {p['turn_on_share'] * 100:.0f} % "
            f"of cross; cross N/S veh/h {cross}\n"
            f"   vehicles: {vehicles}")


# --------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description="cadereau greenwave against SUMO's tools on generated corridors, "
                                             "judged by plain sumo")
    ap.add_argument("--build", default=os.path.join(ROOT, "build"), help="build directory (default <repo>/build)")
    ap.add_argument("--corridors", type=int, default=6, help="corridors to generate (default 6)")
    ap.add_argument("--seeds", type=int, default=3, help="sumo seeds 1..N per plan (default 3)")
    ap.add_argument("--only", help="run only the corridor of that name (or its prefix, e.g. c3)")
    ap.add_argument("--work", help="working directory (kept; default a temporary one, removed unless --keep)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary working directory")
    ap.add_argument("--planner-args", default="", help="extra arguments for `cadereau greenwave`")
    ap.add_argument("--json", help="write every figure to this JSON file")
    a = ap.parse_args()
    if a.corridors < 1 or a.seeds < 1:
        ap.error("--corridors and --seeds must be at least 1")
    os.environ.setdefault("SUMO_HOME", "/usr/share/sumo")
    cadereau = os.path.join(os.path.abspath(a.build), "server", "cadereau")
    if not os.access(cadereau, os.X_OK):
        print(f"greenwave_corridors: no cadereau executable at {cadereau} (build it, or give --build)", file=sys.stderr)
        return 2
    for exe in ("sumo", "netconvert"):
        if shutil.which(exe) is None:
            print(f"greenwave_corridors: `{exe}` is not on the PATH", file=sys.stderr)
            return 2
    corridors = [corridor_params(k) for k in range(1, a.corridors + 1)]
    if a.only:
        corridors = [p for p in corridors if p["name"] == a.only or p["name"].startswith(a.only + "-")]
        if not corridors:
            print(f"greenwave_corridors: no corridor {a.only} among the first {a.corridors}", file=sys.stderr)
            return 2
    planner_args = shlex.split(a.planner_args)
    seeds = list(range(1, a.seeds + 1))
    if a.work:
        work = os.path.abspath(a.work)
        os.makedirs(work, exist_ok=True)
        remove = False
    else:
        work = tempfile.mkdtemp(prefix="greenwave_corridors.")
        remove = not a.keep
    log(f"working in {work}")
    t_start = time.monotonic()
    planner_s = 0.0
    results = []
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=PARALLEL) as pool:
            for p in corridors:
                d = os.path.join(work, p["name"])
                os.makedirs(d, exist_ok=True)
                log(f"[{p['name']}] network and demand")
                net = write_network(p, d)
                routes, counts = write_routes(p, d)
                plans = make_plans(p, d, net, routes, cadereau, planner_args)
                planner_s += plans["cadereau greenwave"]["make_s"]
                evaluate(p, d, net, routes, plans, seeds, pool)
                v = verdict(plans)
                print(describe(p, counts))
                print(table(p, plans))
                print(verdict_text(p, v))
                print(flush=True)
                results.append({"name": p["name"], "params": p, "tls": tls_ids(p), "vehicles": counts,
                                "dir": d, "plans": plans, "verdict": v,
                                "planner_wall_s": plans["cadereau greenwave"]["make_s"]})
    finally:
        total_s = time.monotonic() - t_start
        if remove:
            shutil.rmtree(work, ignore_errors=True)
    met = sum(1 for r in results if r["verdict"]["met"])
    print("summary: " + "; ".join(
        f"{r['name']} {'met' if r['verdict']['met'] else 'missed'}"
        + (f" ({r['verdict']['ratio']:.3f} of {r['verdict']['best_tool']})" if r["verdict"].get("ratio") else "")
        for r in results))
    print(f"wall time {total_s:.0f} s, of which cadereau greenwave {planner_s:.0f} s; "
          f"sumo seeds {','.join(map(str, seeds))}")
    print(f"corridors meeting the goal: {met}/{len(results)}")
    if a.json:
        doc = {"goal": {"arterial_tt_ratio_max": GOAL_RATIO, "stops": "fewer than the best tool",
                        "all_tt_tolerance": ALL_TT_TOLERANCE, "completed": "no fewer than the best tool"},
               "master_seed": MASTER_SEED, "seeds": seeds, "end_s": END_S, "planner_args": planner_args,
               "wall_s": round(total_s, 1), "planner_wall_s": round(planner_s, 1),
               "work": None if remove else work, "corridors": results, "met": met, "total": len(results)}
        with open(a.json, "w") as f:
            json.dump(doc, f, indent=1)
    return 0 if met == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
