"use strict";
// The map of a session: the territory (relief, buildings, roads,
// neighbourhoods), the water of the latest frame, roads and assets by state,
// sensors with their latest reading, forecast impacts apart from observed
// ones, a legend and a scale. Leaflet, served by the server itself.

const ROAD_COLOURS = { open: "#6b6b6b", slowed: "#f28e2b", closed: "#d7191c" };
// The traffic reading's levels (server: web::traffic_level), drawn as a halo under the streets.
const TRAFFIC_COLOURS = { 1: "#b197fc", 2: "#7048e8", 3: "#35138f" };
const TRAFFIC_NAMES = { 1: "dense", 2: "slow", 3: "jammed" };
const ASSET_COLOURS = { ok: "#2b8a3e", backup: "#f2b705", cut: "#7b2cbf", failed: "#d7191c" };
const ASSET_LETTERS = {
  hospital: "H", school: "É", retirement_home: "R", fire_station: "P", police: "G", crisis_post: "C",
  substation: "⚡", pumping_station: "Π", telecom_node: "T", underpass: "U", car_park: "P", traffic_signal: "",
  water_treatment: "W",
};

// One request at a time for a layer that follows the clock; the time asked
// last while one runs is the one loaded next ("latest" for null).
class NewestWins {
  constructor(load) {
    this.load = load;  // (time or "latest") -> Promise
    this.loading = false;
    this.wanted = null;
  }

  ask(t_s) {
    this.wanted = t_s === null || t_s === undefined ? "latest" : t_s;
    if (this.loading) return;
    const want = this.wanted;
    this.wanted = null;
    this.loading = true;
    this.load(want).finally(() => {
      this.loading = false;
      if (this.wanted !== null) this.ask(this.wanted === "latest" ? null : this.wanted);
    });
  }
}

class TwinMap {
  constructor(container, base, handlers) {
    this.container = container;
    this.base = base;            // "/api/v1/sessions/ID"
    this.handlers = handlers;    // {road(feature, state), asset(feature, state), light(feature), sensor(feature), mapClick(latlng)}
    this.roadState = new Map();  // edge -> {closed, slowed}
    this.assetState = new Map(); // id -> ok | backup | cut | failed
    this.roadLayers = new Map();
    this.assetLayers = new Map();
    this.sensorLayers = new Map();
    this.lightAt = new Map();    // id -> latlng
    this.waterTime = null;
    this.waterRequests = new NewestWins((want) => this.loadWater(want));
    this.traffic = new Map();    // edge -> [vehicles, speed over the limit, level], the latest reading shown
    this.trafficTime = null;
    this.trafficRequests = new NewestWins((want) => this.loadTraffic(want));
    this.drawing = null;
  }

