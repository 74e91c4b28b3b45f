"use strict";
// The side panels of a session's screen, by role and mode: the timeline
// of records, the injects (a player's inbox, the director's MSEL), the
// actions (units), the CAP workbench, the procedures, the live room (feeds,
// forecast, scores) and the review.

const SEVERITIES = ["Extreme", "Severe", "Moderate", "Minor"];
const URGENCIES = ["Immediate", "Expected", "Future"];
const CERTAINTIES = ["Observed", "Likely", "Possible"];
const UNIT_UNITS = { level_gauge: "m", rain_gauge: "mm", traffic_counter: "veh" };

function field(label, input) { return el("label", { class: "field" }, el("span", { text: label }), input); }
function select(options, value, attrs = {}) {
  const s = el("select", attrs, options.map((o) => el("option", { value: Array.isArray(o) ? o[0] : o, text: Array.isArray(o) ? o[1] : o })));
  if (value !== undefined) s.value = value;
  return s;
}
// "2026-12-01T05:10:00Z" -> the browser's local "06:10:00".
function timeOf(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleTimeString("fr-FR");
}
// Rejections are counted by reason ({"implausible": 2, ...}).
function rejectedCount(r) {
  if (!r) return 0;
  return typeof r === "number" ? r : Object.values(r).reduce((a, b) => a + Number(b || 0), 0);
}
function debounce(fn, ms) {
  let timer = null;
  return (...args) => { clearTimeout(timer); timer = setTimeout(() => fn(...args), ms); };
}

class Panels {
  constructor(view) {
    this.view = view;
    this.me = view.me;
    this.mode = view.mode;
    this.filter = "";
    this.forecast = null;
    this.feed = null;
    this.area = null;
    this.refreshInjects = debounce(() => this.renderInjects(), 300);
    this.refreshProcedures = debounce(() => this.renderProcedures(), 300);
    this.refreshTimeline = debounce(() => this.renderTimeline(), 200);
    this.refreshActivity = debounce(() => this.renderActivity(), 500);
  }

  tabs() {
    const me = this.me, mode = this.mode;
    const list = [["timeline", "timeline"]];
    if (mode === "exercise") list.push(["injects", me.role === "player" ? "injects" : "msel"]);
    if (mode !== "replay" && (mayUse(me, mode, "dispatch_unit"))) list.push(["actions", "dispatch"]);
    if (mode !== "replay") list.push(["alert", "alert"]);
    if (mode !== "replay" && me.role !== "observer") list.push(["procedures", "procedures"]);
    if (mode === "live" || this.view.describe.forecast) list.push(["live", "live_room"]);
    if (mode === "exercise" && me.role !== "player") list.push(["review", "review"]);
    if (mayPlanLights(me, mode)) list.push(["greenwave", "green_wave"]);
    return list;
  }

  build() {
    const nav = document.getElementById("tabs"), panels = document.getElementById("panels");
    const current = this.current;
    nav.replaceChildren();
    panels.replaceChildren();
    this.panel = {};
    for (const [id, label] of this.tabs()) {
      const button = el("button", { role: "tab", id: `tab-${id}`, "data-testid": `tab-${id}`, "aria-controls": `panel-${id}`,
        class: "tab", text: t(label), onclick: () => this.select(id) });
      nav.append(button);
      const panel = el("section", { role: "tabpanel", id: `panel-${id}`, class: "panel", hidden: true });
      panels.append(panel);
      this.panel[id] = panel;
    }
    this.select(current && this.panel[current] ? current : "timeline");
    this.renderTimeline();
    if (this.panel.injects) this.renderInjects();
    if (this.panel.actions) this.renderActions();
    if (this.panel.alert) this.renderAlert();
    if (this.panel.procedures) this.renderProcedures();
    if (this.panel.live) this.renderLive();
    if (this.panel.review) this.renderReview();
    if (this.panel.greenwave) {
      this.greenwave = this.greenwave || new GreenwavePanel(this.view);
      this.greenwave.render(this.panel.greenwave);
    }
  }

  close() { if (this.greenwave) this.greenwave.close(); }

  select(id) {
    this.current = id;
    for (const [k, p] of Object.entries(this.panel)) {
      p.hidden = k !== id;
      document.getElementById(`tab-${k}`).setAttribute("aria-selected", String(k === id));
    }
    if (id === "live") this.loadFeeds();
    if (id === "review") this.renderReview();
    if (id === "greenwave" && this.greenwave) this.greenwave.loadHistory();
  }

  reset() { this.renderTimeline(); }

