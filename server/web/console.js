"use strict";
// The operators' console: login, the sessions, and one screen per session
// (map, clock, records, the panels of the user's role). It uses the
// server's public API and stream only, with the login cookie.

const API = "/api/v1";

class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

async function api(method, path, body) {
  const options = { method, credentials: "same-origin", headers: {} };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch(API + path, options);
  const text = await response.text();
  let data = text;
  try { data = text ? JSON.parse(text) : null; } catch (_) { /* not JSON */ }
  if (!response.ok) {
    const message = data && data.error ? data.error.message : `${response.status} ${text.slice(0, 200)}`;
    if (response.status === 401 && path !== "/login") app.loggedOut();
    throw new ApiError(response.status, message);
  }
  return data;
}

function toast(message, kind = "info") {
  const box = document.getElementById("toast");
  const item = el("div", { class: `toast ${kind}`, text: message });
  box.append(item);
  setTimeout(() => item.remove(), kind === "error" ? 8000 : 4000);
}

// What the user's role may do, so that the screen offers only that; the
// server decides anyway (server/src/service/permissions.h).
const CELL_VERBS = {
  police: ["close_road", "close_road_to_traffic", "reopen_road", "lower_bollard", "raise_bollard"],
  traffic: ["speed_limit", "restore_speed_limit", "light_program", "light_off", "light_flashing", "restore_light"],
};
CELL_VERBS.crisis = [...CELL_VERBS.police, ...CELL_VERBS.traffic, "dispatch_unit"];

function mayUse(me, mode, verb) {
  if (mode === "replay") return false;
  if (me.role === "admin" || (me.role === "operator" && mode === "live")) return true;
  return me.role === "player" && mode === "exercise" && (CELL_VERBS[me.cell] || []).includes(verb);
}
function mayControlClock(me, mode) {
  return me.role === "admin" || (me.role === "director" && mode !== "live") || (me.role === "operator" && mode === "live");
}
function maySendAlert(me, mode) {
  return mode !== "replay" && (me.role === "admin" || (me.role === "operator" && mode === "live") ||
    (me.role === "player" && me.cell === "crisis" && mode === "exercise"));
}
// Green-wave plans (permission plan_lights): the traffic engineers' work.
function mayPlanLights(me, mode) {
  return mode !== "replay" && (me.role === "admin" || (me.role === "director" && mode === "exercise") ||
    (me.role === "operator" && mode === "live") || (me.role === "player" && me.cell === "traffic" && mode === "exercise"));
}
function mayDirect(me, mode) { return mode === "exercise" && (me.role === "admin" || me.role === "director"); }

class App {
  constructor() {
    this.me = JSON.parse(sessionStorage.getItem("cadereau.me") || "null");
    this.session = null;
  }

  start() {
    applyLabels();
    document.getElementById("lang").addEventListener("click", toggleLanguage);
    document.addEventListener("languagechange", () => this.route());
    document.getElementById("logout").addEventListener("click", () => this.logout());
    document.getElementById("login-form").addEventListener("submit", (ev) => { ev.preventDefault(); this.login(); });
    document.getElementById("new-session").addEventListener("submit", (ev) => { ev.preventDefault(); this.createSession(); });
    window.addEventListener("hashchange", () => this.route());
    document.addEventListener("keydown", (ev) => this.onKey(ev));
    this.route();
  }

  show(view) {
    for (const v of document.querySelectorAll(".view")) v.hidden = v.id !== view;
    const inSession = view === "session-view";
    document.getElementById("clock").hidden = !inSession;
    if (!inSession) {
      document.getElementById("director-clock").hidden = true;
      document.getElementById("replay-bar").hidden = true;
      document.getElementById("mode-badge").hidden = true;
      document.getElementById("session-title").textContent = "";
    }
    document.getElementById("logout").hidden = !this.me;
    document.getElementById("who").textContent = this.me ? `${this.me.user} · ${this.me.role}${this.me.cell ? ` (${this.me.cell})` : ""}` : "";
  }

  route() {
    if (!this.me) return this.loggedOut();
    const m = /^#\/s\/([A-Za-z0-9_-]+)/.exec(location.hash);
    if (m) {
      if (this.session && this.session.id === m[1]) { this.session.relabel(); return; }
      this.closeSession();
      this.openSession(m[1]);
    } else {
      this.closeSession();
      this.listSessions();
    }
  }