  async load(fetchJson) {
    const doc = await fetchJson(`${this.base}/map`);
    this.doc = doc;
    learnNames(doc);
    const bounds = L.latLngBounds(doc.bounds);
    const map = L.map(this.container, {
      preferCanvas: true, zoomSnap: 0.25, maxBounds: bounds.pad(0.5), minZoom: 11, maxZoom: 19, keyboard: true,
      attributionControl: false,
    });
    this.map = map;
    this.bounds = bounds;
    map.fitBounds(bounds);
    // The relief is the ground, in the tile pane (200); the water above it;
    // then the traffic, under the streets (the overlay pane, 400): congested
    // streets wear a halo.
    map.createPane("water").style.zIndex = 390;
    map.createPane("traffic").style.zIndex = 395;
    this.trafficRenderer = L.canvas({ pane: "traffic" });
    map.createPane("forecast").style.zIndex = 640;

    this.relief = L.imageOverlay(`${this.base}/map/relief.png`, bounds, { pane: "tilePane", alt: t("relief") }).addTo(map);
    this.water = L.imageOverlay("data:image/gif;base64,R0lGODlhAQABAAAAACwAAAAAAQABAAA=", bounds,
      { pane: "water", className: "water-overlay" }).addTo(map);
    this.zones = L.geoJSON(doc.zones, {
      style: { color: "#6a51a3", weight: 1, dashArray: "4 4", fillOpacity: 0.03 },
      onEachFeature: (f, layer) => layer.bindTooltip(`${f.properties.name} · ${Math.round(f.properties.population)} hab.`, { sticky: true }),
    }).addTo(map);
    this.buildings = L.geoJSON(doc.buildings, {
      style: { color: "#8c8c8c", weight: 0.5, fillColor: "#bdbdbd", fillOpacity: 0.5 }, interactive: false,
    }).addTo(map);
    this.roads = L.geoJSON(doc.roads, {
      style: (f) => this.roadStyle(f),
      onEachFeature: (f, layer) => {
        this.roadLayers.set(f.properties.id, layer);
        layer.on("click", (ev) => { L.DomEvent.stopPropagation(ev); if (!this.drawing) this.handlers.road(f, this.roadStateOf(f.properties.id), ev.latlng); });
        layer.bindTooltip(() => `${f.properties.name || f.properties.id} (${f.properties.id})`, { sticky: true });
      },
    }).addTo(map);
    this.lights = L.geoJSON(doc.lights, {
      pointToLayer: (f, latlng) => L.circleMarker(latlng, { radius: 4, color: "#222", weight: 1, fillColor: "#ffd43b", fillOpacity: 1 }),
      onEachFeature: (f, layer) => {
        this.lightAt.set(f.properties.id, layer.getLatLng());
        layer.bindTooltip(`${t("lights")} ${f.properties.id}`);
        layer.on("click", (ev) => { L.DomEvent.stopPropagation(ev); if (!this.drawing) this.handlers.light(f, ev.latlng); });
      },
    });
    this.assets = L.geoJSON(doc.assets, {
      filter: (f) => f.properties.type !== "traffic_signal",
      pointToLayer: (f, latlng) => L.marker(latlng, { icon: this.assetIcon(f, "ok"), keyboard: true, title: f.properties.name }),
      onEachFeature: (f, layer) => {
        this.assetLayers.set(f.properties.id, layer);
        layer.on("click", (ev) => { L.DomEvent.stopPropagation(ev); if (!this.drawing) this.handlers.asset(f, this.assetState.get(f.properties.id) || "ok"); });
      },
    }).addTo(map);
    this.sensors = L.geoJSON(doc.sensors, {
      pointToLayer: (f, latlng) => L.marker(latlng, { icon: this.sensorIcon(f, null), keyboard: true, title: f.properties.name }),
      onEachFeature: (f, layer) => {
        this.sensorLayers.set(f.properties.id, layer);
        layer.bindTooltip(() => this.sensorText(f));
        layer.on("click", (ev) => { L.DomEvent.stopPropagation(ev); if (!this.drawing) this.handlers.sensor(f); });
      },
    }).addTo(map);
    this.trafficLayer = L.layerGroup().addTo(map);
    this.forecast = L.layerGroup().addTo(map);
    this.reports = L.layerGroup().addTo(map);
    this.highlight = L.layerGroup().addTo(map);
    this.corridor = L.layerGroup().addTo(map);
    this.lights.addTo(map);

    L.control.scale({ imperial: false, maxWidth: 160 }).addTo(map);
    this.layerControl = L.control.layers(null, {
      [t("relief")]: this.relief, [t("water")]: this.water, [t("zones")]: this.zones, [t("buildings")]: this.buildings,
      [t("roads")]: this.roads, [t("traffic")]: this.trafficLayer, [t("lights")]: this.lights, [t("assets")]: this.assets, [t("sensors")]: this.sensors,
      [t("forecast_layer")]: this.forecast, [t("reports")]: this.reports,
    }, { collapsed: true }).addTo(map);
    this.legend = L.control({ position: "bottomright" });
    this.legend.onAdd = () => this.legendElement();
    this.legend.addTo(map);
    map.on("click", (ev) => this.onMapClick(ev));
    map.on("zoomend", () => { this.roads.setStyle((f) => this.roadStyle(f)); this.drawTraffic(); });
    this.sensorValues = new Map();
  }