  // ---- records ----
  onRecord(e, fresh) {
    if (!e) { this.renderTimeline(); return; }
    if (fresh && this.timelineList && this.passes(e)) {
      this.timelineList.prepend(this.timelineItem(e));
      while (this.timelineList.childElementCount > 400) this.timelineList.lastChild.remove();
      if (!this.kindsSeen.has(e.kind)) { this.kindsSeen.add(e.kind); this.refreshKinds(); }
    } else if (fresh && this.kindsSeen && !this.kindsSeen.has(e.kind)) {
      this.kindsSeen.add(e.kind);
      this.refreshKinds();
    } else if (!fresh) {
      this.refreshTimeline();
    }
    if (e.type === "inject" || e.kind === "inject_acknowledged") this.refreshInjects();
    if (e.type === "procedure" || e.kind === "procedure_step") this.refreshProcedures();
    if (e.type === "alert") this.renderAlertsSent();
    if (e.kind === "threshold_alert" && fresh) {
      toast(`${kindLabel(e.kind)}: ${e.detail || e.gauge || ""}`, "alert");
      this.renderAlertsSent();
    }
    if (e.kind === "unit_arrived" || e.kind === "unit_stopped" || e.kind === "unit_dispatched") this.renderActions();
    if (e.by && String(e.by).startsWith("player:")) this.refreshActivity();
  }

  passes(e) {
    return !this.filter || e.kind === this.filter || e.type === this.filter;
  }

