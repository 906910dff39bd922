import assert from "node:assert/strict";
import sharp from "sharp";
import { niceTicks, plotPanels, smoothCentred, trainingPanels } from "../../src/io/plot.ts";
import { REPRO_ROWS } from "../../src/run/repro.ts";
import type { TrainingRecord } from "../../src/io/metrics_log.ts";

/** Checks that every tag is closed in order (the SVG is well-formed XML) and returns the tag names. */
function tags(svg: string): string[] {
  const open: string[] = [];
  const seen: string[] = [];
  for (const m of svg.matchAll(/<(\/?)([a-z]+)[^>]*?(\/?)>/g)) {
    const [, close, name, self] = m;
    if (close) assert.equal(open.pop(), name, `unbalanced </${name}>`);
    else {
      seen.push(name);
      if (!self) open.push(name);
    }
  }
  assert.deepEqual(open, []);
  return seen;
}

Deno.test("niceTicks() picks 1-2-5 steps that cover the range", () => {
  assert.deepEqual(niceTicks(0, 1, 5), { ticks: [0, 0.2, 0.4, 0.6, 0.8, 1], lo: 0, hi: 1, step: 0.2 });
  const acc = niceTicks(0.771, 0.819, 5);
  assert.equal(acc.step, 0.01);
  assert.ok(Math.abs(acc.lo - 0.77) < 1e-12 && Math.abs(acc.hi - 0.82) < 1e-12);
  assert.deepEqual(acc.ticks, [0.77, 0.78, 0.79, 0.8, 0.81, 0.82]);
  assert.deepEqual(niceTicks(-1, 4680, 6).step, 1000);
  const flat = niceTicks(3, 3, 5); // a constant series still gets an axis around it
  assert.ok(flat.lo < 3 && flat.hi > 3);
});

Deno.test("plotPanels() draws well-formed SVG: axes, escaped text, broken lines, 'no data'", () => {
  const svg = plotPanels([
    {
      title: "Loss <train>",
      xLabel: "step",
      yLabel: "loss",
      series: [{ name: "a & b", points: [[0, 3], [1, 2], [2, NaN], [3, 1.5], [4, 1]] }, {
        name: "c",
        points: [[0, 1], [4, 2]],
      }],
    },
    { title: "Empty", series: [] },
    { title: "Accuracy", percent: true, series: [{ name: "knn", points: [[0, 0.5], [1, 0.75]] }] },
  ], { title: "run" });
  const names = tags(svg);
  assert.ok(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg" width="920" height="614"'));
  assert.equal(names.filter((n) => n === "path").length, 3);
  assert.ok(svg.includes(">Loss &lt;train&gt;</text>") && svg.includes(">a &amp; b</text>"));
  assert.ok(!svg.includes("NaN"));
  const first = /<path d="([^"]*)"/.exec(svg)![1];
  assert.equal(first.match(/M/g)!.length, 2); // the NaN breaks the line in two
  assert.ok(svg.includes(">no data</text>"));
  assert.ok(svg.includes(">50%</text>") && svg.includes(">75%</text>"));
  assert.ok(svg.includes('transform="rotate(-90'));
});

Deno.test("plotPanels() averages long lines into at most maxPoints points", () => {
  const points = Array.from({ length: 5000 }, (_, i) => [i, Math.sin(i / 100)] as [number, number]);
  const svg = plotPanels([{ title: "long", series: [{ name: "s", points }] }], { maxPoints: 200 });
  const d = /<path d="([^"]*)"/.exec(svg)![1];
  assert.equal(d.match(/[ML]/g)!.length, 200);
  assert.equal(svg.match(/<circle/g), null); // no markers on long lines
});

Deno.test("trainingPanels() builds loss, kNN, lr and gradient panels and drops empty ones", () => {
  const records: TrainingRecord[] = [{ step: 0, epoch: 0, knn: 0.7 }];
  for (let s = 1; s <= 100; s++) {
    records.push({ step: s, epoch: s / 50, loss: 1 / s, lr: 0.1, positive: 1, negative: 0.5, balance: 0.5 });
  }
  records.push({ step: 100, epoch: 2, knn: 0.8 });
  const panels = trainingPanels(records);
  assert.deepEqual(panels.map((p) => p.title), [
    "Loss",
    "kNN accuracy",
    "Learning rate",
    "Gradient decomposition",
    "Balance",
  ]);
  assert.deepEqual(panels[0].series.map((s) => s.name), ["loss", "smoothed"]);
  assert.deepEqual(panels[1].series[0].points, [[0, 0.7], [2, 0.8]]);
  assert.deepEqual(panels[3].series.map((s) => s.name), ["positive", "negative"]);
  const lossOnly = trainingPanels([{ step: 1, epoch: 0, loss: 2 }, { step: 2, epoch: 0, loss: 1 }]);
  assert.deepEqual(lossOnly.map((p) => p.title), ["Loss"]);
  assert.deepEqual(trainingPanels([]).map((p) => p.title), ["Loss"]);
  tags(plotPanels(panels));
});