  // A green-wave corridor being planned: its lights numbered in order, joined.
  showCorridor(ids) {
    this.corridor.clearLayers();
    const points = ids.map((id) => this.lightAt.get(id)).filter(Boolean);
    if (points.length > 1) L.polyline(points, { color: "#12b886", weight: 6, opacity: 0.6, interactive: false }).addTo(this.corridor);
    ids.forEach((id, k) => {
      const at = this.lightAt.get(id);
      if (at) L.marker(at, { interactive: false, icon: L.divIcon({ className: "corridor-mark", html: String(k + 1), iconSize: [18, 18] }) })
        .addTo(this.corridor);
    });
  }

  legendElement() {
    const box = L.DomUtil.create("div", "legend");
    box.setAttribute("data-testid", "legend");
    const ramp = this.doc.depth_ramp;
    const rows = [el("h4", { text: t("depth") })];
    ramp.forEach((s, i) => rows.push(el("div", { class: "legend-row" },
      el("span", { class: "swatch", style: `background:${s.colour}` }),
      i + 1 < ramp.length ? `${s.m}–${ramp[i + 1].m}` : `≥ ${s.m}`)));
    rows.push(el("h4", { text: t("roads") }));
    for (const [k, c] of Object.entries(ROAD_COLOURS))
      rows.push(el("div", { class: "legend-row" }, el("span", { class: "line", style: `background:${c}` }), t(`road_${k}`)));
    rows.push(el("h4", { text: t("traffic") }));
    for (const [k, c] of Object.entries(TRAFFIC_COLOURS))
      rows.push(el("div", { class: "legend-row" }, el("span", { class: "line halo", style: `background:${c}` }), t(`traffic_${TRAFFIC_NAMES[k]}`)));
    rows.push(el("h4", { text: t("assets") }));
    for (const [k, c] of Object.entries(ASSET_COLOURS))
      rows.push(el("div", { class: "legend-row" }, el("span", { class: "dot", style: `background:${c}` }), t(`asset_${k}`)));
    rows.push(el("div", { class: "legend-row" }, el("span", { class: "diamond" }), t("sensor")));
    rows.push(el("div", { class: "legend-row" }, el("span", { class: "diamond stale" }), t("sensor_stale")));
    rows.push(el("div", { class: "legend-row" }, el("span", { class: "ring forecast" }), t("forecast_impact")));
    box.append(...rows);
    L.DomEvent.disableClickPropagation(box);
    return box;
  }

  relabel() {
    if (!this.map) return;
    this.legend.remove();
    this.legend.addTo(this.map);
  }

  roadStateOf(id) {
    const s = this.roadState.get(id);
    return s ? (s.closed ? "closed" : s.slowed ? "slowed" : "open") : "open";
  }

  roadStyle(f) {
    const state = this.roadStateOf(f.properties.id);
    const zoom = this.map ? this.map.getZoom() : 14;
    const base = f.properties.main ? 3 : 1.5;
    const weight = (state === "open" ? base : base + 2) * Math.max(0.6, Math.min(2.2, (zoom - 12) / 2));
    return { color: ROAD_COLOURS[state], weight, opacity: state === "open" ? 0.8 : 1 };
  }

  setRoad(id, change) {
    const s = this.roadState.get(id) || { closed: false, slowed: false };
    Object.assign(s, change);
    this.roadState.set(id, s);
    const layer = this.roadLayers.get(id);
    if (layer) layer.setStyle(this.roadStyle(layer.feature));
  }

  assetIcon(f, state) {
    const letter = ASSET_LETTERS[f.properties.type] ?? "•";
    return L.divIcon({
      className: `asset-icon asset-${state}`, iconSize: [22, 22],
      html: `<span style="background:${ASSET_COLOURS[state]}">${letter}</span>`,
    });
  }

