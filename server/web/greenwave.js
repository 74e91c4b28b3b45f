"use strict";
// The planners' green-wave panel: a corridor picked on the map (a whole
// street, or light by light from their popups), planned by the server
// (`cadereau greenwave` as a job on the session's territory), then the
// baseline and the plan side by side with their time-space diagrams.

// Rows of the comparison: where the value sits in report.json's KPIs, and
// whether more is better.
const GREENWAVE_ROWS = [
  ["gw_corridor_tt", "corridor_trips/mean_travel_time_s", false],
  ["gw_corridor_delay", "corridor_trips/mean_delay_s", false],
  ["gw_corridor_stops", "corridor_trips/stops_per_vehicle", false],
  ["gw_forward_tt", "forward/mean_travel_time_s", false],
  ["gw_backward_tt", "backward/mean_travel_time_s", false],
  ["gw_cross_tt", "cross_street_trips/mean_travel_time_s", false],
  ["gw_all_tt", "all_trips/mean_travel_time_s", false],
  ["gw_trips", "all_trips/vehicles", true],
  ["gw_queue", "mean_queue_veh", false],
  ["gw_band_forward", "bandwidth_forward_s", true],
  ["gw_band_backward", "bandwidth_backward_s", true],
];

function pointer(doc, path) {
  return path.split("/").reduce((v, k) => (v === null || v === undefined ? v : v[k]), doc);
}

// "07:30" -> 27000 seconds after midnight; "" -> null.
function secondsOfDay(text) {
  const m = /^(\d{1,2}):(\d{2})$/.exec(text.trim());
  return m ? Number(m[1]) * 3600 + Number(m[2]) * 60 : null;
}

class GreenwavePanel {
  constructor(view) {
    this.view = view;
    this.corridor = [];  // light ids, in order
    this.job = null;     // the plan shown
    this.timer = null;
  }

  corridors() { return (this.view.map.doc && this.view.map.doc.corridors) || []; }

  lightName(id) {
    const f = (this.view.map.doc.lights.features || []).find((x) => x.properties.id === id);
    const streets = f && f.properties.streets ? f.properties.streets.join(" / ") : "";
    return streets ? `${id} · ${streets}` : id;
  }

  add(id) {
    if (!this.corridor.includes(id)) this.corridor.push(id);
    this.changed();
    toast(t("gw_added", id, this.corridor.length));
  }

  changed() {
    this.view.map.showCorridor(this.corridor);
    if (this.list) this.renderCorridor();
  }

  render(p) {
    this.panel = p;
    const streets = select([["", t("gw_pick_street")], ...this.corridors().map((c, k) =>
      [String(k), `${c.street} (${c.lights.length} · ${(c.length_m / 1000).toFixed(1)} km)`])], "", { "data-testid": "greenwave-street" });
    streets.onchange = () => {
      const c = this.corridors()[Number(streets.value)];
      if (c) { this.corridor = [...c.lights]; this.changed(); }
    };
    this.list = el("ol", { class: "corridor", "data-testid": "greenwave-corridor" });
    this.speed = el("input", { type: "number", min: 5, max: 130, step: 1, value: 50, "data-testid": "greenwave-speed" });
    this.begin = el("input", { placeholder: "07:00", size: 5, "data-testid": "greenwave-begin" });
    this.end = el("input", { placeholder: "09:00", size: 5, "data-testid": "greenwave-end" });
    this.status = el("div", { class: "gw-status", "data-testid": "greenwave-status", "aria-live": "polite" });
    this.result = el("div", { "data-testid": "greenwave-result" });
    this.history = el("div", { class: "gw-history" });
    const running = this.view.describe.light_plan;
    p.replaceChildren(
      el("h3", { text: t("green_wave") }),
      running ? el("p", { class: "badge-note", "data-testid": "greenwave-applied", text: t("gw_applied", running.plan, running.session) }) : "",
      el("p", { class: "muted", text: t("gw_help") }),
      field(t("gw_street"), streets), this.list,
      el("div", { class: "row" }, field(t("gw_speed"), this.speed), field(t("gw_begin"), this.begin), field(t("gw_end"), this.end)),
      el("div", { class: "row" },
        el("button", { text: t("gw_run"), "data-testid": "greenwave-run", onclick: () => this.run() }),
        el("button", { class: "plain", text: t("clear"), "data-testid": "greenwave-clear", onclick: () => { this.corridor = []; this.changed(); } })),
      this.status, this.result, this.history);
    this.renderCorridor();
    this.view.map.showCorridor(this.corridor);
    // Drawn again (a new language, the tabs rebuilt): the plan shown stays shown.
    if (this.job) this.follow(this.job.job);
    else this.loadHistory();
  }

