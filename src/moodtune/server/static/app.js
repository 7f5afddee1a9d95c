// moodtune's page: the valence/arousal pad, the controls, job polling, analysis and recent results.
// Plain JS, no build step; it talks only to the JSON API under /api.
"use strict";

const SVG = "http://www.w3.org/2000/svg";
const $ = (id) => document.getElementById(id);
const clamp = (x) => Math.max(-1, Math.min(1, x));
const fmt = (x) => (x >= 0 ? "+" : "") + x.toFixed(2);
// A plain decimal number ("12", "-0.5", "1e3"), else NaN: no hex, no empty string read as 0.
const num = (text) => (/^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/.test(text) ? Number(text) : NaN);

const state = {
  mode: "point",
  point: { valence: 0.57, arousal: 0.57 },
  moods: {},
  models: [],
  drawing: null,        // pad coordinates while a path is drawn
  busy: false,
  recent: [],
};

// ---------- small helpers ----------

// `hidden` as an attribute: SVG elements have no `hidden` property.
function show(node, visible) {
  if (visible) node.removeAttribute("hidden");
  else node.setAttribute("hidden", "");
}

function el(tag, attrs = {}, parent = null) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (parent) parent.appendChild(node);
  return node;
}

function html(tag, attrs = {}, text = "") {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text) node.textContent = text;
  return node;
}

function nearestMood(v, a) {
  let best = "", dist = Infinity;
  for (const [name, [mv, ma]] of Object.entries(state.moods)) {
    const d = Math.hypot(v - mv, a - ma);
    if (d < dist) { dist = d; best = name; }
  }
  return best;
}

async function api(path, options = {}) {
  const response = await fetch(path, options);
  let body = null;
  try { body = await response.json(); } catch (_) { body = null; }
  if (!response.ok) {
    let message = `${response.status} ${response.statusText}`;
    if (body && body.message) message = body.message;
    else if (body && typeof body.detail === "string") message = body.detail;
    if (response.status === 429) message += ` (retry after ${response.headers.get("Retry-After")} s)`;
    throw new Error(message);
  }
  return body;
}

function showError(message) {
  const box = $("error");
  box.textContent = message;
  show(box, Boolean(message));
}

// ---------- the pad ----------

const layers = {};

