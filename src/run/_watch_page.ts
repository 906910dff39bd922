/**
 * The watch page (internal to watch.ts): one HTML document with its own script, which draws SVG charts
 * from the server's JSON (`/api/runs`, `/api/run/<id>`), polling every 2 s and reloading the runs whose
 * last line changed. Nothing is loaded from the internet.
 *
 * @module
 */

/** The page. */
export const WATCH_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>unigrad watch</title>
<style>
  body { font: 14px "DejaVu Sans", Helvetica, Arial, sans-serif; margin: 12px; color: #222; background: #fff; }
  h1 { font-size: 18px; margin: 0 0 8px; }
  table { border-collapse: collapse; width: 100%; margin-bottom: 12px; font-size: 13px; }
  th, td { border-bottom: 1px solid #ddd; padding: 4px 6px; text-align: left; white-space: nowrap; }
  tr.run { cursor: pointer; } tr.off { color: #999; }
  .swatch { display: inline-block; width: 18px; height: 0; border-top: 3px solid; vertical-align: middle; margin-right: 4px; }
  #charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(320px, 1fr)); gap: 10px; }
  .chart { border: 1px solid #eee; padding: 4px; } .chart h2 { font-size: 13px; margin: 2px 4px; }
  .wrap { overflow-x: auto; } details { margin: 6px 0; font-size: 12px; } pre { white-space: pre-wrap; }
  #status { color: #666; font-size: 12px; }
</style></head>
<body>
<h1>unigrad watch</h1>
<div id="status">loading…</div>
<div class="wrap"><table id="runs"><thead><tr><th></th><th>run</th><th>method</th><th>dataset</th><th>step</th>
<th>loss</th><th>kNN</th><th>probe</th><th>pairs/s</th><th>ETA</th><th>ranks</th></tr></thead><tbody></tbody></table></div>
<div id="charts"></div>
<div id="details"></div>
<script>
const COLORS = ["#1f77b4","#ff7f0e","#2ca02c","#d62728","#9467bd","#8c564b","#e377c2","#7f7f7f","#bcbd22","#17becf"];
const DASHES = ["", "7 3", "2 2.5", "9 3 2 3"];
const PANELS = [
  { id: "loss", title: "Loss", keys: ["loss"] },
  { id: "knn", title: "kNN accuracy", keys: ["knn", "knnTop5"], percent: true },
  { id: "lr", title: "Learning rate", keys: ["lr"] },
  { id: "momentum", title: "Momentum of the target", keys: ["momentum"] },
  { id: "decomposition", title: "Gradient decomposition", keys: ["positive", "negative"] },
  { id: "balance", title: "Balance ‖neg‖/‖pos‖", keys: ["balance"] },
  { id: "lambda", title: "λ", keys: ["lambda"] },
  { id: "similarity", title: "Similarity of the views", keys: ["similarity"] },
  { id: "speed", title: "Pairs per second", keys: ["pairsPerSecond"] },
];
let runs = [];
const selected = new Set();
const data = new Map();
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
const pct = (x) => typeof x === "number" ? (100 * x).toFixed(2) + " %" : "–";
const num = (x) => typeof x === "number" ? (Math.abs(x) >= 100 ? x.toFixed(0) : x.toPrecision(3)) : "–";
const eta = (s) => s === null || s === undefined ? "–" : s < 90 ? Math.round(s) + " s" : Math.round(s / 60) + " min";
const style = (i) => ({ color: COLORS[i % 10], dash: DASHES[Math.floor(i / 10) % 4] });

async function get(path) { const r = await fetch(path); if (!r.ok) throw new Error(path + ": " + r.status); return r.json(); }

function table() {
  const body = document.querySelector("#runs tbody");
  body.innerHTML = runs.map((r, i) => {
    const s = style(i), on = selected.has(r.id);
    return '<tr class="run ' + (on ? "" : "off") + '" data-id="' + r.id + '"><td><span class="swatch" style="border-color:' +
      s.color + ';border-top-style:' + (s.dash ? "dashed" : "solid") + '"></span></td><td>' + esc(r.name) + "</td><td>" +
      esc(r.method ?? "–") + "</td><td>" + esc(r.dataset ?? "–") + "</td><td>" + r.step + (r.totalSteps ? " / " + r.totalSteps : "") +
      "</td><td>" + num(r.last.loss) + "</td><td>" + pct(r.last.knn) + "</td><td>" + pct(r.last.linearProbe) + "</td><td>" +
      num(r.last.pairsPerSecond) + "</td><td>" + (r.done ? "done" : eta(r.etaSeconds)) + "</td><td>" +
      r.ranks.map((k) => k.rank + "@" + k.step + " (" + Math.round(k.secondsAgo) + " s ago)").join(", ") + "</td></tr>";
  }).join("");
  body.querySelectorAll("tr.run").forEach((tr) => tr.onclick = () => {
    const id = Number(tr.dataset.id);
    selected.has(id) ? selected.delete(id) : selected.add(id);
    table(); draw();
  });
}

function ticks(lo, hi, n) {
  if (!(hi > lo)) { const p = lo === 0 ? 1 : Math.abs(lo) * 0.1; lo -= p; hi += p; }
  const raw = (hi - lo) / n, mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map((f) => f * mag).find((s) => s >= raw * 0.999);
  const out = []; for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(+v.toPrecision(12));
  return { lo, hi, out };
}

function chart(panel) {
  const W = 420, H = 240, L = 56, R = 10, T = 10, B = 26;
  const lines = [];
  [...selected].forEach((id) => {
    const run = data.get(id); if (!run) return;
    const index = runs.findIndex((r) => r.id === id);
    panel.keys.forEach((k, j) => {
      const pts = run.series[k]; if (!pts || !pts.length) return;
      lines.push({ id, key: k, pts, style: style(index), width: j === 0 ? 1.8 : 1.2, name: runs[index].name + " " + k });
    });
  });
  if (!lines.length) return "";
  const xs = lines.flatMap((l) => l.pts.map((p) => p[0])), ys = lines.flatMap((l) => l.pts.map((p) => p[1]));
  const xt = ticks(Math.min(...xs), Math.max(...xs), 5), yt = ticks(Math.min(...ys), Math.max(...ys), 4);
  const sx = (x) => L + (x - xt.lo) / (xt.hi - xt.lo || 1) * (W - L - R), sy = (y) => H - B - (y - yt.lo) / (yt.hi - yt.lo || 1) * (H - T - B);
  let svg = '<svg viewBox="0 0 ' + W + " " + H + '" width="100%" data-panel="' + panel.id + '" role="img">';
  yt.out.forEach((t) => svg += '<line x1="' + L + '" x2="' + (W - R) + '" y1="' + sy(t) + '" y2="' + sy(t) + '" stroke="#eee"/>' +
    '<text x="' + (L - 4) + '" y="' + (sy(t) + 4) + '" font-size="10" text-anchor="end" fill="#555">' + (panel.percent ? (100 * t).toFixed(0) + "%" : num(t)) + "</text>");
  xt.out.forEach((t) => svg += '<text x="' + sx(t) + '" y="' + (H - 8) + '" font-size="10" text-anchor="middle" fill="#555">' +
    (Number.isInteger(t) ? t : num(t)) + "</text>");
  lines.forEach((l) => {
    const d = l.pts.map((p, i) => (i ? "L" : "M") + sx(p[0]).toFixed(1) + " " + sy(p[1]).toFixed(1)).join("");
    const dash = l.key === panel.keys[1] ? "2 2" : l.style.dash;
    svg += '<path d="' + d + '" fill="none" stroke="' + l.style.color + '" stroke-width="' + l.width + '"' + (dash ? ' stroke-dasharray="' + dash + '"' : "") +
      ' data-run="' + l.id + '" data-series="' + l.key + '" data-points="' + l.pts.length + '"><title>' + esc(l.name) + "</title></path>";
  });
  const legend = panel.keys.length > 1 ? " (" + panel.keys.map((k, j) => k + (j ? " dotted" : " solid")).join(", ") + ")" : "";
  return '<div class="chart"><h2>' + esc(panel.title + legend) + "</h2>" + svg + "</svg></div>";
}

function draw() {
  document.getElementById("charts").innerHTML = PANELS.map(chart).join("");
  document.getElementById("details").innerHTML = [...selected].slice(0, 4).map((id) => {
    const r = data.get(id); if (!r) return "";
    return "<details><summary>" + esc(r.name) + ": config and " + r.checkpoints.length + " checkpoint(s)</summary><pre>" +
      esc(JSON.stringify(r.config, null, 1)) + "</pre><p>" + r.checkpoints.map(esc).join(", ") + "</p></details>";
  }).join("");
}

async function load(ids) {
  await Promise.all(ids.map(async (id) => data.set(id, await get("/api/run/" + id))));
}

const seen = new Map();
async function refresh() {
  runs = await get("/api/runs");
  if (selected.size === 0) runs.slice(0, 10).forEach((r) => selected.add(r.id));
  // Reload the selected runs whose last line changed since the last look.
  const changed = runs.filter((r) => seen.get(r.id) !== JSON.stringify(r.last)).map((r) => r.id);
  runs.forEach((r) => seen.set(r.id, JSON.stringify(r.last)));
  await load([...selected].filter((id) => changed.includes(id) || !data.has(id)));
  table(); draw();
  document.getElementById("status").textContent = runs.length + " run(s); updated " + new Date().toLocaleTimeString();
}

// Polled every 2 s: cheap (one small JSON), and a page left open never holds a request pending.
async function tick() {
  try { await refresh(); } catch (e) { document.getElementById("status").textContent = String(e); }
  setTimeout(tick, 2000);
}
tick();
</script>
</body></html>
`;
