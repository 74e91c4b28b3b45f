"use strict";
// Labels in French (the users') and English. t("key", a, b) fills {0}, {1}.

const LABELS = {
  fr: {
    tagline: "Jumeau numérique et salle de crise", user: "Identifiant", password: "Mot de passe", login: "Se connecter",
    logout: "Déconnexion", sessions: "Sessions", name: "Nom", mode: "Mode", state: "État", sim_time: "Heure simulée",
    speed: "Vitesse", open: "Ouvrir", no_sessions: "Aucune session pour l'instant.", new_session: "Nouvelle session",
    create: "Créer", scenario: "Scénario", exercise: "Exercice", live: "Temps réel", replay: "Rejeu",
    created: "créée", running: "en cours", paused: "en pause", stopped: "arrêtée",
    start: "Démarrer", pause: "Pause", resume: "Reprendre", stop: "Arrêter", seek: "Aller à",
    lagging: "en retard : x{0}", elapsed: "écoulé {0}", map: "Carte du territoire", close: "Fermer",
    timeline: "Journal", injects: "Stimuli", msel: "Chronogramme (MSEL)", alert: "Alerte", procedures: "Fiches réflexes",
    live_room: "Veille", review: "Retex", all_kinds: "Tout", filter: "Filtrer",
    kpi_roads: "routes fermées", kpi_people: "personnes en danger", kpi_assets: "sites hors service",
    kpi_vehicles: "véhicules en circulation",
    legend: "Légende", depth: "Hauteur d'eau (m)", road_open: "route ouverte", road_slowed: "route ralentie (eau)",
    road_closed: "route fermée", asset_ok: "site en service", asset_backup: "sur secours", asset_cut: "inaccessible",
    asset_failed: "hors service", sensor: "capteur", sensor_stale: "capteur muet", forecast_impact: "impact prévu",
    observed: "observé", chain: "Chaîne des causes", caused_by: "causé par", no_chain: "Aucune cause enregistrée.",
    close_road: "Fermer cette route", close_both: "Fermer les deux sens", reopen_road: "Rouvrir",
    lower_bollard: "Abaisser la borne", light_program: "Programme", light_off: "Éteindre", light_flashing: "Clignotant",
    restore_light: "Rétablir", apply: "Appliquer", dispatch: "Engager un moyen", unit: "Moyen", from: "Depuis",
    to: "Vers", send: "Envoyer", acknowledge: "Accuser réception", comment: "Commentaire", acknowledged: "acquitté",
    inbox_empty: "Aucun stimulus reçu.", fire: "Déclencher", hold: "Retenir", release: "Libérer", cancel: "Annuler",
    test_fire: "Tester", scheduled: "programmé", on_hold: "retenu", delivered: "délivré", cancelled: "annulé",
    players: "Activité des cellules", cap_event: "Événement", cap_headline: "Titre", cap_description: "Description",
    cap_instruction: "Consigne", severity: "Gravité", urgency: "Urgence", certainty: "Certitude",
    area: "Zone", draw_area: "Dessiner la zone sur la carte", drawing: "Cliquez les sommets, puis « Terminer »",
    finish: "Terminer", clear: "Effacer", reach: "Population touchée", alerts_sent: "Alertes émises",
    steps: "étapes", done: "fait", tick: "Cocher", feeds: "Santé des capteurs", last_value: "dernière valeur",
    last_seen: "vu", stale: "muet", forecast: "Prévision", issued: "émise à {0}", horizon: "horizon {0} min",
    forecast_now: "Prévoir maintenant", no_forecast: "Pas encore de prévision.", scores: "Scores prévision / observé",
    hit_rate: "taux de détection", far: "fausses alertes", csi: "CSI", open_review: "Ouvrir le retex (HTML)",
    counterfactual: "Contrefactuel (sans les actions des joueurs)", run_counterfactual: "Lancer le contrefactuel",
    with_actions: "avec actions", without_actions: "sans actions", objectives: "Objectifs",
    refused: "Refusé : {0}", accepted: "Pris en compte", sent: "Envoyé", wrong_login: "Identifiant ou mot de passe inconnu",
    connection_lost: "Connexion perdue, reconnexion…", at: "à {0}", people: "{0} pers.", impacts_forecast: "Impacts prévus",
    changes: "Changements", no_permission: "Votre rôle ne le permet pas.", replay_of: "rejeu de {0}",
    layers: "Couches", relief: "Relief", water: "Eau", roads: "Routes", buildings: "Bâtiments", assets: "Sites sensibles",
    sensors: "Capteurs", zones: "Quartiers", lights: "Feux", reports: "Signalements", forecast_layer: "Prévision",
    traffic: "Trafic", traffic_free: "fluide", traffic_dense: "dense", traffic_slow: "ralenti", traffic_jammed: "bloqué",
    traffic_empty: "aucun véhicule", traffic_edge: "{0} véh. · {1} % de la vitesse limite ({2})",
    view_3d: "Vue 3D", view_3d_help: "Le territoire en 3D tel qu'il est à cette heure : l'eau, les routes fermées, les sites hors service",
    view_drawing: "dessin de la vue 3D…", view_3d_legend: "En rouge les routes fermées ; les sites hors service en noir (défaillants), orange (isolés) ou jaune (sur secours). Cliquez pour l'ouvrir en grand.",
    green_wave: "Onde verte", gw_help: "Choisissez une rue, ou ajoutez les feux un à un depuis la carte, dans l'ordre le long de la rue ; le plan est calculé et simulé avec SUMO sur la demande du territoire.",
    gw_street: "Rue", gw_pick_street: "— une rue à feux —", gw_speed: "Vitesse de progression (km/h)",
    gw_begin: "Début (hh:mm)", gw_end: "Fin (hh:mm)", gw_run: "Calculer le plan", gw_add: "Ajouter à l'onde verte",
    gw_added: "{0} ajouté ({1} feux)", gw_empty: "Aucun feu choisi.", gw_up: "monter", gw_down: "descendre", gw_remove: "retirer",
    gw_bad_time: "« {0} » n'est pas une heure hh:mm", gw_running: "calcul en cours", gw_done: "terminé", gw_failed: "échec",
    gw_interrupted: "interrompu", gw_baseline: "Actuel", gw_plan: "Plan", gw_download: "Télécharger le plan (SUMO)",
    gw_diagram: "Diagramme espace-temps : {0}", gw_history: "Plans calculés ({0})",
    gw_summary: "{0}, {1} m : cycle {2} s, bande verte {3} s aller, {4} s retour.",
    gw_corridor_tt: "Axe : temps de parcours (s)", gw_corridor_delay: "Axe : retard (s)", gw_corridor_stops: "Axe : arrêts par véhicule",
    gw_forward_tt: "Axe entier, aller (s)", gw_backward_tt: "Axe entier, retour (s)", gw_cross_tt: "Rues transversales (s)",
    gw_all_tt: "Tous les trajets (s)", gw_trips: "Trajets achevés", gw_queue: "File moyenne aux feux (véh)",
    gw_band_forward: "Bande verte aller (s)", gw_band_backward: "Bande verte retour (s)",
    gw_apply: "Ouvrir un exercice avec ce plan", gw_applied: "Les feux de cet exercice suivent le plan d'onde verte #{0} (session {1}).",
  },
  en: {
    tagline: "Digital twin and crisis room", user: "User", password: "Password", login: "Log in", logout: "Log out",
    sessions: "Sessions", name: "Name", mode: "Mode", state: "State", sim_time: "Sim time", speed: "Speed", open: "Open",
    no_sessions: "No session yet.", new_session: "New session", create: "Create", scenario: "Scenario",
    exercise: "Exercise", live: "Live", replay: "Replay", created: "created", running: "running", paused: "paused",
    stopped: "stopped", start: "Start", pause: "Pause", resume: "Resume", stop: "Stop", seek: "Seek",
    lagging: "lagging: x{0}", elapsed: "elapsed {0}", map: "Map of the territory", close: "Close",
    timeline: "Timeline", injects: "Injects", msel: "MSEL", alert: "Alert", procedures: "Procedures",
    live_room: "Live room", review: "Review", all_kinds: "All", filter: "Filter",
    kpi_roads: "roads closed", kpi_people: "people at risk", kpi_assets: "assets out of service",
    kpi_vehicles: "vehicles running",
    legend: "Legend", depth: "Water depth (m)", road_open: "road open", road_slowed: "road slowed (water)",
    road_closed: "road closed", asset_ok: "asset in service", asset_backup: "on backup", asset_cut: "cut off",
    asset_failed: "failed", sensor: "sensor", sensor_stale: "stale sensor", forecast_impact: "forecast impact",
    observed: "observed", chain: "Chain of causes", caused_by: "caused by", no_chain: "No cause recorded.",
    close_road: "Close this road", close_both: "Close both ways", reopen_road: "Reopen", lower_bollard: "Lower bollard",
    light_program: "Program", light_off: "Switch off", light_flashing: "Flashing", restore_light: "Restore",
    apply: "Apply", dispatch: "Dispatch a unit", unit: "Unit", from: "From", to: "To", send: "Send",
    acknowledge: "Acknowledge", comment: "Comment", acknowledged: "acknowledged", inbox_empty: "No inject received.",
    fire: "Fire", hold: "Hold", release: "Release", cancel: "Cancel", test_fire: "Test", scheduled: "scheduled",
    on_hold: "on hold", delivered: "delivered", cancelled: "cancelled", players: "Players' activity",
    cap_event: "Event", cap_headline: "Headline", cap_description: "Description", cap_instruction: "Instruction",
    severity: "Severity", urgency: "Urgency", certainty: "Certainty", area: "Area", draw_area: "Draw the area on the map",
    drawing: "Click the corners, then \u201cFinish\u201d", finish: "Finish", clear: "Clear", reach: "People reached",
    alerts_sent: "Alerts sent", steps: "steps", done: "done", tick: "Tick", feeds: "Feeds health",
    last_value: "last value", last_seen: "seen", stale: "stale", forecast: "Forecast", issued: "issued at {0}",
    horizon: "horizon {0} min", forecast_now: "Forecast now", no_forecast: "No forecast yet.",
    scores: "Forecast vs observed", hit_rate: "hit rate", far: "false alarm ratio", csi: "CSI",
    open_review: "Open the review (HTML)", counterfactual: "Counterfactual (without the players' actions)",
    run_counterfactual: "Run the counterfactual", with_actions: "with actions", without_actions: "without",
    objectives: "Objectives", refused: "Refused: {0}", accepted: "Taken", sent: "Sent",
    wrong_login: "Unknown user or wrong password", connection_lost: "Connection lost, reconnecting\u2026", at: "at {0}",
    people: "{0} people", impacts_forecast: "Forecast impacts", changes: "Changes",
    no_permission: "Your role does not allow it.", replay_of: "replay of {0}",
    layers: "Layers", relief: "Relief", water: "Water", roads: "Roads", buildings: "Buildings", assets: "Critical assets",
    sensors: "Sensors", zones: "Neighbourhoods", lights: "Traffic lights", reports: "Reports", forecast_layer: "Forecast",
    traffic: "Traffic", traffic_free: "free flow", traffic_dense: "dense", traffic_slow: "slow", traffic_jammed: "jammed",
    traffic_empty: "no vehicles", traffic_edge: "{0} veh. · {1} % of the speed limit ({2})",
    view_3d: "3D view", view_3d_help: "The territory in 3D as it stands at this time: the water, the roads closed, the assets out of service",
    view_drawing: "drawing the 3D view…", view_3d_legend: "Roads closed in red; assets out of service in black (failed), orange (cut off) or yellow (on backup). Click to open it full size.",
    green_wave: "Green wave", gw_help: "Pick a street, or add lights one by one from the map, in order along the street; the plan is computed and simulated with SUMO on the territory's demand.",
    gw_street: "Street", gw_pick_street: "— a signalised street —", gw_speed: "Progression speed (km/h)",
    gw_begin: "From (hh:mm)", gw_end: "To (hh:mm)", gw_run: "Plan", gw_add: "Add to the green wave",
    gw_added: "{0} added ({1} lights)", gw_empty: "No light picked.", gw_up: "up", gw_down: "down", gw_remove: "remove",
    gw_bad_time: "\u201c{0}\u201d is not a time hh:mm", gw_running: "computing", gw_done: "done", gw_failed: "failed",
    gw_interrupted: "interrupted", gw_baseline: "Current", gw_plan: "Plan", gw_download: "Download the plan (SUMO)",
    gw_diagram: "Time-space diagram: {0}", gw_history: "Plans computed ({0})",
    gw_summary: "{0}, {1} m: cycle {2} s, green band {3} s forward, {4} s backward.",
    gw_corridor_tt: "Corridor: travel time (s)", gw_corridor_delay: "Corridor: delay (s)", gw_corridor_stops: "Corridor: stops per vehicle",
    gw_forward_tt: "Whole corridor, forward (s)", gw_backward_tt: "Whole corridor, backward (s)", gw_cross_tt: "Cross streets (s)",
    gw_all_tt: "All trips (s)", gw_trips: "Trips completed", gw_queue: "Mean queue at the lights (veh)",
    gw_band_forward: "Green band forward (s)", gw_band_backward: "Green band backward (s)",
    gw_apply: "Open an exercise with this plan", gw_applied: "This exercise's lights run green-wave plan #{0} (session {1}).",
  },
};