function buildPad() {
  const pad = $("pad");
  const quads = [
    ["happy", 0, -1.05, "#fff4d6"], ["angry", -1.05, -1.05, "#fde3df"],
    ["sad", -1.05, 0, "#e2e9f7"], ["calm", 0, 0, "#e0f2e7"],
  ];
  for (const [name, x, y, fill] of quads) {
    el("rect", { x, y, width: 1.05, height: 1.05, fill }, pad);
    const tx = x < 0 ? x + 0.05 : x + 1.0, anchor = x < 0 ? "start" : "end";
    const ty = y < 0 ? y + 0.1 : y + 1.0;
    el("text", { x: tx, y: ty, "text-anchor": anchor, class: "quadrant-label" }, pad).textContent = name;
  }
  el("circle", { cx: 0, cy: 0, r: 0.8, fill: "none", stroke: "#bbb", "stroke-width": 0.006, "stroke-dasharray": "0.03 0.02" }, pad);
  el("line", { x1: -1.05, y1: 0, x2: 1.05, y2: 0, stroke: "#888", "stroke-width": 0.006 }, pad);
  el("line", { x1: 0, y1: -1.05, x2: 0, y2: 1.05, stroke: "#888", "stroke-width": 0.006 }, pad);
  el("text", { x: 1.05, y: 1.15, "text-anchor": "end", class: "axis-label" }, pad).textContent = "valence →";
  el("text", { x: -1.15, y: -1.1, class: "axis-label" }, pad).textContent = "↑ arousal";
  for (const [name, [v, a]] of Object.entries(state.moods)) {
    el("circle", { cx: v, cy: -a, r: 0.012, fill: "#777" }, pad);
    const anchor = v < -0.3 ? "end" : v > 0.3 ? "start" : "middle";
    const dx = v < -0.3 ? -0.025 : v > 0.3 ? 0.025 : 0;
    el("text", { x: v + dx, y: -a + (a > 0 ? -0.025 : 0.06), "text-anchor": anchor, class: "mood-name" }, pad).textContent = name;
  }
  layers.analysis = el("polyline", { id: "analysis-path", fill: "none", stroke: "#8e44ad", "stroke-width": 0.012, opacity: 0.8 }, pad);
  layers.analysisDot = el("circle", { r: 0.03, fill: "#8e44ad", visibility: "hidden" }, pad);
  layers.asked = el("polyline", { id: "asked-path", fill: "none", stroke: "#1f2328", "stroke-width": 0.014, "stroke-dasharray": "0.04 0.02" }, pad);
  layers.measuredPath = el("polyline", { id: "measured-path", fill: "none", stroke: "#1b9e62", "stroke-width": 0.014 }, pad);
  layers.link = el("line", { stroke: "#1b9e62", "stroke-width": 0.008, "stroke-dasharray": "0.02 0.015", visibility: "hidden" }, pad);
  layers.measured = el("circle", { id: "measured-point", r: 0.035, fill: "#1b9e62", stroke: "#fff", "stroke-width": 0.01, visibility: "hidden" }, pad);
  layers.point = el("circle", { id: "asked-point", r: 0.04, fill: "#2f6fdf", stroke: "#fff", "stroke-width": 0.012 }, pad);

  pad.addEventListener("pointerdown", (e) => {
    pad.setPointerCapture(e.pointerId);
    const p = padPoint(e);
    if (state.mode === "point") setPoint(p.valence, p.arousal);
    else state.drawing = [p];
    if (state.mode === "trajectory") drawAsked(state.drawing.map((q) => [q.valence, q.arousal]));
  });
  pad.addEventListener("pointermove", (e) => {
    if (!(e.buttons & 1)) return;
    const p = padPoint(e);
    if (state.mode === "point") setPoint(p.valence, p.arousal);
    else if (state.drawing) {
      state.drawing.push(p);
      drawAsked(state.drawing.map((q) => [q.valence, q.arousal]));
    }
  });
  pad.addEventListener("pointerup", () => {
    if (state.mode === "trajectory" && state.drawing) {
      const path = state.drawing;
      state.drawing = null;
      const span = Math.max(...path.map((p) => Math.hypot(p.valence - path[0].valence, p.arousal - path[0].arousal)));
      if (span < 0.05) { readPoints(); return; }  // a click, not a path: keep the points there were
      writePoints(knotsFromPath(path, num($("seconds").value) || 10));
    }
  });
}

function padPoint(event) {
  const pad = $("pad");
  const m = pad.getScreenCTM().inverse();
  const p = new DOMPoint(event.clientX, event.clientY).matrixTransform(m);
  return { valence: clamp(p.x), arousal: clamp(-p.y) };
}

function setPoint(valence, arousal, name = null) {
  state.point = { valence, arousal };
  layers.point.setAttribute("cx", valence);
  layers.point.setAttribute("cy", -arousal);
  $("readout").textContent = `valence ${fmt(valence)}, arousal ${fmt(arousal)} (${name || nearestMood(valence, arousal)})`;
}

function polyline(node, points) {
  node.setAttribute("points", points.map(([v, a]) => `${v.toFixed(4)},${(-a).toFixed(4)}`).join(" "));
}

function drawAsked(points) { polyline(layers.asked, points); }

function clearResultMarks() {
  polyline(layers.measuredPath, []);
  layers.measured.setAttribute("visibility", "hidden");
  layers.link.setAttribute("visibility", "hidden");
}

// ---------- trajectory mode ----------

