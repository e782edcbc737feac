// The fleet's live dashboard. Everything comes from the API this page is served by: GET /events is
// applied as it comes (a kernel removed goes at once), and what has no events is polled (the
// kernels' CPU and memory every second, pools, services and the autoscaler's status every two).
// Values are written as text only: names and messages come from containers and compose files.
"use strict";

(() => {
  const token = new URLSearchParams(location.search).get("token");
  const SAMPLES_KEPT = 60;  // a sparkline: the last minute at a sample a second
  const EVENTS_KEPT = 200;
  const POINTS_KEPT = 300;  // a chart: the last ten minutes at the autoscaler's 2 s interval
  // GET /events names each event; EventSource hands named events only to listeners of that name.
  const EVENT_TYPES = ["created", "started", "paused", "unpaused", "died", "removed", "health", "engine",
                       "pool", "scaling", "drain"];

  const kernels = new Map();   // kernel_id -> the row of GET /kernels
  const samples = new Map();   // kernel_id -> [{cpu, memory, limit}], oldest first
  const scaling = new Map();   // service -> decisions by time ({at, action, current, target, metrics})
  const charts = new Map();    // service -> Chart
  let autoscaling = {services: []};

  // The test reads what the charts draw from here (the Chart objects themselves).
  window.fleetDashboard = {kernels, samples, scaling, charts};

  const $ = (selector) => document.querySelector(selector);

  function element(tag, text, className) {
    const e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (className) e.className = className;
    return e;
  }

  function row(cells) {
    const tr = document.createElement("tr");
    for (const c of cells) tr.append(c instanceof Node ? wrap(c) : element("td", c));
    return tr;
  }

  function wrap(node) {
    const td = document.createElement("td");
    td.append(node);
    return td;
  }

  function bytes(n) {
    if (n === null || n === undefined) return "-";
    const units = ["B", "KiB", "MiB", "GiB"];
    let i = 0;
    while (n >= 1024 && i < units.length - 1) n /= 1024, i++;
    return n.toFixed(i ? 1 : 0) + " " + units[i];
  }

  function clock(date) {
    return date.toLocaleTimeString([], {hour12: false});
  }

  // What is wrong, by what found it (a failing poll, the engine): each clears its own.
  const problems = new Map();
  function problem(source, text) {
    text ? problems.set(source, text) : problems.delete(source);
    const p = $("#problem");
    p.hidden = problems.size === 0;
    p.textContent = [...problems.values()].join("; ");
  }

  async function api(path) {
    const response = await fetch(path, {headers: token ? {Authorization: "Bearer " + token} : {},
                                        cache: "no-store"});
    const body = await response.json().catch(() => null);
    if (!response.ok) {
      const error = new Error(body && body.message ? body.message : response.status + " " + response.statusText);
      error.status = response.status;
      throw error;
    }
    return body;
  }

  // Runs `work` now and again `ms` after each run ends (a slow answer never piles requests up);
  // returns a function that runs it again at once.
  function every(name, ms, work) {
    let timer = null, running = false, again = false;
    const run = async () => {
      clearTimeout(timer);
      if (running) return void (again = true);
      running = true;
      try {
        await work();
        problem(name, null);
      } catch (e) {
        problem(name, `${name}: ${e.message}`);
      }
      running = false;
      timer = setTimeout(run, again ? 0 : ms);
      again = false;
    };
    run();
    return run;
  }

  // --- kernels -------------------------------------------------------------------------------

  // The samples from 0 to `top`, spread over the width.
  function sparkline(values, top, text) {
    const box = element("span", null, "spark");
    const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("viewBox", "0 0 90 20");
    svg.setAttribute("preserveAspectRatio", "none");
    svg.dataset.samples = values.length;
    const line = document.createElementNS("http://www.w3.org/2000/svg", "polyline");
    const step = 90 / Math.max(values.length - 1, 1);
    line.setAttribute("points", values.map((v, i) => `${(i * step).toFixed(1)},${(19 - 18 * Math.min(v / top, 1)).toFixed(1)}`).join(" "));
    svg.append(line);
    box.append(svg, element("span", text));
    return box;
  }

  function renderKernels() {
    const body = $("#kernels tbody");
    const rows = [...kernels.values()].sort((a, b) => (b.created || 0) - (a.created || 0));
    body.replaceChildren(...rows.map((k) => {
      const seen = samples.get(k.kernel_id) || [];
      const last = seen[seen.length - 1];
      const origin = k.origin === "compose" ? `${k.project}/${k.service}` : k.origin;
      const state = element("span", k.pool ? `${k.state} (pool ${k.pool})` : k.state, "state-" + k.state);
      const tr = row([k.kernel_id, k.container, origin, k.language, k.owner || "-", state,
                      element("span", k.health || "-", "health-" + k.health),
                      // CPU against the busiest sample (at least 1 %), memory against its limit.
                      sparkline(seen.map((s) => s.cpu), Math.max(1, ...seen.map((s) => s.cpu)),
                                last ? last.cpu.toFixed(1) + " %" : "-"),
                      sparkline(seen.map((s) => s.memory), (last && last.limit) || Math.max(1, ...seen.map((s) => s.memory)),
                                last ? `${bytes(last.memory)} / ${bytes(last.limit)}` : "-")]);
      tr.dataset.kernelId = k.kernel_id;
      tr.dataset.state = k.state;
      return tr;
    }));
    $("#kernel-count").textContent = `${rows.length}`;
  }

  async function refreshKernels() {
    const list = await api("/kernels");
    kernels.clear();
    for (const k of list) kernels.set(k.kernel_id, k);
    for (const id of samples.keys()) if (!kernels.has(id)) samples.delete(id);
    renderKernels();
    $("#updated").textContent = "updated " + clock(new Date());
  }

  async function refreshMetrics() {
    const metrics = await api("/metrics");
    for (const m of metrics.kernels) {
      if (!kernels.has(m.kernel_id)) continue;
      const seen = samples.get(m.kernel_id) || [];
      seen.push({cpu: m.cpu_percent, memory: m.memory_used, limit: m.memory_limit});
      if (seen.length > SAMPLES_KEPT) seen.shift();
      samples.set(m.kernel_id, seen);
    }
    renderKernels();
  }

  // --- services, pools, health ---------------------------------------------------------------

  async function refreshServices() {
    const note = $("#services-note");
    let list = [];
    try {
      list = await api("/services");
      note.hidden = true;
    } catch (e) {
      if (e.status !== 422 && e.status !== 404) throw e;
      note.hidden = false;  // serve runs without a compose project (or a broken one): say why
      note.textContent = e.message;
    }
    const scaled = new Map(autoscaling.services.map((s) => [s.service, s]));
    $("#services tbody").replaceChildren(...list.map((s) => {
      const a = scaled.get(s.name);
      const tr = row([s.name, s.enabled ? "yes" : "no", s.kernel ? "yes" : "no", s.desired, s.running,
                      a ? `${a.min_replicas}-${a.max_replicas}, wants ${a.desired_replicas ?? "-"}` : "-",
                      s.replicas.join(", ") || "-"]);
      tr.dataset.service = s.name;
      return tr;
    }));
  }

  async function refreshPools() {
    const templates = await api("/pool");
    const pools = templates.map((p) => ({name: "template " + p.template, ...p}));
    for (const s of autoscaling.services)
      if (s.warm_pool) pools.push({name: "service " + s.service, ...s.warm_pool});
    $("#pools tbody").replaceChildren(...pools.map((p) => {
      const tr = row([p.name, p.current_size, p.filling, p.target_size, p.hits, p.misses,
                      p.hit_rate_percent.toFixed(0) + " %"]);
      tr.dataset.pool = p.name;
      return tr;
    }));
    $("#pools-note").hidden = pools.length > 0;
  }

  async function refreshHealth() {
    const h = await api("/health");
    const e = $("#health");
    e.textContent = `${h.healthy ? "healthy" : "not healthy"}, ${h.active_instances ?? 0} active`;
    e.className = h.healthy ? "health-healthy" : "health-unhealthy";
  }

  // --- the autoscaler ------------------------------------------------------------------------

  // Utilization series a service scales on: only those its settings give a target for.
  const METRICS = [
    {key: "avg_cpu_utilization", target: "target_cpu_utilization", label: "CPU utilization %"},
    {key: "avg_memory_utilization", target: "target_memory_utilization", label: "memory utilization %"},
    {key: "pending_requests_per_replica", target: "target_pending_requests", label: "pending per replica"},
  ];

  // A decision from the history, an event or the status, kept once per service and time.
  function addDecision(service, d) {
    if (!d || !d.at) return false;
    const list = scaling.get(service) || [];
    if (!scaling.has(service)) scaling.set(service, list);
    const point = {at: d.at, time: Date.parse(d.at), action: d.action, current: d.current_replicas,
                   target: d.target_replicas, metrics: d.metrics || {}, summary: d.summary || ""};
    const i = list.findIndex((p) => p.at === d.at);
    if (i >= 0) {
      if (point.action !== "no_action" || list[i].action === "no_action") list[i] = point;
      return false;
    }
    list.push(point);
    list.sort((a, b) => a.time - b.time);
    if (list.length > POINTS_KEPT) list.splice(0, list.length - POINTS_KEPT);
    return true;
  }

  function chartFor(service, settings) {
    if (charts.has(service)) return charts.get(service);
    const box = element("div", null, "chart");
    box.dataset.service = service;
    const plot = element("div", null, "plot");
    const canvas = document.createElement("canvas");
    canvas.id = "scaling-" + service;
    plot.append(canvas);
    box.append(element("h3", service), plot);
    $("#charts").append(box);
    const datasets = [
      {label: "replicas", key: "current", yAxisID: "replicas", stepped: true, borderColor: "#2b6cb0"},
      {label: "target replicas", key: "target", yAxisID: "replicas", stepped: true, borderColor: "#dd6b20",
       borderDash: [6, 3]},
    ];
    const colors = ["#38a169", "#805ad5", "#d53f8c"];
    METRICS.forEach((m, i) => {
      if (settings[m.target] === null || settings[m.target] === undefined) return;
      datasets.push({label: m.label, metric: m.key, yAxisID: "load", borderColor: colors[i], borderWidth: 1});
      datasets.push({label: m.label.replace(/^\S+/, "target"), constant: settings[m.target], yAxisID: "load",
                     borderColor: colors[i], borderDash: [2, 2], borderWidth: 1, pointRadius: 0});
    });
    const chart = new Chart(canvas, {
      type: "line",
      data: {labels: [], datasets: datasets.map((d) => ({...d, data: [], fill: false, tension: 0}))},
      options: {
        animation: false,
        maintainAspectRatio: false,
        interaction: {mode: "index", intersect: false},
        scales: {
          replicas: {position: "left", beginAtZero: true, suggestedMax: (settings.max_replicas || 1) + 1,
                     ticks: {precision: 0}, title: {display: true, text: "replicas"}},
          load: {position: "right", beginAtZero: true, suggestedMax: 100, grid: {drawOnChartArea: false}},
        },
        plugins: {legend: {labels: {boxWidth: 12}}},
      },
    });
    charts.set(service, chart);
    return chart;
  }

  function renderCharts() {
    const scaled = autoscaling.services || [];
    $("#charts-note").hidden = scaled.length > 0 || scaling.size > 0;
    for (const s of scaled) {
      const chart = chartFor(s.service, s.settings || {});
      const points = scaling.get(s.service) || [];
      chart.data.labels = points.map((p) => clock(new Date(p.time)));
      for (const d of chart.data.datasets) {
        d.data = points.map((p) => d.key ? p[d.key] : d.metric ? p.metrics[d.metric] ?? null : d.constant);
        // A decision that acted stands out from the every-interval samples.
        if (!("constant" in d)) d.pointRadius = points.map((p) => (p.action === "no_action" ? 1 : 5));
      }
      chart.update("none");
    }
  }

  function renderDecisions() {
    const acted = [];
    for (const [service, points] of scaling)
      for (const p of points) if (p.action !== "no_action") acted.push({service, ...p});
    acted.sort((a, b) => b.time - a.time);
    $("#decisions").replaceChildren(...acted.slice(0, 50).map((d) => {
      const li = element("li");
      li.append(element("time", clock(new Date(d.time))), element("span", d.service, "type"),
                element("span", d.summary || `${d.action} ${d.current} -> ${d.target}`, d.action));
      return li;
    }));
  }

  async function refreshHistory() {
    const history = await api("/autoscaling/history?limit=100");
    for (const d of history) addDecision(d.service, d);
    renderCharts();
    renderDecisions();
  }

  async function refreshAutoscaling() {
    autoscaling = await api("/autoscaling");
    autoscaling.services = autoscaling.services || [];
    $("#autoscaler-state").textContent = !autoscaling.services.length ? "" :
        autoscaling.running ? (autoscaling.enabled ? "running" : "stopped") : "not running";
    for (const s of autoscaling.services)
      if (s.last_decision) addDecision(s.service, {...s.last_decision, summary: s.last_decision.summary});
    renderCharts();
    renderDecisions();
  }

  // --- events --------------------------------------------------------------------------------

  const refresh = {};

  function logEvent(e) {
    // The autoscaler's every-interval "no action" is on the charts; the log keeps what changed.
    if (e.type === "scaling" && e.action === "no_action") return;
    const li = element("li");
    const what = [e.action, e.container || e.service, e.message, e.type === "died" && e.oom ? "OOM killed" : null,
                  e.type === "died" && e.exit_code !== undefined ? "exit " + e.exit_code : null,
                  e.type === "health" ? e.health : null].filter(Boolean).join(" ");
    li.append(element("time", clock(new Date(e.time_nano / 1e6 || Date.now()))),
              element("span", e.type, "type " + e.type), element("span", what));
    li.dataset.type = e.type;
    $("#events").prepend(li);
    while ($("#events").children.length > EVENTS_KEPT) $("#events").lastChild.remove();
  }

  function applyEvent(e) {
    logEvent(e);
    const k = e.kernel_id && kernels.get(e.kernel_id);
    if (e.type === "removed" && e.kernel_id) {
      kernels.delete(e.kernel_id);
      samples.delete(e.kernel_id);
      renderKernels();
    } else if (k && e.type === "health") {
      k.health = e.health;
      renderKernels();
    } else if (k && ["started", "paused", "unpaused", "died"].includes(e.type)) {
      k.state = {started: "running", unpaused: "running", paused: "paused", died: "exited"}[e.type];
      renderKernels();
    }
    if (["created", "started", "removed", "died"].includes(e.type)) refresh.kernels();
    if (e.type === "pool") refresh.autoscaling();  // with the pools
    if (e.type === "scaling" && e.service && e.details) {
      addDecision(e.service, {...e.details, summary: e.details.summary});
      renderCharts();
      if (e.action !== "no_action") {
        renderDecisions();
        refresh.services();
      }
    }
    if (e.type === "engine") problem("engine", e.health === "unavailable" ? "engine unavailable: " + e.message : null);
  }

  function connectEvents() {
    const source = new EventSource("/events" + (token ? "?token=" + encodeURIComponent(token) : ""));
    const status = $("#connection");
    source.onopen = () => {
      status.dataset.state = "live";
      status.textContent = "live";
      // Whatever happened while the stream was down: fetched again.
      for (const r of Object.values(refresh)) r();
    };
    source.onerror = () => {
      status.dataset.state = source.readyState === EventSource.CLOSED ? "down" : "connecting";
      status.textContent = source.readyState === EventSource.CLOSED ? "events closed" : "reconnecting";
    };
    for (const type of EVENT_TYPES)
      source.addEventListener(type, (message) => applyEvent(JSON.parse(message.data)));
  }

  refresh.kernels = every("kernels", 1000, refreshKernels);
  refresh.metrics = every("metrics", 1000, refreshMetrics);
  refresh.autoscaling = every("autoscaling", 2000, async () => {
    await refreshAutoscaling();
    await refreshPools();
  });
  refresh.services = every("services", 2000, refreshServices);
  refresh.health = every("health", 2000, refreshHealth);
  refresh.history = every("history", 10000, refreshHistory);
  connectEvents();
})();