  setAsset(id, state) {
    this.assetState.set(id, state);
    const layer = this.assetLayers.get(id);
    if (layer) layer.setIcon(this.assetIcon(layer.feature, state));
  }

  sensorIcon(f, reading) {
    const stale = reading && reading.stale;
    const value = reading && reading.value !== undefined && reading.value !== null ? reading.text : "";
    return L.divIcon({
      className: `sensor-icon${stale ? " stale" : ""}`, iconSize: [14, 14],
      html: `<i></i>${value ? `<b>${value}</b>` : ""}`,
    });
  }

  sensorText(f) {
    const r = this.sensorValues && this.sensorValues.get(f.properties.id);
    const head = `${f.properties.name} (${f.properties.kind.replace(/_/g, " ")})`;
    if (!r) return head;
    return `${head}<br>${r.text}${r.stale ? ` — ${t("stale")}` : ""}${r.seen ? ` · ${t("last_seen")} ${r.seen}` : ""}`;
  }

  // reading: {value, unit, stale, seen}
  setSensor(id, reading) {
    const layer = this.sensorLayers.get(id);
    if (!layer) return;
    const unit = reading.unit || "";
    reading.text = reading.value === null || reading.value === undefined ? "—"
      : `${Number(reading.value).toFixed(unit === "m" ? 2 : 1)}${unit ? ` ${unit}` : ""}`;
    this.sensorValues.set(id, reading);
    layer.setIcon(this.sensorIcon(layer.feature, reading));
  }

  // The water of the frame recorded at t_s (the latest when null).
  refreshWater(t_s) {
    this.waterRequests.ask(t_s);
  }

  loadWater(want) {
    const url = `${this.base}/water.png${want === "latest" ? `?n=${Date.now()}` : `?t=${want}`}`;
    return new Promise((resolve) => {
      const img = new Image();
      img.onload = () => { this.water.setUrl(url); this.waterTime = want; this.container.dataset.water = String(want); resolve(); };
      img.onerror = resolve;  // no frame yet
      img.src = url;
    });
  }

  // The traffic reading at t_s (the latest when null).
  refreshTraffic(t_s) {
    this.trafficRequests.ask(t_s);
  }

  loadTraffic(want) {
    return fetch(`${this.base}/traffic${want === "latest" ? "" : `?t=${want}`}`, { credentials: "same-origin" })
      .then((r) => (r.ok ? r.json() : null))
      .then((reading) => {
        // None yet (or before the first reading of a replay): no halo.
        this.traffic = new Map(Object.entries((reading && reading.edges) || {}));
        this.trafficTime = reading ? reading.t_s : null;
        this.container.dataset.traffic = reading ? String(reading.t_s) : "";
        this.drawTraffic();
      })
      .catch(() => {});
  }

  // A street's level is its busier direction's: both are drawn on the same line.
  trafficLevelOf(id) {
    const own = this.traffic.get(id);
    const layer = this.roadLayers.get(id);
    const reverse = layer && layer.feature.properties.reverse ? this.traffic.get(layer.feature.properties.reverse) : null;
    return Math.max(own ? own[2] : 0, reverse ? reverse[2] : 0);
  }

  drawTraffic() {
    if (!this.trafficLayer) return;
    this.trafficLayer.clearLayers();
    const zoom = this.map.getZoom();
    let drawn = 0;
    for (const [id, layer] of this.roadLayers) {
      const level = this.trafficLevelOf(id);
      if (!level || this.roadStateOf(id) === "closed") continue;
      const base = layer.feature.properties.main ? 3 : 1.5;
      const weight = (base + 5) * Math.max(0.6, Math.min(2.2, (zoom - 12) / 2));
      L.polyline(layer.getLatLngs(), { renderer: this.trafficRenderer, color: TRAFFIC_COLOURS[level], weight, opacity: 0.85,
        interactive: false, lineCap: "round" }).addTo(this.trafficLayer);
      drawn += 1;
    }
    this.container.dataset.trafficDrawn = String(drawn);
  }