// A drawn path -> at most 12 knots, spread by arc length over `seconds`.
function knotsFromPath(path, seconds) {
  if (path.length === 1) return [[0, path[0].valence, path[0].arousal]];
  const cum = [0];
  for (let i = 1; i < path.length; i++) {
    cum.push(cum[i - 1] + Math.hypot(path[i].valence - path[i - 1].valence, path[i].arousal - path[i - 1].arousal));
  }
  const total = cum[cum.length - 1];
  if (total < 1e-6) return [[0, path[0].valence, path[0].arousal]];
  const n = Math.min(12, Math.max(2, Math.round(total / 0.15) + 1));
  const knots = [];
  let j = 0;
  for (let k = 0; k < n; k++) {
    const s = (total * k) / (n - 1);
    while (j < path.length - 2 && cum[j + 1] < s) j++;
    const span = cum[j + 1] - cum[j] || 1;
    const f = Math.min(1, Math.max(0, (s - cum[j]) / span));
    const v = path[j].valence + f * (path[j + 1].valence - path[j].valence);
    const a = path[j].arousal + f * (path[j + 1].arousal - path[j].arousal);
    knots.push([(seconds * k) / (n - 1), v, a]);
  }
  return knots;
}

function writePoints(knots) {
  $("points").value = knots.map(([t, v, a]) => `${t.toFixed(2)},${v.toFixed(2)},${a.toFixed(2)}`).join("\n");
  readPoints();
}

// The editor's text -> knots [[t, v, a], ...]; shows what is wrong and returns null when it cannot be read.
function readPoints() {
  const lines = $("points").value.split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("time"));
  const knots = [];
  let problem = lines.length ? "" : "draw a path on the pad, or type points";
  lines.forEach((line, i) => {
    const parts = line.split(",").map(num);
    if (problem) return;
    if (parts.length !== 3 || parts.some((x) => !Number.isFinite(x))) problem = `line ${i + 1}: expected time,valence,arousal`;
    else if (Math.abs(parts[1]) > 1 || Math.abs(parts[2]) > 1) problem = `line ${i + 1}: valence and arousal lie in [-1, 1]`;
    else if (knots.length && parts[0] <= knots[knots.length - 1][0]) problem = `line ${i + 1}: times must increase`;
    else knots.push(parts);
  });
  const box = $("points-error");
  box.textContent = problem;
  show(box, Boolean(problem));
  drawAsked(problem ? [] : knots.map(([, v, a]) => [v, a]));
  return problem ? null : knots;
}

// A new length stretches the trajectory's times so that it still spans the piece.
function lengthChanged() {
  if (state.mode !== "trajectory") return;
  const seconds = num($("seconds").value);
  const knots = readPoints();
  if (!knots || knots.length < 2 || !(seconds > 0)) return;
  const last = knots[knots.length - 1][0];
  if (last > 0) writePoints(knots.map(([t, v, a]) => [(t * seconds) / last, v, a]));
}

function setMode(mode) {
  state.mode = mode;
  for (const m of ["point", "trajectory"]) {
    const b = $(`mode-${m}`);
    b.classList.toggle("on", m === mode);
    b.setAttribute("aria-pressed", String(m === mode));
  }
  show($("trajectory-editor"), mode === "trajectory");
  show($("readout"), mode === "point");
  layers.point.setAttribute("visibility", mode === "point" ? "visible" : "hidden");
  clearResultMarks();
  if (mode === "point") drawAsked([]);
  else readPoints();
}

// ---------- controls ----------

function fillModels() {
  const select = $("engine");
  select.innerHTML = "";
  for (const m of state.models) {
    const label = m.id + (m.default ? " (default)" : "") + (m.shipped ? "" : " — local run");
    select.appendChild(html("option", { value: m.id }, label));
  }
  const first = state.models.find((m) => m.default) || state.models[0];
  if (first) select.value = first.id;
  modelChanged();
}

function currentModel() { return state.models.find((m) => m.id === $("engine").value); }

function modelChanged() {
  const m = currentModel();
  const style = $("style");
  style.innerHTML = "";
  style.appendChild(html("option", { value: "" }, "any"));
  for (const s of (m && m.styles) || []) style.appendChild(html("option", { value: s }, s));
  show($("style-label"), Boolean(m && m.styles.length));
  show($("symbolic-controls"), Boolean(m && m.symbolic));
  let note = m ? m.summary : "";
  if (m && m.control && m.control.quadrant_accuracy !== undefined) {
    note += ` — measured: ${Math.round(100 * m.control.quadrant_accuracy)} % of its pieces heard in the asked quadrant`;
  }
  $("engine-note").textContent = note;
}