  loggedOut() {
    this.closeSession();
    this.me = null;
    sessionStorage.removeItem("cadereau.me");
    this.show("login-view");
    document.getElementById("login-user").focus();
  }

  async login() {
    const user = document.getElementById("login-user").value.trim();
    const password = document.getElementById("login-password").value;
    const error = document.getElementById("login-error");
    error.textContent = "";
    try {
      const answer = await api("POST", "/login", { user, password });
      this.me = { user, role: answer.role, cell: answer.cell || null };
      sessionStorage.setItem("cadereau.me", JSON.stringify(this.me));
      document.getElementById("login-password").value = "";
      this.route();
    } catch (e) {
      error.textContent = e.status === 401 ? t("wrong_login") : e.message;
    }
  }

  async logout() {
    try { await api("POST", "/logout"); } catch (_) { /* gone anyway */ }
    location.hash = "#/";
    this.loggedOut();
  }

  async listSessions() {
    this.show("sessions-view");
    const body = document.getElementById("session-list");
    let sessions = [];
    try { sessions = await api("GET", "/sessions"); } catch (e) { if (e.status !== 401) toast(e.message, "error"); return; }
    body.replaceChildren(...sessions.map((s) => el("tr", { "data-testid": "session-item", dataset: { id: s.id, mode: s.mode } },
      el("td", {}, el("a", { href: `#/s/${s.id}`, text: s.name || s.id })),
      el("td", {}, el("span", { class: `badge mode-${s.mode}`, text: t(s.mode) })),
      el("td", { text: t(s.state) }),
      el("td", { text: durationText(s.sim_time_s) }),
      el("td", { text: `x${s.speed}` }),
      el("td", {}, el("a", { class: "button", href: `#/s/${s.id}`, text: t("open") })))));
    document.getElementById("no-sessions").hidden = sessions.length > 0;
    const canCreate = ["admin", "director", "operator"].includes(this.me.role);
    document.getElementById("new-session").hidden = !canCreate;
    if (canCreate) {
      const mode = document.getElementById("new-mode");
      for (const o of mode.options) o.hidden = (o.value === "live") !== (this.me.role === "operator") && this.me.role !== "admin";
      if (mode.selectedOptions[0].hidden) mode.value = this.me.role === "operator" ? "live" : "exercise";
    }
  }

  async createSession() {
    const mode = document.getElementById("new-mode").value;
    const body = mode === "live" ? { mode, territory: "demo" } : { mode, scenario: document.getElementById("new-scenario").value.trim() };
    const error = document.getElementById("new-error");
    error.textContent = "";
    try {
      const s = await api("POST", "/sessions", body);
      location.hash = `#/s/${s.id}`;
    } catch (e) { error.textContent = e.message; }
  }

  async openSession(id) {
    this.show("session-view");
    const view = new SessionView(id, this.me);
    this.session = view;
    try {
      await view.open();
    } catch (e) {
      if (e.status !== 401) toast(e.message, "error");
    }
  }

  closeSession() {
    if (this.session) this.session.close();
    this.session = null;
  }

  onKey(ev) {
    if (ev.key === "Escape") {
      const detail = document.getElementById("detail");
      if (!detail.hidden) { detail.hidden = true; ev.preventDefault(); }
      if (this.session && this.session.map && this.session.map.drawing) this.session.panels.cancelDrawing();
    }
  }
}

// One session's screen.
class SessionView {
  constructor(id, me) {
    this.id = id;
    this.me = me;
    this.base = `${API}/sessions/${id}`;
    this.records = new Records();
    this.clock = {};
    this.closed = false;
    this.socket = null;
  }