// Record kinds, as a crisis manager says them.
const KINDS = {
  fr: {
    inflow: "apport du cours d'eau", rain: "pluie", forcing_changed: "forçage modifié", flood_nudged: "eau corrigée par capteur",
    traffic_followed: "trafic recalé", water: "eau", water_receded: "décrue", action: "action", road_closed: "route fermée",
    road_reopened: "route rouverte", asset_on_backup: "site sur secours", asset_failed: "site hors service",
    asset_recovered: "site rétabli", asset_cut_off: "site inaccessible", asset_reachable: "site de nouveau accessible",
    zone_without_power: "quartier sans électricité", zone_power_restored: "électricité rétablie",
    zone_access_degraded: "accès dégradé", zone_unreachable: "quartier inaccessible", zone_access_restored: "accès rétabli",
    zone_flooded: "quartier inondé", people_at_risk: "personnes en danger", unit_dispatched: "moyen engagé",
    unit_arrived: "moyen arrivé", unit_stopped: "moyen bloqué", observation: "mesure", observation_rejected: "mesure rejetée",
    inject_delivered: "stimulus", inject_acknowledged: "accusé de réception", alert_sent: "alerte émise",
    alert_awaiting_approval: "alerte à valider", procedure_proposed: "fiche proposée", procedure_step: "étape cochée",
    citizen_report: "signalement", clock: "horloge", forecast: "prévision", threshold_alert: "seuil franchi",
    forecast_verified: "prévision vérifiée", action_accepted: "action prise", action_refused: "action refusée",
  },
  en: {},
};

let lang = localStorage.getItem("cadereau.lang") || "fr";

function t(key, ...args) {
  const text = (LABELS[lang] && LABELS[lang][key]) || LABELS.en[key] || key;
  return text.replace(/\{(\d)\}/g, (_, i) => (args[i] === undefined ? "" : String(args[i])));
}

function kindLabel(kind) {
  return (KINDS[lang] && KINDS[lang][kind]) || (kind || "").replace(/_/g, " ");
}

function applyLabels(root = document) {
  document.documentElement.lang = lang;
  root.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
  root.querySelectorAll("[data-i18n-label]").forEach((el) => {
    el.setAttribute("aria-label", t(el.dataset.i18nLabel));
    if ("placeholder" in el) el.placeholder = t(el.dataset.i18nLabel);
  });
  root.querySelectorAll("[data-i18n-title]").forEach((el) => { el.title = t(el.dataset.i18nTitle); });
  const button = document.getElementById("lang");
  if (button) button.textContent = lang === "fr" ? "EN" : "FR";
}

function toggleLanguage() {
  lang = lang === "fr" ? "en" : "fr";
  localStorage.setItem("cadereau.lang", lang);
  applyLabels();
  document.dispatchEvent(new CustomEvent("languagechange"));
}