function requestBody() {
  const body = { model: $("engine").value || null };
  for (const [field, label] of [["seconds", "Length"], ["seed", "Seed"], ["temperature", "Temperature"]]) {
    const value = num($(field).value);
    if (Number.isNaN(value)) throw new Error(`${label}: enter a number`);
    body[field] = value;
  }
  if ($("style").value) body.style = $("style").value;
  const m = currentModel();
  if (m && m.symbolic) {
    const controls = symbolicControls();
    if (Object.keys(controls).length) body.symbolic = controls;
  }
  if (state.mode === "point") {
    body.valence = Number(state.point.valence.toFixed(3));
    body.arousal = Number(state.point.arousal.toFixed(3));
  } else {
    const knots = readPoints();
    if (!knots) throw new Error($("points-error").textContent);
    body.trajectory = knots.map(([time, valence, arousal]) => ({ time, valence, arousal }));
  }
  return body;
}

// The symbolic engine's controls that are filled in (an empty field follows the mood).
function symbolicControls() {
  const controls = {};
  for (const [field, label] of [["tempo", "Tempo"], ["bars", "Bars"]]) {
    const text = $(field).value.trim();
    if (!text) continue;
    const value = num(text);
    if (Number.isNaN(value)) throw new Error(`${label}: enter a number`);
    controls[field] = value;
  }
  for (const field of ["key", "meter", "instruments", "soundfont"]) {
    const text = $(field).value.trim();
    if (text) controls[field] = text;
  }
  if ($("loop").checked) controls.loop = true;
  return controls;
}

function fillSymbolicChoices() {
  const meter = $("meter");
  for (let n = 2; n <= 7; n++) meter.appendChild(html("option", { value: `${n}/4` }, `${n}/4`));
  const keys = $("keys");
  for (const tonic of ["C", "G", "D", "A", "E", "B", "F#", "F", "Bb", "Eb", "Ab", "Db"]) {
    for (const mode of ["major", "minor"]) keys.appendChild(html("option", { value: `${tonic} ${mode}` }));
  }
}

function describePiece(piece) {
  const parts = [];
  if (piece.bars) parts.push(`${piece.bars} bars`);
  if (piece.form) parts.push(`form ${piece.form}`);
  if (piece.chords) parts.push(`chords ${piece.chords}`);
  if (piece.instruments) parts.push(piece.instruments);
  if (piece.soundfont) parts.push(`rendered with ${piece.soundfont}`);
  return parts.join(" · ");
}

async function generate() {
  if (state.busy) return;
  showError("");
  let body;
  try { body = requestBody(); } catch (e) { showError(e.message); return; }
  state.busy = true;
  $("generate").disabled = true;
  show($("progress-box"), true);
  $("progress").value = 0;
  $("stage").textContent = "sending";
  try {
    const created = await api("/api/generate", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    });
    const job = await poll(created.url);
    if (job.status === "failed") throw new Error(job.error || "the job failed");
    showResult(job);
    addRecent(job);
  } catch (e) {
    showError(e.message);
  } finally {
    state.busy = false;
    $("generate").disabled = false;
    show($("progress-box"), false);
  }
}

async function poll(url) {
  for (;;) {
    const job = await api(url);
    $("progress").value = job.progress;
    $("stage").textContent = `${job.stage} (${Math.round(100 * job.progress)} %)`;
    if (job.status === "done" || job.status === "failed") return job;
    await new Promise((r) => setTimeout(r, 250));
  }
}

// ---------- results ----------

function describeAsked(asked) {
  if (asked.trajectory) return `a trajectory of ${asked.trajectory.length} points`;
  return `${asked.mood} (${fmt(asked.valence)}, ${fmt(asked.arousal)})`;
}