  async open() {
    const d = await api("GET", `/sessions/${this.id}`);
    this.describe = d;
    this.backlogSeq = d.last_seq || 0;
    this.mode = d.mode;
    this.clock = d.clock || {};
    document.getElementById("session-title").textContent = d.name || d.id;
    const badge = document.getElementById("mode-badge");
    badge.hidden = false;
    badge.className = `badge mode-${d.mode}`;
    badge.textContent = t(d.mode);
    this.setupClock();
    this.showKpis(d.kpis || {});
    this.map = new TwinMap(document.getElementById("map"), this.base, {
      road: (f, state, at) => this.panels.roadPopup(f, state, at),
      light: (f, at) => this.panels.lightPopup(f, at),
      asset: (f, state) => this.panels.assetDetail(f, state),
      sensor: (f) => this.panels.sensorDetail(f),
      forecastImpact: (i) => this.panels.forecastDetail(i),
    });
    this.panels = new Panels(this);
    await this.map.load((path) => fetch(path, { credentials: "same-origin" }).then((r) => {
      if (!r.ok) throw new ApiError(r.status, `map: ${r.status}`);
      return r.json();
    }));
    this.panels.build();
    this.map.refreshWater(this.mode === "replay" ? this.clock.sim_time_s : null);
    this.map.refreshTraffic(this.mode === "replay" ? this.clock.sim_time_s : null);
    this.layersAt = this.clock.sim_time_s || 0;
    this.connect();
  }

  relabel() {
    applyLabels();
    this.setupClock();
    if (this.map) this.map.relabel();
    if (this.panels) this.panels.build();
  }

  setupClock() {
    const director = document.getElementById("director-clock");
    director.hidden = !mayControlClock(this.me, this.mode);
    // A live clock is the wall clock: it starts and stops, never pauses nor speeds up.
    director.classList.toggle("live", this.mode === "live");
    const command = (c, extra = {}) => api("POST", `/sessions/${this.id}/clock`, { command: c, ...extra })
      .then((answer) => this.onClock(answer.clock || answer)).catch((e) => toast(t("refused", e.message), "error"));
    const speed = () => Number(document.getElementById("clock-speed-select").value);
    document.getElementById("clock-start").onclick = () => command("start", this.mode === "live" ? {} : { speed: speed() });
    document.getElementById("clock-pause").onclick = () => command("pause");
    document.getElementById("clock-resume").onclick = () => command("resume", { speed: speed() });
    document.getElementById("clock-stop").onclick = () => { if (confirm(t("stop") + " ?")) command("stop"); };
    document.getElementById("clock-speed-select").onchange = () => {
      if (this.clock.state === "running" || this.clock.state === "paused")
        api("POST", `/sessions/${this.id}/clock`, { speed: speed() })
          .then((answer) => this.onClock(answer.clock || answer)).catch((e) => toast(t("refused", e.message), "error"));
    };
    const bar = document.getElementById("replay-bar");
    bar.hidden = this.mode !== "replay";
    const slider = document.getElementById("replay-slider");
    slider.max = String(this.clock.duration_s || 0);
    slider.disabled = !mayControlClock(this.me, this.mode);
    // The answer to a seek redraws the replay at once: the stream's own "seek" may come later (a stream reconnecting).
    slider.onchange = () => api("POST", `/sessions/${this.id}/clock`, { command: "seek", time_s: Number(slider.value) })
      .then((answer) => { const c = answer.clock || answer; this.onClock(c); return this.reload({ sim_time_s: c.sim_time_s }); })
      .catch((e) => toast(t("refused", e.message), "error"));
    this.showClock();
  }

  onClock(c) {
    if (!c || c.state === undefined) return;
    Object.assign(this.clock, c);
    this.showClock();
  }

  showClock() {
    const c = this.clock;
    document.getElementById("clock").dataset.state = c.state || "";
    document.getElementById("clock").dataset.simTime = String(c.sim_time_s || 0);
    document.getElementById("clock-time").textContent = clockText(c.start, c.sim_time_s);
    document.getElementById("clock-state").textContent = t(c.state || "created");
    document.getElementById("clock-elapsed").textContent = t("elapsed", durationText(c.elapsed_s));
    document.getElementById("clock-speed").textContent = this.mode === "live" ? "" : `x${c.speed || 1}`;
    const lag = document.getElementById("clock-lag");
    lag.hidden = !c.lagging;
    lag.textContent = c.lagging ? t("lagging", (c.achieved_speed || 0).toFixed(1)) : "";
    const state = c.state || "created";
    document.getElementById("clock-start").disabled = state !== "created";
    document.getElementById("clock-pause").disabled = state !== "running";
    document.getElementById("clock-resume").disabled = state !== "paused";
    document.getElementById("clock-stop").disabled = state === "stopped";
    if (this.mode === "replay") {
      const slider = document.getElementById("replay-slider");
      if (document.activeElement !== slider) slider.value = String(c.sim_time_s || 0);
      slider.max = String(c.duration_s || slider.max);
      document.getElementById("replay-at").textContent = clockText(c.start, c.sim_time_s);
    }
  }