  renderCorridor() {
    const move = (k, by) => {
      const c = this.corridor, j = k + by;
      if (j < 0 || j >= c.length) return;
      [c[k], c[j]] = [c[j], c[k]];
      this.changed();
    };
    this.list.replaceChildren(...this.corridor.map((id, k) => el("li", { dataset: { light: id } },
      el("span", { text: this.lightName(id) }), " ",
      el("button", { class: "plain", text: "↑", "aria-label": t("gw_up"), onclick: () => move(k, -1) }),
      el("button", { class: "plain", text: "↓", "aria-label": t("gw_down"), onclick: () => move(k, 1) }),
      el("button", { class: "plain", text: "×", "aria-label": t("gw_remove"), onclick: () => { this.corridor.splice(k, 1); this.changed(); } }))));
    if (!this.corridor.length) this.list.append(el("li", { class: "muted empty", text: t("gw_empty") }));
  }

  async run() {
    const body = { tls: this.corridor, speed_kmh: Number(this.speed.value) };
    const begin = secondsOfDay(this.begin.value), end = secondsOfDay(this.end.value);
    if (this.begin.value.trim() && begin === null) return toast(t("gw_bad_time", this.begin.value), "error");
    if (this.end.value.trim() && end === null) return toast(t("gw_bad_time", this.end.value), "error");
    if (begin !== null) body.begin_s = begin;
    if (end !== null) body.end_s = end;
    try {
      const job = await api("POST", `/sessions/${this.view.id}/greenwave`, body);
      this.show(job);
    } catch (e) {
      this.status.replaceChildren(el("p", { class: "error", text: t("refused", e.message) }));
    }
  }

  async follow(number) {
    clearTimeout(this.timer);
    if (this.view.closed) return;
    try {
      this.show(await api("GET", `/sessions/${this.view.id}/greenwave/${number}`));
    } catch (e) {
      this.status.replaceChildren(el("p", { class: "error", text: e.message }));
    }
  }

  show(job) {
    this.job = job;
    this.status.dataset.state = job.state;
    this.status.dataset.job = String(job.job);
    const lights = (job.request && job.request.tls) || [];
    const head = `#${job.job} · ${lights.length} ${t("lights").toLowerCase()} · ${t(`gw_${job.state}`)}`;
    if (job.state === "running") {
      this.status.replaceChildren(el("p", {}, el("span", { class: "spinner" }), ` ${head} · ${durationText(job.elapsed_s || 0)}`));
      this.timer = setTimeout(() => this.follow(job.job), 2000);
      this.result.replaceChildren();
      return;
    }
    this.status.replaceChildren(el("p", { class: job.state === "done" ? "" : "error",
      text: job.problem ? `${head}: ${job.problem}` : `${head}${job.wall_s ? ` (${Math.round(job.wall_s)} s)` : ""}` }));
    this.result.replaceChildren(job.state === "done" ? this.comparison(job) : "");
    this.loadHistory();
  }