function showResult(job) {
  show($("result"), true);
  $("result-title").textContent = `${job.model}: ${describeAsked(job.asked)}, ${job.seconds} s`;
  const player = $("player");
  player.src = job.files.wav;
  const m = job.measured;
  $("measured-text").textContent = `Heard as ${m.mood}: valence ${fmt(m.valence)}, arousal ${fmt(m.arousal)} ` +
    `(the mood model's reading; made in ${job.took_s} s).`;
  $("piece-text").textContent = job.piece ? describePiece(job.piece) : "";
  show($("piece-text"), Boolean(job.piece));
  const pictures = $("pictures");
  pictures.innerHTML = "";
  if (job.files.png) pictures.appendChild(html("img", { src: job.files.png, alt: "spectrogram or piano roll" }));
  if (job.files.svg) pictures.appendChild(html("img", { src: job.files.svg, alt: "engraved score", id: "score" }));
  const downloads = $("downloads");
  downloads.innerHTML = "";
  for (const kind of ["wav", "midi", "musicxml"]) {
    if (job.files[kind]) downloads.appendChild(html("a", { href: job.files[kind], download: "" }, `${kind.toUpperCase()}`));
  }
  clearResultMarks();
  if (job.asked.trajectory) {
    drawAsked(job.asked.trajectory.map((p) => [p.valence, p.arousal]));
    polyline(layers.measuredPath, job.curve.times.map((_, i) => [job.curve.valence[i], job.curve.arousal[i]]));
    drawChart($("curve-chart"), job.curve, askedCurve(job.asked.trajectory, job.seconds), job.seconds);
  } else {
    show($("curve-chart"), false);
    setPoint(job.asked.valence, job.asked.arousal);
    layers.measured.setAttribute("cx", clamp(m.valence));
    layers.measured.setAttribute("cy", -clamp(m.arousal));
    layers.measured.setAttribute("visibility", "visible");
    for (const [k, v] of [["x1", job.asked.valence], ["y1", -job.asked.arousal], ["x2", clamp(m.valence)], ["y2", -clamp(m.arousal)]]) {
      layers.link.setAttribute(k, v);
    }
    layers.link.setAttribute("visibility", "visible");
  }
}

// The asked trajectory as a curve over the whole piece: its knots, held flat to both ends.
function askedCurve(knots, seconds) {
  const pts = knots.map((k) => [k.time, k.valence, k.arousal]);
  if (pts[0][0] > 0) pts.unshift([0, pts[0][1], pts[0][2]]);
  const last = pts[pts.length - 1];
  if (last[0] < seconds) pts.push([seconds, last[1], last[2]]);
  return { times: pts.map((p) => p[0]), valence: pts.map((p) => p[1]), arousal: pts.map((p) => p[2]) };
}