  showKpis(k) {
    const items = [["roads_closed", "kpi_roads"], ["people_at_risk", "kpi_people"], ["assets_out_of_service", "kpi_assets"],
      ["vehicles_running", "kpi_vehicles"]];
    document.getElementById("kpis").replaceChildren(...items.map(([key, label]) =>
      el("div", { class: "kpi", "data-kpi": key }, el("b", { text: k[key] === undefined ? "–" : String(Math.round(k[key])) }),
        el("span", { text: t(label) }))),
      el("button", { class: "kpi-action", "data-testid": "view-3d", text: t("view_3d"), title: t("view_3d_help"),
        onclick: () => this.view3d() }));
  }

  // A 3D picture of the territory as it stands now (a replay: at its clock), drawn by the server.
  async view3d(tries = 0) {
    const body = this.mode === "replay" ? { t_s: Math.floor(this.clock.sim_time_s || 0) } : {};
    let v;
    try {
      v = await api("POST", `/sessions/${this.id}/views`, body);
    } catch (e) {
      // One view at a time on the server: wait for the one being drawn.
      if (e.status === 409 && tries < 10 && !this.closed) { setTimeout(() => this.view3d(tries + 1), 2000); return; }
      toast(t("refused", e.message), "error");
      return;
    }
    const head = el("h3", { text: `${t("view_3d")} · ${clockText(this.clock.start, v.t_s)}` });
    this.panels.detail(head, el("p", { class: "muted", "data-testid": "view-3d-status", dataset: { state: "running" } },
      el("span", { class: "spinner" }), ` ${t("view_drawing")}`));
    const box = document.getElementById("detail");
    box.classList.add("wide");
    const close = box.querySelector(".close");
    const unwide = () => { box.classList.remove("wide"); close.removeEventListener("click", unwide); };
    close.addEventListener("click", unwide);
    for (let k = 0; k < 90 && v.state === "running"; ++k) {
      await new Promise((r) => setTimeout(r, 1000));
      if (this.closed) return;
      try { v = await api("GET", `/sessions/${this.id}/views/${v.view}`); } catch (e) { toast(e.message, "error"); return; }
    }
    const src = `${this.base}/views/${v.view}/view.png`;
    this.panels.detail(head, v.state === "done"
      ? el("div", {},
        el("p", { "data-testid": "view-3d-status", dataset: { state: v.state, roadsClosed: v.roads_closed },
          text: `${v.roads_closed} ${t("kpi_roads")} · ${v.assets_out_of_service} ${t("kpi_assets")}` }),
        el("a", { href: src, target: "_blank", rel: "noopener" },
          el("img", { src, class: "view-3d", alt: v.caption || t("view_3d"), "data-testid": "view-3d-image" })),
        el("p", { class: "muted", text: t("view_3d_legend") }))
      : el("p", { class: "error", "data-testid": "view-3d-status", dataset: { state: v.state }, text: v.problem || t(`gw_${v.state}`) }));
    box.classList.add("wide");
  }

