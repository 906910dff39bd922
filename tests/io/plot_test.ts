import assert from "node:assert/strict";
import { niceTicks, plotPanels, trainingPanels } from "../../src/io/plot.ts";
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