  comparison(job) {
    const r = job.report || {}, plan = r.signal_plan || {};
    const base = `${API}/sessions/${this.view.id}/greenwave/${job.job}`;
    const fmt = (v) => (v === null || v === undefined ? "n/a" : Number.isInteger(v) ? String(v) : Number(v).toFixed(2));
    const rows = GREENWAVE_ROWS.map(([label, path, more]) => {
      const a = pointer(r.baseline, path), b = pointer(r.plan, path);
      let change = "", cls = "";
      if (typeof a === "number" && typeof b === "number" && a !== 0) {
        const pct = (100 * (b - a)) / Math.abs(a);
        change = `${pct > 0 ? "+" : ""}${pct.toFixed(1)} %`;
        cls = Math.abs(pct) < 0.5 ? "" : (pct > 0) === more ? "better" : "worse";
      }
      return el("tr", { dataset: { kpi: path } }, el("td", { text: t(label) }), el("td", { text: fmt(a) }),
        el("td", { text: fmt(b) }), el("td", { class: cls, text: change }));
    });
    const corridor = r.corridor || {};
    // The first period's diagrams (a plan by time of day has a pair per period).
    const diagrams = ((plan.periods || [])[0] || {}).diagrams || {};
    const baselineSvg = diagrams.baseline || "time_space_baseline.svg", planSvg = diagrams.plan || "time_space_plan.svg";
    return el("div", {},
      el("p", { text: t("gw_summary", corridor.street || "", Math.round(corridor.length_m || 0), fmt(plan.cycle_s),
        fmt(plan.bandwidth_forward_s), fmt(plan.bandwidth_backward_s)) }),
      el("table", { class: "list gw-kpis", "data-testid": "greenwave-kpis" },
        el("thead", {}, el("tr", {}, ["", t("gw_baseline"), t("gw_plan"), ""].map((h) => el("th", { text: h })))),
        el("tbody", {}, rows)),
      ...(r.warnings || []).map((w) => el("p", { class: "muted", text: `⚠ ${w}` })),
      el("div", { class: "gw-diagrams" },
        el("figure", {}, el("figcaption", { text: t("gw_baseline") }),
          el("img", { src: `${base}/${baselineSvg}`, alt: t("gw_diagram", t("gw_baseline")), "data-testid": "greenwave-diagram" })),
        el("figure", {}, el("figcaption", { text: t("gw_plan") }),
          el("img", { src: `${base}/${planSvg}`, alt: t("gw_diagram", t("gw_plan")), "data-testid": "greenwave-diagram" }))),
      el("p", {}, el("a", { href: `${base}/plan.add.xml`, download: "", "data-testid": "greenwave-download", text: t("gw_download") }),
        " · ", el("a", { href: `${base}/report.json`, target: "_blank", rel: "noopener", text: "report.json" })),
      this.mayApply() ? el("button", { text: t("gw_apply"), "data-testid": "greenwave-apply", onclick: () => this.apply(job) }) : null);
  }

  // A new exercise of the same scenario whose lights run the plan from the start (directors).
  mayApply() {
    const me = this.view.me, d = this.view.describe;
    return this.view.mode === "exercise" && (me.role === "admin" || me.role === "director") && d.scenario_ref;
  }

  async apply(job) {
    const d = this.view.describe;
    try {
      const s = await api("POST", "/sessions", { mode: "exercise", scenario: d.scenario_ref,
        name: `${d.name || d.scenario} · ${t("green_wave").toLowerCase()} #${job.job}`,
        light_plan: { session: this.view.id, plan: job.job } });
      location.hash = `#/s/${s.id}`;
    } catch (e) {
      toast(t("refused", e.message), "error");
    }
  }

  async loadHistory() {
    let list = { jobs: [] };
    try {
      list = await api("GET", `/sessions/${this.view.id}/greenwave`);
    } catch (e) {
      if (!this.view.closed) this.history.replaceChildren(el("p", { class: "error", text: e.message }));
      return;
    }
    const jobs = list.jobs || [];
    if (!this.job && jobs.length) {
      // The latest plan of the session, whoever asked for it.
      const last = jobs[jobs.length - 1];
      this.corridor = [...(last.request.tls || [])];
      this.changed();
      this.follow(last.job);
      return;
    }
    this.history.replaceChildren(jobs.length ? el("details", {}, el("summary", { text: t("gw_history", jobs.length) }),
      el("ul", {}, jobs.slice().reverse().map((j) => el("li", {},
        el("a", { href: "#", text: `#${j.job} ${(j.request.tls || []).join(", ")} · ${t(`gw_${j.state}`)} · ${j.by}`,
          onclick: (ev) => { ev.preventDefault(); this.corridor = [...(j.request.tls || [])]; this.changed(); this.follow(j.job); } })))))
      : "");
  }

  close() { clearTimeout(this.timer); }
}