  connect() {
    if (this.closed) return;
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}${this.base}/stream?after=${this.records.lastSeq}`);
    this.socket = socket;
    socket.onmessage = (m) => { try { this.onMessage(JSON.parse(m.data)); } catch (e) { console.error(e); } };
    socket.onclose = () => {
      if (this.closed || this.socket !== socket) return;
      document.getElementById("clock").classList.add("offline");
      setTimeout(() => this.connect(), 2000);
    };
    socket.onopen = () => document.getElementById("clock").classList.remove("offline");
  }

  onMessage(m) {
    switch (m.type) {
      case "clock": this.onClock(m); this.followReplay(); break;
      case "kpi": this.showKpis(m.kpis || {}); break;
      case "frame": this.map.refreshWater(m.t_s); break;
      case "traffic": this.map.refreshTraffic(m.t_s); break;
      case "seek": this.reload(m); break;
      case "forecast": this.panels.onForecast(m); this.map.showForecast(m); break;
      case "feed": this.panels.onFeed(m); break;
      default:
        // What happened before the screen opened comes first: drawn, not announced.
        if (m.seq !== undefined && this.records.add(m)) this.apply(m, m.seq > this.backlogSeq);
    }
  }

  // A playing replay has no engine to announce its frames: its water and
  // traffic follow its clock, each simulated minute.
  followReplay() {
    if (this.mode !== "replay" || !this.map) return;
    const now = this.clock.sim_time_s || 0;
    if (Math.abs(now - (this.layersAt || 0)) < 60) return;
    this.layersAt = now;
    this.map.refreshWater(now);
    this.map.refreshTraffic(now);
  }

  // What a record changes on the map, and the panels it concerns.
  apply(e, fresh) {
    const map = this.map;
    switch (e.kind) {
      case "road_closed": map.setRoad(e.target, { closed: true }); break;
      case "road_reopened": map.setRoad(e.target, { closed: false }); break;
      case "water": if (map.roadLayers.has(e.target)) map.setRoad(e.target, { slowed: true }); break;
      case "water_receded": if (map.roadLayers.has(e.target)) map.setRoad(e.target, { slowed: false }); break;
      case "asset_failed": map.setAsset(e.target, "failed"); break;
      case "asset_on_backup": if (map.assetState.get(e.target) !== "failed") map.setAsset(e.target, "backup"); break;
      case "asset_cut_off": if (map.assetState.get(e.target) !== "failed") map.setAsset(e.target, "cut"); break;
      case "asset_recovered": case "asset_reachable": map.setAsset(e.target, "ok"); break;
      case "observation": if (!e.failed) this.panels.onObservation(e); break;
      case "citizen_report": map.addReport(e); break;
      default: break;
    }
    if (this.mode === "replay") this.replayKpis();
    if (e.type === "inject" && e.kind === "inject_delivered" && fresh && this.me.role === "player")
      toast(`${kindLabel(e.kind)} ${e.inject}: ${e.message}`, "inject");
    this.panels.onRecord(e, fresh);
  }

  // A replay's figures from its records (the engine's own KPIs are not in the journal).
  replayKpis() {
    if (this.kpiTimer) return;
    this.kpiTimer = setTimeout(() => {
      this.kpiTimer = null;
      const closed = [...this.map.roadState.values()].filter((s) => s.closed).length;
      const out = [...this.map.assetState.values()].filter((s) => s === "failed").length;
      this.showKpis({ roads_closed: closed, assets_out_of_service: out });
    }, 300);
  }

  // A replay jumped: the records up to its new head, again.
  // One at a time: a seek while the records of the previous one come in redraws once more, at the end.
  async reload(m) {
    if (this.reloading) { this.reloadAgain = m; return; }
    this.reloading = true;
    try {
      await this.reloadNow(m);
    } finally {
      this.reloading = false;
    }
    const again = this.reloadAgain;
    this.reloadAgain = null;
    if (again && !this.closed) await this.reload(again);
  }

  async reloadNow(m) {
    this.records.clear();
    this.map.roadState.forEach((_, id) => this.map.setRoad(id, { closed: false, slowed: false }));
    this.map.assetState.forEach((_, id) => this.map.setAsset(id, "ok"));
    this.panels.reset();
    let after = 0;
    for (;;) {
      const page = await api("GET", `/sessions/${this.id}/events?after=${after}`);
      if (!page.length) break;
      for (const e of page) if (this.records.add(e)) this.apply(e, false);
      after = page[page.length - 1].seq;
      if (after >= m.seq) break;
    }
    this.onClock({ sim_time_s: m.sim_time_s, state: this.clock.state });
    this.layersAt = m.sim_time_s;
    this.map.refreshWater(m.sim_time_s);
    this.map.refreshTraffic(m.sim_time_s);
    this.panels.onRecord(null, false);
  }

  close() {
    this.closed = true;
    if (this.socket) this.socket.close();
    if (this.panels) this.panels.close();
    if (this.map) this.map.destroy();
    document.getElementById("detail").hidden = true;
  }
}

const app = new App();
document.addEventListener("DOMContentLoaded", () => app.start());
