/**
 * Dependency-free SVG line charts: a grid of panels, each with axes, ticks, grid lines, a title,
 * axis labels and a legend; and `trainingPanels`, the standard panels of a training run (loss, kNN
 * accuracy, learning rate, the gradient decomposition into positive and negative parts, and their
 * balance).
 *
 * @module
 */
import type { TrainingRecord } from "./metrics_log.ts";

/** One line of a panel. */
export interface Series {
  /** Legend text. */
  name: string;
  /** [x, y] points in x order; non-finite y values break the line. */
  points: readonly (readonly [number, number])[];
  /** Stroke colour. @default the next colour of the tab10 palette */
  color?: string;
  /** SVG dash pattern, e.g. "6 3". @default solid for the first ten series, then a dash per ten */
  dash?: string;
  /** Stroke opacity. @default 1 */
  opacity?: number;
}

/** One chart. */
export interface Panel {
  /** Title above the chart. */
  title: string;
  /** Label under the x axis. @default "" */
  xLabel?: string;
  /** Label along the y axis. @default "" */
  yLabel?: string;
  /** The lines. */
  series: readonly Series[];
  /** Show y values (fractions) as percentages. @default false */
  percent?: boolean;
}

/** Options of `plotPanels`. */
export interface PlotOptions {
  /** Title over the whole figure. @default none */
  title?: string;
  /** Panels per row. @default 2 */
  columns?: number;
  /** Width of one panel in pixels. @default 460 */
  width?: number;
  /** Height of one panel in pixels. @default 290 */
  height?: number;
  /** Points per line above which a line is averaged in buckets. @default 800 */
  maxPoints?: number;
}

/** tab10: ten colours; series 11–20 repeat them dashed, 21–30 dotted, so no two series look alike. */
const PALETTE = [
  "#1f77b4",
  "#ff7f0e",
  "#2ca02c",
  "#d62728",
  "#9467bd",
  "#8c564b",
  "#e377c2",
  "#7f7f7f",
  "#bcbd22",
  "#17becf",
];
const DASHES = ["", "7 3", "2 2.5", "9 3 2 3"];
/** Legend: font size, the height of one row of labels, the gap between labels. */
const LEGEND = { size: 11, row: 16, gap: 14, swatch: 23 };
const FONT = 'font-family="DejaVu Sans, Helvetica, Arial, sans-serif"';
const M = { left: 62, right: 24, top: 52, bottom: 46 };

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

function r(v: number): string {
  return String(Math.round(v * 10) / 10);
}

/** About `count` round tick values (1, 2, 5 × 10^k apart) covering [lo, hi], and the domain they span. */
export function niceTicks(
  lo: number,
  hi: number,
  count = 5,
): { ticks: number[]; lo: number; hi: number; step: number } {
  if (!(hi > lo)) {
    const pad = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    [lo, hi] = [lo - pad, hi + pad];
  }
  const raw = (hi - lo) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((f) => f * mag).find((s) => s >= raw * 0.999) ?? 10 * mag;
  const start = Math.floor(lo / step + 1e-9) * step;
  const end = Math.ceil(hi / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let i = 0; start + i * step <= end + step * 1e-9; i++) {
    const v = Number((start + i * step).toPrecision(12));
    ticks.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  }
  return { ticks, lo: start, hi: end, step };
}

function tickLabel(v: number, step: number, percent: boolean): string {
  const decimals = (unit: number) => Math.min(6, Math.max(0, -Math.floor(Math.log10(unit) + 1e-9)));
  let s: string;
  if (percent) s = `${(v * 100).toFixed(decimals(step * 100))}%`;
  else if (Math.abs(v) >= 10000 || (Math.abs(v) >= 1000 && step >= 1000)) {
    s = `${(v / 1000).toFixed(decimals(step / 1000))}k`;
  } else if (v !== 0 && (Math.abs(v) < 1e-3 || step < 1e-4)) s = v.toExponential(1);
  else s = v.toFixed(decimals(step));
  return s.replace(/^-/, "\u2212"); // a real minus sign
}

/** Averages a long line into `max` buckets (keeps breaks at non-finite values out of the means). */
function downsample(points: readonly (readonly [number, number])[], max: number): (readonly [number, number])[] {
  if (points.length <= max) return points.slice();
  const out: [number, number][] = [];
  const size = points.length / max;
  for (let b = 0; b < max; b++) {
    const chunk = points.slice(Math.floor(b * size), Math.floor((b + 1) * size)).filter(([, y]) => Number.isFinite(y));
    if (chunk.length === 0) continue;
    out.push([chunk.reduce((s, p) => s + p[0], 0) / chunk.length, chunk.reduce((s, p) => s + p[1], 0) / chunk.length]);
  }
  return out;
}