  timelineItem(e) {
    const l = recordLine(e, this.view.clock.start);
    const li = el("li", { class: `timeline-item kind-${e.kind || e.type}`, "data-testid": "timeline-item", tabindex: 0,
      dataset: { kind: e.kind || e.type || "", seq: e.seq } },
      el("span", { class: "when", text: l.when }), " ", el("strong", { text: l.what }), " ",
      el("span", { class: "target", text: l.target }),
      e.by && e.by !== "engine" ? el("span", { class: "by", text: ` · ${e.by}` }) : null,
      l.detail ? el("div", { class: "detail-text", text: l.detail }) : null);
    const open = () => this.openRecord(e);
    li.addEventListener("click", open);
    li.addEventListener("keydown", (ev) => { if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); open(); } });
    return li;
  }

  renderTimeline() {
    const p = this.panel && this.panel.timeline;
    if (!p) return;
    this.kindsSeen = new Set(this.view.records.list.map((e) => e.kind || e.type));
    this.kindSelect = select([["", t("all_kinds")]], this.filter, { "data-testid": "timeline-filter", "aria-label": t("filter") });
    this.kindSelect.addEventListener("change", () => { this.filter = this.kindSelect.value; this.renderTimeline(); });
    this.refreshKinds();
    this.timelineList = el("ol", { class: "timeline", "data-testid": "timeline", reversed: true });
    const shown = this.view.records.list.filter((e) => this.passes(e)).slice(-400).reverse();
    this.timelineList.append(...shown.map((e) => this.timelineItem(e)));
    p.replaceChildren(el("div", { class: "row" }, field(t("filter"), this.kindSelect)), this.timelineList);
  }

  refreshKinds() {
    if (!this.kindSelect) return;
    const keep = this.kindSelect.value;
    const kinds = [...this.kindsSeen].filter(Boolean).sort((a, b) => kindLabel(a).localeCompare(kindLabel(b)));
    this.kindSelect.replaceChildren(el("option", { value: "", text: t("all_kinds") }),
      ...kinds.map((k) => el("option", { value: k, text: kindLabel(k) })));
    this.kindSelect.value = keep;
  }

  detail(...content) {
    const box = document.getElementById("detail");
    document.getElementById("detail-body").replaceChildren(...content);
    box.hidden = false;
    box.querySelector(".close").onclick = () => { box.hidden = true; };
    box.focus();
  }

  openRecord(e) {
    this.view.map.focus(e);
    const l = recordLine(e, this.view.clock.start);
    this.detail(el("h3", { text: `${l.when} ${l.what} ${l.target}` }),
      l.detail ? el("p", { text: l.detail }) : null,
      e.by ? el("p", { class: "muted", text: e.by }) : null,
      chainView(this.view.records, e, this.view.clock.start));
  }

  // The latest record about a target, for its chain.
  latestAbout(target, kinds) {
    const list = this.view.records.list;
    for (let i = list.length - 1; i >= 0; i -= 1)
      if (list[i].target === target && (!kinds || kinds.includes(list[i].kind))) return list[i];
    return null;
  }

  assetDetail(f, state) {
    const p = f.properties;
    const e = this.latestAbout(p.id, ["asset_failed", "asset_on_backup", "asset_cut_off", "asset_recovered", "asset_reachable", "water"]);
    this.detail(el("h3", { text: p.name }),
      el("p", { "data-testid": "asset-state", text: `${p.type.replace(/_/g, " ")} · ${t(`asset_${state}`)}` }),
      p.depends_on && p.depends_on.length ? el("p", { class: "muted", text: `→ ${p.depends_on.join(", ")}` }) : null,
      e ? chainView(this.view.records, e, this.view.clock.start) : el("p", { class: "muted", text: t("no_chain") }));
  }

  sensorDetail(f) {
    const p = f.properties;
    const r = this.view.map.sensorValues.get(p.id);
    const e = this.latestAbout(p.id, ["observation", "observation_rejected"]);
    this.detail(el("h3", { text: p.name }), el("p", { text: `${p.kind.replace(/_/g, " ")} · ${r ? r.text : "—"}${r && r.stale ? ` · ${t("stale")}` : ""}` }),
      e ? el("p", { class: "muted", text: `${clockText(this.view.clock.start, e.t_s)} ${e.by || ""}` }) : null);
  }

  // ---- acting on the map ----
  act(body) {
    return api("POST", `/sessions/${this.view.id}/actions`, body)
      .then(() => toast(t("accepted"))).catch((e) => toast(t("refused", e.message), "error"));
  }

  answering() {
    // The inject the player answers, when one is chosen in the inbox.
    return this.answer ? { inject: this.answer } : {};
  }

  roadPopup(f, state, at) {
    const p = f.properties, me = this.me, mode = this.mode;
    const buttons = [];
    const add = (verb, label, testid, target = p.id, extra = {}) => {
      if (!mayUse(me, mode, verb)) return;
      buttons.push(el("button", { "data-testid": testid, text: label, onclick: () => {
        this.view.map.map.closePopup();
        this.act({ verb, target, ...this.answering(), ...extra });
        if (testid === "action-close-both" && p.reverse) this.act({ verb, target: p.reverse, ...this.answering() });
      } }));
    };
    if (state !== "closed") {
      add("close_road", t("close_road"), "action-close-road");
      if (p.reverse) add("close_road", t("close_both"), "action-close-both");
      add("lower_bollard", t("lower_bollard"), "action-bollard");
    } else {
      add("reopen_road", t("reopen_road"), "action-reopen-road");
    }
    const e = this.latestAbout(p.id, ["road_closed", "road_reopened", "water", "water_receded"]);
    const trafficLine = this.view.map.trafficText(p.id);
    const box = el("div", { class: "popup", "data-testid": "road-popup" },
      el("strong", { text: p.name || p.id }), el("div", { class: "muted", text: `${p.id} · ${p.speed_kmh} km/h · ${t(`road_${state}`)}` }),
      trafficLine ? el("div", { class: "muted", "data-testid": "road-traffic", text: `${t("traffic")} : ${trafficLine}` }) : null,
      e ? el("a", { href: "#", text: t("chain"), onclick: (ev) => { ev.preventDefault(); this.openRecord(e); } }) : null,
      el("div", { class: "row" }, buttons));
    L.popup().setLatLng(at).setContent(box).openOn(this.view.map.map);
  }

  lightPopup(f, at) {
    const p = f.properties, me = this.me, mode = this.mode;
    // The green-wave plan a session runs gives the light a program of its own, running from the start.
    const plan = this.view.describe.light_plan, planned = plan && plan.programs ? plan.programs[p.id] : null;
    const box = el("div", { class: "popup", "data-testid": "light-popup" }, el("strong", { text: `${t("lights")} ${p.id}` }),
      el("div", { class: "muted", text: `${t("light_program")} ${planned || p.program}` }));
    if (mayUse(me, mode, "light_program")) {
      const programs = select([...(p.programs || []), ...(planned && !(p.programs || []).includes(planned) ? [planned] : [])],
        planned || p.program, { "data-testid": "light-program" });
      box.append(el("div", { class: "row" }, programs,
        el("button", { text: t("apply"), "data-testid": "action-light-program",
          onclick: () => this.act({ verb: "light_program", target: p.id, program: programs.value, ...this.answering() }) })));
      box.append(el("div", { class: "row" },
        ["light_flashing", "light_off", "restore_light"].map((verb) => el("button", { text: t(verb),
          onclick: () => this.act({ verb, target: p.id, ...this.answering() }) }))));
    }
    if (this.greenwave) {
      const streets = (p.streets || []).join(" / ");
      if (streets) box.append(el("div", { class: "muted", text: streets }));
      box.append(el("div", { class: "row" }, el("button", { text: t("gw_add"), "data-testid": "greenwave-add",
        onclick: () => { this.greenwave.add(p.id); this.view.map.map.closePopup(); } })));
    }
    L.popup().setLatLng(at).setContent(box).openOn(this.view.map.map);
  }

  // ---- injects ----
  async renderInjects() {
    const p = this.panel && this.panel.injects;
    if (!p) return;
    let injects = [];
    try { injects = await api("GET", `/sessions/${this.view.id}/injects`); } catch (e) { p.replaceChildren(el("p", { class: "error", text: e.message })); return; }
    if (this.me.role === "player") {
      // Updated in place: an inject the player is reading or answering stays put as others come in.
      const delivered = injects.filter((i) => i.delivered_s !== undefined).reverse();
      let list = p.querySelector("ul.inbox");
      if (!list) {
        list = el("ul", { class: "inbox", "data-testid": "inject-inbox" });
        p.replaceChildren(list, el("p", { class: "muted empty", text: t("inbox_empty") }));
      }
      const shown = new Map([...list.children].map((li) => [li.dataset.inject, li]));
      delivered.forEach((i, k) => {
        const key = `${i.id}:${i.acknowledged_s !== undefined}`;
        let li = shown.get(String(i.id));
        if (!li || li.dataset.key !== key) {
          const fresh = this.inboxItem(i);
          fresh.dataset.key = key;
          if (li) li.replaceWith(fresh);
          li = fresh;
        }
        if (list.children[k] !== li) list.insertBefore(li, list.children[k] || null);
      });
      while (list.children.length > delivered.length) list.lastChild.remove();
      p.querySelector(".empty").hidden = delivered.length > 0;
      return;
    }
    const staff = mayDirect(this.me, this.mode);
    const rows = injects.map((i) => el("li", { class: `msel-item state-${i.state}`, "data-testid": "msel-row", dataset: { inject: i.id, state: i.state } },
      el("div", {}, el("strong", { text: `#${i.number}` }), " ", el("span", { class: "when", text: i.clock || i.when || "" }),
        el("span", { class: "muted", text: ` · ${i.type} → ${(i.to || []).join(", ")}` }), " ",
        el("span", { class: `badge state-${i.state}`, text: t(i.state) })),
      el("div", { class: "message", text: i.message, title: i.expected || "" }),
      i.response ? el("div", { class: "muted", text: `${t("acknowledged")}: ${i.response}` }) : null,
      staff ? el("div", { class: "buttons" }, this.injectButtons(i)) : null));
    p.replaceChildren(el("ol", { class: "msel", "data-testid": "msel" }, rows),
      el("h3", { text: t("players") }), this.activityBox = el("div", { "data-testid": "players-activity" }));
    this.renderActivity();
  }

  injectButtons(i) {
    const command = (c) => api("POST", `/sessions/${this.view.id}/injects/${i.id}`, { command: c })
      .then(() => this.renderInjects()).catch((e) => toast(t("refused", e.message), "error"));
    const out = [];
    const waiting = i.state === "scheduled" || i.state === "on_hold";
    if (waiting) out.push(el("button", { text: t("fire"), "data-testid": "inject-fire", onclick: () => command("fire") }));
    if (i.state === "scheduled") out.push(el("button", { text: t("hold"), onclick: () => command("hold") }));
    if (i.state === "on_hold") out.push(el("button", { text: t("release"), onclick: () => command("release") }));
    if (waiting) out.push(el("button", { text: t("cancel"), class: "danger", onclick: () => command("cancel") }));
    if (this.view.clock.state === "created") out.push(el("button", { text: t("test_fire"), onclick: () => command("test") }));
    return out;
  }

  inboxItem(i) {
    // What the player is typing survives the inbox being drawn again (a new inject coming in).
    this.drafts = this.drafts || new Map();
    const comment = el("input", { "aria-label": t("comment"), placeholder: t("comment"), "data-testid": "inject-comment",
      value: this.drafts.get(i.id) || "", oninput: (ev) => this.drafts.set(i.id, ev.target.value) });
    const acked = i.acknowledged_s !== undefined;
    const li = el("li", { class: `inject ${acked ? "acked" : "new"}`, "data-testid": "inject-item", dataset: { inject: i.id } },
      el("div", {}, el("span", { class: "when", text: i.delivered || "" }), " ", el("strong", { text: `#${i.number} ${i.type}` }),
        el("span", { class: "muted", text: ` · ${i.from || ""} → ${(i.to || []).join(", ")}` })),
      el("p", { class: "message", text: i.message }));
    if (acked) {
      li.append(el("p", { class: "muted", text: `${t("acknowledged")}: ${i.response || ""}` }));
    } else {
      li.append(el("div", { class: "row" }, comment,
        el("button", { text: t("acknowledge"), "data-testid": "inject-ack", onclick: () =>
          api("POST", `/sessions/${this.view.id}/injects/${i.id}/ack`, { comment: comment.value })
            .then(() => { this.answer = i.id; this.drafts.delete(i.id); this.renderInjects(); })
            .catch((e) => toast(t("refused", e.message), "error")) })));
    }
    return li;
  }

  renderActivity() {
    if (!this.activityBox) return;
    const by = new Map();
    for (const e of this.view.records.list) {
      if (!e.by || !String(e.by).startsWith("player:")) continue;
      const a = by.get(e.by) || { n: 0, last: 0, kinds: new Set() };
      a.n += 1; a.last = Math.max(a.last, e.t_s || 0); a.kinds.add(kindLabel(e.kind || e.type));
      by.set(e.by, a);
    }
    this.activityBox.replaceChildren(el("ul", {}, [...by].map(([who, a]) =>
      el("li", { text: `${who.slice(7)}: ${a.n} · ${[...a.kinds].join(", ")} · ${clockText(this.view.clock.start, a.last)}` }))));
  }

  // ---- units ----
  renderActions() {
    const p = this.panel && this.panel.actions;
    if (!p) return;
    const assets = this.view.map.doc.assets.features.map((f) => f.properties);
    const bases = assets.filter((a) => a.type === "fire_station" || a.type === "hospital").map((a) => [a.id, a.name]);
    const targets = assets.filter((a) => a.type !== "traffic_signal").map((a) => [a.id, a.name]);
    const unit = el("input", { value: "VSAV 1", "data-testid": "unit-name" });
    const from = select(bases, undefined, { "data-testid": "unit-from" });
    const to = select(targets, undefined, { "data-testid": "unit-to" });
    const send = el("button", { text: t("dispatch"), "data-testid": "unit-dispatch",
      onclick: () => this.act({ verb: "dispatch_unit", unit: unit.value.trim(), from: from.value, to: to.value, ...this.answering() }) });
    const units = this.view.records.list.filter((e) => ["unit_dispatched", "unit_arrived", "unit_stopped"].includes(e.kind)).reverse();
    p.replaceChildren(el("form", { class: "stack", onsubmit: (ev) => ev.preventDefault() },
      field(t("unit"), unit), field(t("from"), from), field(t("to"), to), send),
    el("ul", { class: "units" }, units.map((e) => this.timelineItem(e))));
  }

  // ---- the CAP workbench ----
  renderAlert() {
    const p = this.panel && this.panel.alert;
    if (!p) return;
    const can = maySendAlert(this.me, this.mode);
    this.alertsSentBox = el("div", { "data-testid": "alerts-sent" });
    if (!can) { p.replaceChildren(el("h3", { text: t("alerts_sent") }), this.alertsSentBox); this.renderAlertsSent(); return; }
    const f = this.alertFields = {
      event: el("input", { value: "Crue rapide", "data-testid": "cap-event", required: true }),
      headline: el("input", { value: "", "data-testid": "cap-headline", required: true, maxlength: 160 }),
      description: el("textarea", { rows: 2, "data-testid": "cap-description" }),
      instruction: el("textarea", { rows: 2, "data-testid": "cap-instruction" }),
      severity: select(SEVERITIES, "Severe", { "data-testid": "cap-severity" }),
      urgency: select(URGENCIES, "Immediate", { "data-testid": "cap-urgency" }),
      certainty: select(CERTAINTIES, "Observed", { "data-testid": "cap-certainty" }),
      areaDescription: el("input", { value: "", "data-testid": "cap-area", required: true }),
    };
    this.reachBox = el("p", { class: "reach", "data-testid": "cap-reach" });
    this.drawButton = el("button", { type: "button", text: t("draw_area"), "data-testid": "cap-draw", onclick: () => this.startDrawing() });
    this.finishButton = el("button", { type: "button", text: t("finish"), "data-testid": "cap-finish", hidden: true, onclick: () => this.finishDrawing() });
    const clear = el("button", { type: "button", class: "plain", text: t("clear"), onclick: () => { this.area = null; this.view.map.clearArea(); this.cancelDrawing(); this.reachBox.textContent = ""; } });
    const send = el("button", { type: "submit", text: t("send"), "data-testid": "cap-send" });
    const form = el("form", { class: "stack", "data-testid": "alert-workbench", onsubmit: (ev) => { ev.preventDefault(); this.sendAlert(); } },
      field(t("cap_event"), f.event), field(t("cap_headline"), f.headline), field(t("cap_description"), f.description),
      field(t("cap_instruction"), f.instruction),
      el("div", { class: "row" }, field(t("severity"), f.severity), field(t("urgency"), f.urgency), field(t("certainty"), f.certainty)),
      field(t("area"), f.areaDescription), el("div", { class: "row" }, this.drawButton, this.finishButton, clear),
      this.reachBox, send);
    p.replaceChildren(form, el("h3", { text: t("alerts_sent") }), this.alertsSentBox);
    this.renderAlertsSent();
  }

  alertBody() {
    const f = this.alertFields;
    return {
      event: f.event.value.trim(), headline: f.headline.value.trim(), description: f.description.value.trim(),
      instruction: f.instruction.value.trim(), severity: f.severity.value, urgency: f.urgency.value, certainty: f.certainty.value,
      response_type: "Prepare", category: "Met",
      area: { description: f.areaDescription.value.trim() || "zone", polygon: this.area || [] },
    };
  }

  startDrawing() {
    this.view.map.clearArea();
    this.area = null;
    this.drawButton.hidden = true;
    this.finishButton.hidden = false;
    this.reachBox.textContent = t("drawing");
    this.view.map.startDrawing((points) => { this.area = points; this.reachBox.textContent = `${t("drawing")} (${points.length})`; });
  }

  cancelDrawing() {
    this.view.map.stopDrawing(false);
    if (this.drawButton) { this.drawButton.hidden = false; this.finishButton.hidden = true; }
  }

  async finishDrawing() {
    this.view.map.stopDrawing(true);
    this.drawButton.hidden = false;
    this.finishButton.hidden = true;
    if (!this.area || this.area.length < 3) { this.reachBox.textContent = ""; return; }
    try {
      const reach = await api("POST", `/sessions/${this.view.id}/alerts/reach`, this.alertBody());
      this.reachBox.textContent = `${t("reach")}: ${Math.round(reach.people)} (${(reach.zones || []).length} ${t("zones").toLowerCase()})`;
      this.reachBox.dataset.people = String(reach.people);
    } catch (e) { this.reachBox.textContent = e.message; }
  }

  async sendAlert() {
    try {
      const sent = await api("POST", `/sessions/${this.view.id}/alerts`, this.alertBody());
      toast(`${t("sent")}: ${sent.headline || ""}`);
      this.area = null;
      this.view.map.clearArea();
      this.reachBox.textContent = "";
    } catch (e) { toast(t("refused", e.message), "error"); }
  }

  useDraft(draft) {
    if (!this.alertFields) return;
    const f = this.alertFields;
    f.event.value = draft.event || ""; f.headline.value = draft.headline || ""; f.description.value = draft.description || "";
    f.instruction.value = draft.instruction || ""; f.severity.value = draft.severity || "Severe";
    f.urgency.value = draft.urgency || "Expected"; f.certainty.value = draft.certainty || "Likely";
    if (draft.area) {
      f.areaDescription.value = draft.area.description || "";
      this.area = draft.area.polygon;
      this.view.map.clearArea();
      this.view.map.area = L.polygon(this.area.map(([lon, lat]) => [lat, lon]), { color: "#c92a2a", weight: 2, fillOpacity: 0.15 }).addTo(this.view.map.map);
    }
    this.select("alert");
  }

  renderAlertsSent() {
    if (!this.alertsSentBox) return;
    const list = this.view.records.list.filter((e) => e.type === "alert" || e.kind === "threshold_alert").reverse();
    this.alertsSentBox.replaceChildren(el("ul", { class: "alerts" }, list.map((e) => {
      const li = el("li", { "data-testid": "alert-item", dataset: { kind: e.kind } },
        el("span", { class: "when", text: clockText(this.view.clock.start, e.t_s) }), " ",
        el("strong", { text: e.headline || kindLabel(e.kind) }),
        e.reach ? el("span", { text: ` · ${t("reach")}: ${Math.round(e.reach.people)}` }) : null,
        e.status ? el("span", { class: "badge", text: e.status }) : null,
        e.detail ? el("div", { class: "detail-text", text: e.detail }) : null);
      if (e.cap_draft && this.alertFields) li.append(el("button", { text: t("cap_headline") + " ←", onclick: () => this.useDraft(e.cap_draft) }));
      return li;
    })));
  }

  // ---- procedures ----
  async renderProcedures() {
    const p = this.panel && this.panel.procedures;
    if (!p) return;
    let list = [];
    try { list = await api("GET", `/sessions/${this.view.id}/procedures`); } catch (e) { p.replaceChildren(el("p", { class: "error", text: e.message })); return; }
    const mine = this.me.role === "player" || this.me.role === "operator" || this.me.role === "admin";
    p.replaceChildren(el("div", { "data-testid": "procedures" }, list.filter((x) => x.state !== "unavailable").map((proc) =>
      el("details", { class: `procedure state-${proc.state}`, open: proc.state === "proposed" },
        el("summary", {}, el("strong", { text: proc.title }), el("span", { class: "muted", text: ` · ${proc.cell} · ${proc.state}` })),
        proc.reason ? el("p", { class: "muted", text: proc.reason }) : null,
        el("ol", {}, (proc.steps || []).map((s, k) => el("li", {},
          el("label", {}, el("input", { type: "checkbox", checked: s.done, disabled: !mine || s.done || proc.state === "waiting",
            onchange: () => api("POST", `/sessions/${this.view.id}/procedures/${proc.id}/steps/${k + 1}`, { done: true, comment: "" })
              .then(() => this.renderProcedures()).catch((e) => toast(t("refused", e.message), "error")) }),
          ` ${s.text}`), s.by ? el("span", { class: "muted", text: ` · ${s.by}${s.comment ? ` : ${s.comment}` : ""}` }) : null)))))));
  }

  // ---- live room ----
  onObservation(e) {
    const f = this.view.map.sensorLayers.get(e.target);
    const kind = f ? f.feature.properties.kind : "";
    this.view.map.setSensor(e.target, { value: e.value, unit: UNIT_UNITS[kind] || "", stale: false, seen: clockText(this.view.clock.start, e.t_s) });
  }

  onFeed(m) {
    this.feed = m;
    // Past 200 sensors the layer carries only those whose health changed: kept by id.
    this.health = m.of ? this.health || new Map() : new Map();
    for (const s of m.sensors || []) {
      this.health.set(s.sensor, s);
      const f = this.view.map.sensorLayers.get(s.sensor);
      if (!f) continue;
      const kind = f.feature.properties.kind;
      this.view.map.setSensor(s.sensor, { value: s.last_value, unit: UNIT_UNITS[kind] || "", stale: !!s.stale, seen: timeOf(s.last_seen) });
    }
    if (this.current === "live") this.renderFeeds();
  }

  async loadFeeds() {
    if (this.mode !== "live") { this.renderLive(); return; }
    try { const f = await api("GET", `/sessions/${this.view.id}/feeds`); this.feedTable = f; } catch (_) { /* shown as none */ }
    this.renderLive();
  }

  onForecast(m) {
    this.forecast = m;
    if (this.panel && this.panel.live) this.renderLive();
  }

  renderFeeds() {
    if (!this.feedBox) return;
    const sensors = this.health ? [...this.health.values()] : (this.feedTable && this.feedTable.sensors) || [];
    this.feedBox.replaceChildren(el("table", { class: "list", "data-testid": "feeds" },
      el("thead", {}, el("tr", {}, [t("sensor"), t("last_value"), t("last_seen"), "n", "✗", ""].map((h) => el("th", { text: h })))),
      el("tbody", {}, sensors.map((s) => el("tr", { class: s.stale ? "stale" : "" },
        el("td", { text: NAMES.get(s.sensor) || s.sensor }),
        el("td", { text: s.last_value === undefined || s.last_value === null ? "—" : String(s.last_value) }),
        el("td", { text: timeOf(s.last_seen) }), el("td", { text: String(s.readings || 0) }),
        el("td", { text: String(rejectedCount(s.rejected) + (s.duplicates || 0)),
          title: `${s.duplicates || 0} duplicates; rejected: ${JSON.stringify(s.rejected || {})}` }),
        el("td", { text: s.stale ? t("stale") : "" }))))));
  }

  renderLive() {
    const p = this.panel && this.panel.live;
    if (!p) return;
    this.feedBox = el("div");
    const fc = this.forecast;
    const forecastBox = el("div", { "data-testid": "forecast" });
    if (!fc) forecastBox.append(el("p", { class: "muted", text: t("no_forecast") }));
    else {
      const start = this.view.clock.start;
      forecastBox.append(
        el("p", {}, el("strong", { text: `${t("forecast")} #${fc.number}` }), ` · ${t("issued", fc.issued_at ? timeOf(fc.issued_at) : clockText(start, fc.issued_s))} · ${t("horizon", Math.round((fc.horizon_s || 0) / 60))}`),
        fc.reason ? el("p", { class: "muted", text: fc.reason }) : null,
        fc.assumption ? el("p", { class: "muted", text: fc.assumption }) : null,
        fc.changes && fc.changes.summary ? el("p", {}, el("strong", { text: `${t("changes")}: ` }), fc.changes.summary) : null,
        el("h4", { text: t("impacts_forecast") }),
        el("ol", { class: "impacts" }, (fc.impacts || []).slice(0, 200).map((i) => el("li", { tabindex: 0, class: "forecast-impact",
          onclick: () => this.forecastDetail(i) },
        el("span", { class: "when", text: i.clock || clockText(start, i.t_s) }), " ", el("strong", { text: kindLabel(i.kind) }), " ",
        el("span", { text: i.name || i.target })))));
    }
    let controls = null;
    if (mayControlClock(this.me, this.mode) && this.mode === "live") {
      const horizon = el("input", { type: "number", min: 1, max: 720, value: this.horizonMin || 120, "data-testid": "forecast-horizon",
        oninput: (ev) => { this.horizonMin = Number(ev.target.value); } });
      controls = el("div", { class: "row" }, field(t("horizon", ""), horizon),
        el("button", { text: t("forecast_now"), "data-testid": "forecast-now", onclick: () =>
          api("POST", `/sessions/${this.view.id}/forecast`, { horizon_min: Number(horizon.value) })
            .then(() => toast(t("accepted"))).catch((e) => toast(t("refused", e.message), "error")) }));
    }
    const scores = el("div", { "data-testid": "forecast-scores" });
    p.replaceChildren(el("h3", { text: t("forecast") }), controls, forecastBox, el("h3", { text: t("scores") }), scores,
      el("h3", { text: t("feeds") }), this.feedBox);
    this.renderFeeds();
    if (this.mode === "live") this.loadScores(scores);
  }

  async loadScores(box) {
    let list = [];
    try { list = (await api("GET", `/sessions/${this.view.id}/forecasts`)).forecasts || []; } catch (_) { return; }
    const groups = (v) => ["roads", "assets", "zones"].filter((g) => v[g]).map((g) => [g, v[g]]);
    const scored = list.filter((f) => f.verification);
    box.replaceChildren(scored.length ? el("table", { class: "list" },
      el("thead", {}, el("tr", {}, ["#", "", t("hit_rate"), t("far"), t("csi")].map((h) => el("th", { text: h })))),
      el("tbody", {}, scored.flatMap((f) => groups(f.verification).map(([g, s]) => el("tr", {},
        el("td", { text: f.number }), el("td", { text: g }), el("td", { text: s.hit_rate === null ? "—" : Number(s.hit_rate).toFixed(2) }),
        el("td", { text: s.false_alarm_ratio === null ? "—" : Number(s.false_alarm_ratio).toFixed(2) }),
        el("td", { text: s.critical_success_index === null || s.critical_success_index === undefined ? "—" : Number(s.critical_success_index).toFixed(2) }))))))
      : el("p", { class: "muted", text: "—" }));
  }

  forecastDetail(i) {
    if (i.lon !== undefined) this.view.map.focus({ lat: i.lat, lon: i.lon, target: i.target });
    const chain = (i.chain || []).map((c) => el("li", { text: typeof c === "string" ? c : `${c.clock || ""} ${kindLabel(c.kind)} ${c.target || ""} ${c.detail || ""}` }));
    this.detail(el("h3", { text: `${t("forecast_impact")}: ${kindLabel(i.kind)} ${i.name || i.target}` }),
      el("p", { text: `${i.clock || ""} ${i.detail || ""}` }), el("h4", { text: t("chain") }), el("ul", { class: "chain" }, chain));
  }

  // ---- review ----
  async renderReview() {
    const p = this.panel && this.panel.review;
    if (!p) return;
    let aar = null;
    try { aar = await api("GET", `/sessions/${this.view.id}/aar`); } catch (e) { p.replaceChildren(el("p", { class: "error", text: e.message })); return; }
    const cf = aar.counterfactual || {};
    const objectives = (aar.objectives || []).map((o) => el("li", { text: `${o.objective}: ${o.rating} (${o.rating_words || ""}) · ${o.answered}/${o.delivered}` }));
    const w = cf.with_actions, wo = cf.without_actions;
    const side = cf.state === "done" && w && wo
      ? el("table", { class: "list", "data-testid": "counterfactual" },
        el("thead", {}, el("tr", {}, ["", t("with_actions"), t("without_actions")].map((h) => el("th", { text: h })))),
        el("tbody", {}, Object.keys(w).map((k) => el("tr", {}, el("td", { text: k.replace(/_/g, " ") }),
          el("td", { text: String(Math.round(w[k] * 10) / 10) }), el("td", { text: String(Math.round((wo[k] || 0) * 10) / 10) })))))
      : el("p", { class: "muted", text: cf.state ? `${t("counterfactual")}: ${cf.state}` : "" });
    p.replaceChildren(
      el("p", {}, el("a", { href: `${API}/sessions/${this.view.id}/aar.html`, target: "_blank", rel: "noopener", text: t("open_review"), "data-testid": "aar-link" })),
      el("h3", { text: t("objectives") }), el("ul", {}, objectives),
      el("h3", { text: t("counterfactual") }), side,
      mayDirect(this.me, this.mode) ? el("button", { text: t("run_counterfactual"), "data-testid": "run-counterfactual", onclick: () =>
        api("POST", `/sessions/${this.view.id}/aar`, { counterfactual: true }).then(() => toast(t("accepted"))).catch((e) => toast(t("refused", e.message), "error")) }) : null);
  }
}