// Valence (blue) and arousal (red) over time: measured solid (with a dot per reading), asked dashed.
function drawChart(svg, measured, asked, seconds) {
  svg.innerHTML = "";
  show(svg, true);
  const W = 400, H = 160, L = 34, R = 8, T = 8, B = 22;
  const times = measured.times.length ? measured.times : [0];
  const tMax = Math.max(1e-6, seconds || times[times.length - 1]);
  const x = (t) => L + ((W - L - R) * t) / tMax;
  const y = (v) => T + ((H - T - B) * (1 - v)) / 2;
  for (const v of [-1, 0, 1]) {
    el("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), stroke: v ? "#eee" : "#bbb" }, svg);
    el("text", { x: L - 4, y: y(v) + 3, "text-anchor": "end" }, svg).textContent = v;
  }
  el("text", { x: W - R, y: H - 6, "text-anchor": "end" }, svg).textContent = `${tMax.toFixed(0)} s`;
  el("text", { x: L, y: H - 6 }, svg).textContent = "0";
  const line = (curve, key, color, dashed, cls) => {
    const pts = curve.times.map((t, i) => `${x(t).toFixed(1)},${y(clamp(curve[key][i])).toFixed(1)}`).join(" ");
    const attrs = { points: pts, fill: "none", stroke: color, "stroke-width": 2, class: cls };
    if (dashed) attrs["stroke-dasharray"] = "5 3";
    el("polyline", attrs, svg);
    if (!dashed) {
      curve.times.forEach((t, i) => el("circle", { cx: x(t), cy: y(clamp(curve[key][i])), r: 2.5, fill: color }, svg));
    }
  };
  if (asked) {
    line(asked, "valence", "#2f6fdf", true, "asked-valence");
    line(asked, "arousal", "#d2452f", true, "asked-arousal");
  }
  line(measured, "valence", "#2f6fdf", false, "measured-valence");
  line(measured, "arousal", "#d2452f", false, "measured-arousal");
  el("text", { x: (L + W - R) / 2, y: H - 6, "text-anchor": "middle" }, svg).textContent =
    "valence (blue), arousal (red)" + (asked ? "; dashed: asked, solid: heard" : "");
}

function addRecent(job) {
  state.recent.unshift(job);
  show($("recent-empty"), false);
  const item = html("li");
  item.appendChild(document.createTextNode(
    `${job.model}: ${describeAsked(job.asked)} → heard as ${job.measured.mood}`));
  const again = html("button", { type: "button" }, "show");
  again.addEventListener("click", () => {
    if (job.asked.trajectory && state.mode !== "trajectory") setMode("trajectory");
    if (!job.asked.trajectory && state.mode !== "point") setMode("point");
    if (job.asked.trajectory) writePoints(job.asked.trajectory.map((p) => [p.time, p.valence, p.arousal]));
    $("seconds").value = job.asked.seconds;
    showResult(job);
  });
  item.appendChild(again);
  $("recent").prepend(item);
}

// ---------- analysis ----------

async function analyze() {
  const file = $("upload").files[0];
  const text = $("analysis-text");
  const problem = $("analysis-error");
  show(problem, false);
  if (!file) { text.textContent = "Choose an audio file first."; return; }
  text.textContent = `Analyzing ${file.name} …`;
  const form = new FormData();
  form.append("file", file);
  try {
    const r = await api("/api/analyze", { method: "POST", body: form });
    const m = r.measured;
    const where = r.curve.times.length > 1 ? "its curve is the purple path on the pad" : "one reading: the purple dot";
    text.textContent = `${r.name} (${r.seconds.toFixed(1)} s): ${m.mood}, valence ${fmt(m.valence)}, arousal ${fmt(m.arousal)}; ${where}.`;
    layers.analysisDot.setAttribute("cx", clamp(m.valence));
    layers.analysisDot.setAttribute("cy", -clamp(m.arousal));
    layers.analysisDot.setAttribute("visibility", r.curve.times.length > 1 ? "hidden" : "visible");
    polyline(layers.analysis, r.curve.times.map((_, i) => [clamp(r.curve.valence[i]), clamp(r.curve.arousal[i])]));
    drawChart($("analysis-chart"), r.curve, null, r.seconds);
  } catch (e) {
    text.textContent = "";
    show($("analysis-chart"), false);
    polyline(layers.analysis, []);
    layers.analysisDot.setAttribute("visibility", "hidden");
    problem.textContent = e.message;
    show(problem, true);
  }
}

// ---------- start ----------

async function start() {
  try {
    [state.moods, state.models] = await Promise.all([api("/api/moods"), api("/api/models")]);
  } catch (e) {
    showError(`cannot reach the server: ${e.message}`);
    return;
  }
  buildPad();
  const presets = $("presets");
  for (const name of Object.keys(state.moods)) {
    const b = html("button", { type: "button", "data-mood": name }, name);
    b.addEventListener("click", () => {
      const [v, a] = state.moods[name];
      if (state.mode !== "point") setMode("point");
      setPoint(v, a, name);
    });
    presets.appendChild(b);
  }
  setPoint(state.point.valence, state.point.arousal);
  fillSymbolicChoices();
  fillModels();
  if (!state.models.length) showError("no models are installed: run 'make models', or serve with --models DIR");
  $("engine").addEventListener("change", modelChanged);
  $("mode-point").addEventListener("click", () => setMode("point"));
  $("mode-trajectory").addEventListener("click", () => setMode("trajectory"));
  $("points").addEventListener("input", readPoints);
  $("seconds").addEventListener("change", lengthChanged);
  $("generate").addEventListener("click", generate);
  $("analyze").addEventListener("click", analyze);
  $("upload").addEventListener("change", analyze);
  document.body.dataset.ready = "true";
}

start();