/** A `<text>` element; `attrs` are extra attributes. */
function text(x: number, y: number, content: string, size: number, attrs = ""): string {
  return `<text x="${r(x)}" y="${r(y)}" font-size="${size}" ${attrs}>${esc(content)}</text>`;
}

/**
 * The width a label takes in DejaVu Sans (the font the SVG asks for first), an upper bound per
 * character class: the legend reserves it, and tests/io/plot_test.ts checks it against rendered text.
 *
 * @param label The text.
 * @param size Font size in pixels. @default 11
 * @returns Pixels.
 *
 * @example Usage
 * ```ts
 * import { labelWidth } from "@unigrad/unigrad/io";
 * import assert from "node:assert/strict";
 *
 * assert.ok(labelWidth("kNN top-1") > labelWidth("lr"));
 * ```
 */
export function labelWidth(label: string, size: number = LEGEND.size): number {
  let w = 0;
  for (const c of label) {
    if (/[il.,:;|!'()\[\] ]/.test(c)) w += 0.36;
    else if (/[MWmw@%]/.test(c)) w += 0.95;
    else if (/[A-Z]/.test(c)) w += 0.78;
    else if (/[a-z0-9]/.test(c)) w += 0.64;
    else w += 0.85; // symbols, Greek, arrows
  }
  return Math.ceil(w * size);
}

/** Legend entries laid out in rows that fit `width`, from (x, y); the SVG and the rows used. */
function legend(
  series: readonly Series[],
  styles: { color: string; dash: string }[],
  x: number,
  y: number,
  width: number,
): { svg: string; rows: number } {
  let out = "";
  let [cx, row] = [x, 0];
  series.forEach((s, i) => {
    const w = LEGEND.swatch + labelWidth(s.name);
    if (cx > x && cx + w > x + width) [cx, row] = [x, row + 1]; // wrap
    const ly = y + row * LEGEND.row;
    const dash = styles[i].dash ? ` stroke-dasharray="${styles[i].dash}"` : "";
    out += `<line x1="${r(cx)}" y1="${r(ly - 4)}" x2="${r(cx + 18)}" y2="${r(ly - 4)}" stroke="${styles[i].color}" ` +
      `stroke-opacity="${s.opacity ?? 1}" stroke-width="2.5"${dash}/>`;
    out += text(
      cx + LEGEND.swatch,
      ly,
      s.name,
      LEGEND.size,
      `fill="#333" class="legend" data-width="${w - LEGEND.swatch}"`,
    );
    cx += w + LEGEND.gap;
  });
  return { svg: out, rows: series.length === 0 ? 0 : row + 1 };
}

/** The plot box in pixels and the data → pixel maps. */
interface Frame {
  x0: number;
  x1: number;
  y0: number;
  y1: number;
  sx: (x: number) => number;
  sy: (y: number) => number;
}

/** Ticks, grid, axis lines and axis labels; returns the SVG and the frame for the curves. */
function axes(p: Panel, box: [number, number, number, number], xs: number[], ys: number[]): [string, Frame] {
  const [x0, x1, y0, y1] = box;
  let [xmin, xmax] = [Math.min(...xs), Math.max(...xs)];
  if (xmin > 0 && xmin <= 0.05 * (xmax - xmin)) xmin = 0; // start the axis at 0 (step 1 of many)
  const xt = niceTicks(xmin, xmax, 6);
  if (xmax > xmin) {
    [xt.lo, xt.hi, xt.ticks] = [
      xmin,
      xmax,
      xt.ticks.filter((t) => t >= xmin - 1e-9 && t <= xmax + 1e-9),
    ];
  }
  const yt = niceTicks(Math.min(...ys), Math.max(...ys), 5);
  const sx = (x: number) => x0 + ((x - xt.lo) / (xt.hi - xt.lo)) * (x1 - x0);
  const sy = (y: number) => y1 - ((y - yt.lo) / (yt.hi - yt.lo)) * (y1 - y0);
  let out = "";
  for (const t of xt.ticks) {
    out += `<line x1="${r(sx(t))}" y1="${y0}" x2="${r(sx(t))}" y2="${y1 + 4}" stroke="#e3e3e3"/>`;
    out += text(sx(t), y1 + 16, tickLabel(t, xt.step, false), 11, 'fill="#444" text-anchor="middle"');
  }
  for (const t of yt.ticks) {
    out += `<line x1="${x0 - 4}" y1="${r(sy(t))}" x2="${x1}" y2="${r(sy(t))}" stroke="#e3e3e3"/>`;
    out += text(x0 - 7, sy(t) + 4, tickLabel(t, yt.step, !!p.percent), 11, 'fill="#444" text-anchor="end"');
  }
  out += `<polyline points="${x0},${y0} ${x0},${y1} ${x1},${y1}" fill="none" stroke="#555" stroke-width="1"/>`;
  if (p.xLabel) out += text((x0 + x1) / 2, y1 + 34, p.xLabel, 12, 'fill="#333" text-anchor="middle"');
  if (p.yLabel) {
    const [lx, ly] = [x0 - M.left + 14, (y0 + y1) / 2];
    out += text(lx, ly, p.yLabel, 12, `fill="#333" text-anchor="middle" transform="rotate(-90 ${lx} ${r(ly)})"`);
  }
  return [out, { x0, x1, y0, y1, sx, sy }];
}

/** One series as a path (broken at non-finite values), with markers when it has few points. */
function curve(
  pts: readonly (readonly [number, number])[],
  f: Frame,
  style: { color: string; dash: string },
  opacity: number,
): string {
  const color = style.color;
  let d = "";
  let pen = false;
  for (const [x, y] of pts) {
    if (Number.isFinite(y)) d += `${pen ? "L" : "M"}${r(f.sx(x))} ${r(f.sy(y))}`;
    pen = Number.isFinite(y);
  }
  const dash = style.dash ? ` stroke-dasharray="${style.dash}"` : "";
  let out = `<path d="${d}" fill="none" stroke="${color}" stroke-opacity="${opacity}" stroke-width="1.8" ` +
    `stroke-linejoin="round"${dash}/>`;
  if (pts.length > 60) return out;
  for (const [x, y] of pts.filter(([, y]) => Number.isFinite(y))) {
    out += `<circle cx="${r(f.sx(x))}" cy="${r(f.sy(y))}" r="2.6" fill="${color}" fill-opacity="${opacity}"/>`;
  }
  return out;
}

/** One panel's SVG, drawn in the box at (px, py) of size w × h; the legend wraps and the plot makes room. */
function panelSvg(p: Panel, px: number, py: number, w: number, h: number, maxPoints: number): string {
  const styles = p.series.map((s, i) => ({
    color: s.color ?? PALETTE[i % PALETTE.length],
    dash: s.dash ?? DASHES[Math.floor(i / PALETTE.length) % DASHES.length],
  }));
  const lines = p.series.map((s) => downsample(s.points.filter(([x]) => Number.isFinite(x)), maxPoints));
  const ys = lines.flat().map(([, y]) => y).filter(Number.isFinite);
  const xs = lines.flat().map(([x]) => x);
  let out = text(px + M.left, py + 20, p.title, 14, 'font-weight="bold" fill="#111"');
  const key = legend(p.series, styles, px + M.left, py + 38, w - M.left - M.right);
  out += key.svg;
  const top = py + M.top + Math.max(0, key.rows - 1) * LEGEND.row;
  const box: [number, number, number, number] = [px + M.left, px + w - M.right, top, py + h - M.bottom];
  out += `<rect x="${box[0]}" y="${box[2]}" width="${box[1] - box[0]}" height="${box[3] - box[2]}" fill="#fafafa"/>`;
  if (ys.length === 0) {
    return out + text((box[0] + box[1]) / 2, (box[2] + box[3]) / 2, "no data", 12, 'fill="#888" text-anchor="middle"');
  }
  const [axesSvg, frame] = axes(p, box, xs, ys);
  out += axesSvg;
  lines.forEach((pts, i) => (out += curve(pts, frame, styles[i], p.series[i].opacity ?? 1)));
  return out;
}

/**
 * Draws panels in a grid as one SVG document.
 *
 * @param panels The charts, filled row by row.
 * @param options Figure title, columns, panel size, point budget per line.
 * @returns The SVG text.
 *
 * @example Usage
 * ```ts
 * import { plotPanels } from "@unigrad/unigrad/io";
 * import assert from "node:assert/strict";
 *
 * const svg = plotPanels([{ title: "Loss", xLabel: "step", series: [{ name: "loss", points: [[0, 2], [1, 1.5], [2, 1.2]] }] }]);
 * assert.ok(svg.startsWith("<svg") && svg.includes(">Loss</text>"));
 * ```
 */
export function plotPanels(panels: readonly Panel[], options: PlotOptions = {}): string {
  const { columns = Math.min(2, Math.max(1, panels.length)), width = 460, height = 290, maxPoints = 800 } = options;
  const head = options.title ? 34 : 0;
  const rows = Math.max(1, Math.ceil(panels.length / columns));
  const [W, H] = [columns * width, rows * height + head];
  let body = options.title
    ? `<text x="${W / 2}" y="24" font-size="16" font-weight="bold" fill="#111" text-anchor="middle">${
      esc(options.title)
    }</text>`
    : "";
  panels.forEach((p, i) => {
    body += panelSvg(p, (i % columns) * width, head + Math.floor(i / columns) * height, width, height, maxPoints);
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" ${FONT}>` +
    `<rect width="100%" height="100%" fill="#fff"/>${body}</svg>\n`;
}

function series(records: readonly TrainingRecord[], x: "step" | "epoch", key: string): [number, number][] {
  return records.filter((r) => typeof r[key] === "number").map((r) => [r[x], r[key] as number]);
}

/**
 * A centred moving average: each point is the mean of the finite values within `half` points on either
 * side (fewer at the ends), so the line draws through the noise without lagging behind it (an
 * exponential average trails a falling loss by (1 − α)/α points).
 *
 * @example Usage
 * ```ts
 * import { smoothCentred } from "@unigrad/unigrad/io";
 * import assert from "node:assert/strict";
 *
 * const line = Array.from({ length: 101 }, (_, i): [number, number] => [i, -i / 100 + (i % 2 ? 0.1 : -0.1)]);
 * const smooth = smoothCentred(line, 10);
 * assert.ok(Math.abs(smooth[50][1] - -0.5) < 0.01); // through the noise
 * assert.ok(Math.abs(smooth[100][1] - -1) < 0.06); // and at the end, where an EMA would lag
 * ```
 */
export function smoothCentred(points: readonly [number, number][], half: number): [number, number][] {
  const ys = points.map(([, y]) => y);
  return points.map(([x], i) => {
    const window = ys.slice(Math.max(0, i - half), i + half + 1).filter(Number.isFinite);
    return [x, window.length ? window.reduce((a, b) => a + b, 0) / window.length : NaN];
  });
}

/**
 * The standard panels of a training run from its metrics log: loss (with a smoothed line when
 * there are many steps), kNN accuracy per epoch, learning rate, the norms of the positive and
 * negative gradients, and their balance. Panels without data are left out.
 *
 * @param records The lines of `metrics.jsonl` (see `TrainingRecord`).
 * @returns Panels for `plotPanels`.
 *
 * @example Usage
 * ```ts
 * import { plotPanels, trainingPanels } from "@unigrad/unigrad/io";
 * import assert from "node:assert/strict";
 *
 * const records = [{ step: 0, epoch: 0, knn: 0.6 }, { step: 10, epoch: 1, knn: 0.7, loss: -0.1 }];
 * const panels = trainingPanels(records);
 * assert.ok(panels.length > 0);
 * assert.match(plotPanels(panels), /^<svg/);
 * ```
 */
export function trainingPanels(records: readonly TrainingRecord[]): Panel[] {
  const loss = series(records, "step", "loss");
  const lossSeries: Series[] = loss.length > 50
    ? [
      { name: "loss", points: loss, opacity: 0.3 },
      { name: "smoothed", points: smoothCentred(loss, Math.max(2, Math.round(loss.length / 40))), color: PALETTE[0] },
    ]
    : [{ name: "loss", points: loss }];
  const panels: Panel[] = [
    { title: "Loss", xLabel: "step", series: lossSeries },
    {
      title: "kNN accuracy",
      xLabel: "epoch",
      percent: true,
      series: [{ name: "kNN top-1", points: series(records, "epoch", "knn"), color: PALETTE[2] }],
    },
    {
      title: "Learning rate",
      xLabel: "step",
      series: [{ name: "lr", points: series(records, "step", "lr"), color: PALETTE[7] }],
    },
    {
      title: "Gradient decomposition",
      xLabel: "step",
      yLabel: "norm per sample",
      series: [
        { name: "positive", points: series(records, "step", "positive"), color: PALETTE[0] },
        { name: "negative", points: series(records, "step", "negative"), color: PALETTE[3] },
      ],
    },
    {
      title: "Balance",
      xLabel: "step",
      yLabel: "‖negative‖ / ‖positive‖",
      series: [{ name: "balance", points: series(records, "step", "balance"), color: PALETTE[4] }],
    },
  ];
  const kept = panels.filter((p) => p.series.some((s) => s.points.some(([, y]) => Number.isFinite(y))));
  return kept.length > 0 ? kept : [panels[0]];
}
