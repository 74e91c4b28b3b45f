"use strict";
// The session's records as the stream gives them, and their chains of
// causes: every engine record names the earlier records that caused it.

function pad2(n) { return String(n).padStart(2, "0"); }

// The clock time of sim time t_s for a session starting at `start`
// ("1988-10-03T07:00:00", its local time, or an ISO instant for live sessions).
function clockText(start, t_s) {
  const m = /T(\d\d):(\d\d)(?::(\d\d))?/.exec(start || "");
  let s = Math.floor(t_s || 0);
  if (m) {
    let base = (+m[1]) * 3600 + (+m[2]) * 60 + (+(m[3] || 0));
    if (/Z$|[+-]\d\d:?\d\d$/.test(start)) {  // an instant: shown in the browser's time zone
      const d = new Date(Date.parse(start) + s * 1000);
      return `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
    }
    s += base;
  }
  s = ((s % 86400) + 86400) % 86400;
  return `${pad2(Math.floor(s / 3600))}:${pad2(Math.floor(s / 60) % 60)}:${pad2(s % 60)}`;
}

function durationText(s) {
  s = Math.max(0, Math.round(s || 0));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${pad2(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${pad2(Math.floor(s / 60) % 60)} min`;
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (k === "dataset") Object.assign(node.dataset, v);
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) node.append(c);
  return node;
}

class Records {
  constructor() { this.clear(); }

  clear() {
    this.list = [];              // every journal message, in seq order
    this.byRecord = new Map();   // engine record id -> event
    this.lastSeq = 0;
  }

  // Returns false for a message already held (a stream that resumed).
  add(e) {
    if (e.seq !== undefined) {
      if (e.seq <= this.lastSeq) return false;
      this.lastSeq = e.seq;
    }
    this.list.push(e);
    if (e.record !== undefined) this.byRecord.set(e.record, e);
    return true;
  }

  // Drops what came after seq (a replay that seeks back).
  truncate(seq) {
    this.list = this.list.filter((e) => e.seq === undefined || e.seq <= seq);
    this.byRecord = new Map(this.list.filter((e) => e.record !== undefined).map((e) => [e.record, e]));
    this.lastSeq = seq;
  }

  // The causes of an event as a tree: [{event, causes: [...]}], each record
  // once (a chain shares its roots), at most `budget` nodes.
  chain(e, budget = 60) {
    const seen = new Set();
    const walk = (ev, depth) => {
      const node = { event: ev, causes: [] };
      if (depth > 16) return node;
      for (const id of ev.causes || []) {
        if (seen.has(id) || budget <= 0) continue;
        seen.add(id);
        budget -= 1;
        const cause = this.byRecord.get(id);
        node.causes.push(cause ? walk(cause, depth + 1) : { event: { kind: "record", target: `#${id}` }, causes: [] });
      }
      return node;
    };
    return walk(e, 0);
  }
}

// Names of the territory's roads, assets, sensors and zones by id, from the map's layers.
const NAMES = new Map();
function learnNames(doc) {
  NAMES.clear();
  for (const layer of ["roads", "assets", "sensors", "zones"])
    for (const f of doc[layer].features) if (f.properties.name) NAMES.set(f.properties.id, f.properties.name);
}

function recordLine(e, start) {
  const when = e.t_s !== undefined ? clockText(start, e.t_s) : "";
  const what = kindLabel(e.kind || e.type);
  const named = e.target && NAMES.get(e.target);
  const target = e.name || (named ? `${named} (${e.target})` : e.target) || e.headline || e.title ||
    (e.inject !== undefined ? `#${e.inject}` : "");
  return { when, what, target, detail: e.detail || e.message || e.reason || "" };
}

// The chain as nested lists: the record, then what caused it, back to the hazard.
function chainView(records, e, start) {
  const tree = records.chain(e);
  const item = (node) => {
    const l = recordLine(node.event, start);
    const li = el("li", { class: `chain-node kind-${node.event.kind || ""}` },
      el("span", { class: "when", text: l.when }), " ",
      el("strong", { text: l.what }), " ", el("span", { class: "target", text: l.target }),
      l.detail ? el("div", { class: "detail-text", text: l.detail }) : null);
    if (node.causes.length) li.append(el("ul", {}, node.causes.map(item)));
    return li;
  };
  const root = el("ul", { class: "chain", "data-testid": "chain" }, item(tree));
  if (!tree.causes.length) root.append(el("li", { class: "muted", text: t("no_chain") }));
  return el("div", {}, el("h3", { text: t("chain") }), root);
}