  // "12 vehicles · 35 % of the limit (slow)" for a road's popup; null without a reading.
  trafficText(id) {
    if (this.trafficTime === null) return null;
    const r = this.traffic.get(id);
    if (!r) return t("traffic_empty");
    return t("traffic_edge", r[0], Math.round(r[1] * 100), t(`traffic_${TRAFFIC_NAMES[r[2]] || "free"}`));
  }

  showForecast(forecast) {
    this.forecast.clearLayers();
    if (!forecast) return;
    for (const i of forecast.impacts || []) {
      if (i.lon === undefined) continue;
      const marker = L.circleMarker([i.lat, i.lon], {
        pane: "forecast", radius: 7, color: "#7b2cbf", weight: 2, dashArray: "3 3", fillOpacity: 0.05,
      });
      marker.bindTooltip(`${t("forecast_impact")}: ${kindLabel(i.kind)} ${i.name || i.target} ${i.clock || ""}`);
      marker.on("click", () => this.handlers.forecastImpact && this.handlers.forecastImpact(i));
      marker.addTo(this.forecast);
    }
  }

  addReport(e) {
    const p = e.point && e.point.coordinates ? { lon: e.point.coordinates[0], lat: e.point.coordinates[1] }
      : e.lon !== undefined ? e : null;
    if (!p) return;
    L.marker([p.lat, p.lon], { icon: L.divIcon({ className: "report-icon", iconSize: [18, 18], html: "!" }) })
      .bindTooltip(`${e.category || ""} ${e.text || ""}`).addTo(this.reports);
  }

  place(e) {
    if (e.lat !== undefined && e.lon !== undefined) return L.latLng(e.lat, e.lon);
    const road = this.roadLayers.get(e.target);
    if (road) return road.getBounds().getCenter();
    const asset = this.assetLayers.get(e.target);
    if (asset) return asset.getLatLng();
    const sensor = this.sensorLayers.get(e.target);
    if (sensor) return sensor.getLatLng();
    return null;
  }

  focus(e) {
    const at = this.place(e);
    this.highlight.clearLayers();
    if (!at) return false;
    const road = this.roadLayers.get(e.target);
    if (road) L.geoJSON(road.feature, { style: { color: "#00b4d8", weight: 9, opacity: 0.55 }, interactive: false }).addTo(this.highlight);
    L.circleMarker(at, { radius: 16, color: "#00b4d8", weight: 3, fill: false, interactive: false }).addTo(this.highlight);
    this.map.flyTo(at, Math.max(this.map.getZoom(), 15), { duration: 0.6 });
    return true;
  }

  // ---- drawing a polygon (the CAP workbench) ----
  startDrawing(onChange) {
    this.stopDrawing();
    this.drawing = { points: [], onChange, layer: L.polygon([], { color: "#c92a2a", weight: 2, fillOpacity: 0.15 }).addTo(this.map) };
    this.container.classList.add("drawing");
  }

  onMapClick(ev) {
    if (this.drawing) {
      this.drawing.points.push(ev.latlng);
      this.drawing.layer.setLatLngs(this.drawing.points);
      this.drawing.onChange(this.drawing.points.map((p) => [p.lng, p.lat]));
      return;
    }
    if (this.handlers.mapClick) this.handlers.mapClick(ev.latlng);
  }

  stopDrawing(keep = false) {
    if (!this.drawing) return;
    if (!keep) this.drawing.layer.remove();
    else this.area = this.drawing.layer;
    this.container.classList.remove("drawing");
    this.drawing = null;
  }

  clearArea() {
    if (this.area) this.area.remove();
    this.area = null;
  }

  destroy() {
    if (this.map) this.map.remove();
    this.map = null;
  }
}
