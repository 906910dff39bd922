import assert from "node:assert/strict";
import { Progress } from "../../src/io/progress.ts";

function fake(tty: boolean, extra: { total?: number; initial?: number; interval?: number } = {}) {
  const out: string[] = [];
  let t = 0;
  const p = new Progress({
    total: extra.total ?? 100,
    initial: extra.initial,
    interval: extra.interval,
    label: "unigrad",
    pairsPerStep: 512,
    tty,
    write: (s) => out.push(s),
    now: () => t,
  });
  return { p, out, at: (s: number) => (t = s) };
}

Deno.test("Progress without a TTY prints a plain line per interval and one at the end", () => {
  const { p, out, at } = fake(false, { interval: 10 });
  for (let step = 1; step <= 100; step++) {
    at(step * 0.5); // 2 steps/s
    p.update(step, { loss: 2 / step, lr: 0.05 });
  }
  p.done();
  p.done();
  // drawn at t = 0.5 (first), 10.5, 20.5, 30.5, 40.5, then at the last step; done() adds nothing
  assert.equal(out.length, 6);
  assert.ok(out.every((l) => l.endsWith("\n") && !l.includes("\r")));
  assert.equal(out[1], "unigrad  step 21/100  loss 0.09524  lr 0.05  1,024 pairs/s  ETA 40 s\n");
  assert.equal(out[5], "unigrad  step 100/100  loss 0.02  lr 0.05  1,024 pairs/s  50 s total\n");
});

Deno.test("Progress on a TTY redraws one line in place, at most 10 times a second", () => {
  const { p, out, at } = fake(true, { total: 2000 });
  for (let step = 1; step <= 2000; step++) {
    at(step * 0.01); // 100 steps/s
    p.update(step, { loss: 1 });
  }
  p.done();
  assert.ok(out.length >= 180 && out.length <= 202, `${out.length} draws`);
  assert.ok(out.slice(0, -1).every((s) => s.startsWith("\r") && !s.includes("\n")));
  assert.equal(out.at(-1), "\n");
  assert.ok(out[0].includes("[░░░░░░░░░░░░░░░░░░░░░░░░]  step 1/2000"));
  assert.ok(out.at(-2)!.includes("[████████████████████████]  step 2000/2000  loss 1  51,200 pairs/s  20 s total"));
  assert.match(out[100], /ETA \d+\.\d s/);
});

Deno.test("Progress pads a shorter redraw and measures a resumed run from its first step", () => {
  const { p, out, at } = fake(true, { initial: 50 });
  at(1);
  p.update(52, { loss: 123.456 });
  at(2);
  p.update(54, { loss: 1 });
  assert.equal(out[1].length, out[0].length); // shorter text, padded with spaces over the old one
  assert.ok(out[1].includes("step 54/100  loss 1  1,024 pairs/s  ETA 23 s"), out[1]); // 4 steps in 2 s
  p.done();
  assert.ok(out.at(-1) === "\n");
  assert.throws(() => new Progress({ total: 0 }), RangeError);
});