/** The rendered width of an 11 px label (rightmost inked column), drawn alone by librsvg through sharp. */
async function inkWidth(label: string): Promise<number> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="1200" height="20"><rect width="100%" height="100%" ` +
    `fill="#fff"/><text x="10" y="14" font-size="11" font-family="DejaVu Sans, Helvetica, Arial, sans-serif">${label}</text></svg>`;
  const { data, info } = await sharp(new TextEncoder().encode(svg)).raw().toBuffer({ resolveWithObject: true });
  let right = 10;
  for (let y = 0; y < info.height; y++) {
    for (let x = 0; x < info.width; x++) {
      if (data[(y * info.width + x) * info.channels] < 200) right = Math.max(right, x + 1);
    }
  }
  return right - 10;
}

Deno.test("a legend of the reproduction's 16 rows wraps, its labels' boxes (as rendered) do not overlap, and no two series look alike", async () => {
  const names = REPRO_ROWS.map((r) => r.tables.includes(1) ? `(${r.letter}) ${r.label}` : `(${r.letter}) ${r.target}`);
  assert.equal(names.length, 16);
  const width = 560;
  const svg = plotPanels([{
    title: "kNN",
    series: names.map((name, i) => ({ name, points: [[0, i], [1, i + 1]] as [number, number][] })),
  }], { columns: 1, width, height: 420 });
  const labels = [
    ...svg.matchAll(/<text x="([\d.]+)" y="([\d.]+)" [^>]*class="legend" data-width="(\d+)">([^<]*)<\/text>/g),
  ]
    .map((m) => ({ x: Number(m[1]), y: Number(m[2]), w: Number(m[3]), text: m[4] }));
  assert.equal(labels.length, 16);
  assert.ok(new Set(labels.map((l) => l.y)).size > 1, "the legend wraps onto several rows");
  for (const l of labels) {
    const rendered = await inkWidth(l.text);
    assert.ok(rendered <= l.w, `"${l.text}" renders ${rendered} px wide but the legend reserved ${l.w}`);
    assert.ok(l.x - 23 >= 0 && l.x + l.w <= width, `"${l.text}" leaves the panel`);
  }
  // Boxes: swatch and text, one row high.
  const box = (l: (typeof labels)[number]) => [l.x - 23, l.y - 12, l.x + l.w, l.y + 4];
  for (let i = 0; i < labels.length; i++) {
    for (let j = i + 1; j < labels.length; j++) {
      const [a, b] = [box(labels[i]), box(labels[j])];
      const overlap = a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3];
      assert.ok(!overlap, `"${labels[i].text}" overlaps "${labels[j].text}"`);
    }
  }
  const swatches = [
    ...svg.matchAll(
      /<line [^>]*stroke="(#[0-9a-f]{6})" stroke-opacity="[\d.]+" stroke-width="2.5"( stroke-dasharray="([^"]*)")?\/>/g,
    ),
  ]
    .map((m) => `${m[1]} ${m[3] ?? "solid"}`);
  assert.equal(swatches.length, 16);
  assert.equal(new Set(swatches).size, 16, "two series share a colour and a dash pattern");
  const png = await sharp(new TextEncoder().encode(svg)).png().toBuffer(); // the whole figure renders
  assert.ok(png.length > 1000);
});

Deno.test("the smoothed loss draws through the noise without lagging behind a falling loss", () => {
  const records: TrainingRecord[] = Array.from({ length: 200 }, (_, i) => ({
    step: 20 * i,
    epoch: i / 50,
    loss: -0.6 * (1 - Math.exp(-i / 40)) + (i % 2 ? 0.05 : -0.05),
  }));
  const smoothed = trainingPanels(records)[0].series.find((s) => s.name === "smoothed")!;
  const truth = (i: number) => -0.6 * (1 - Math.exp(-i / 40));
  for (const i of [20, 100, 199]) {
    assert.ok(
      Math.abs(smoothed.points[i][1] - truth(i)) < 0.02,
      `step ${20 * i}: ${smoothed.points[i][1]} vs ${truth(i)}`,
    );
  }
  assert.deepEqual(smoothCentred([[0, 1], [1, NaN], [2, 3]], 1), [[0, 1], [1, 2], [2, 3]]);
});
