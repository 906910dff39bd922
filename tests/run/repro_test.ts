import assert from "node:assert/strict";
import { assertExit, runChild } from "../_child.ts";
import { join } from "node:path";
import { BUDGETS, plannedRuns, REPRO_ROWS, rowConfig, type RowResult, selectRows } from "../../src/run/repro.ts";
import {
  difference,
  formatStat,
  momentumCoverage,
  type RowSummary,
  stat,
  verdict,
} from "../../src/run/repro_report.ts";
import { buildMethod, resolvedMethodOptions } from "../../src/run/method_options.ts";
import { createPreset } from "../../src/ssl/mod.ts";

const root = await Deno.makeTempDir({ prefix: "unigrad-repro-test-" });
addEventListener("unload", () => Deno.removeSync(root, { recursive: true }));

Deno.test("REPRO_ROWS: Table 1's (a)–(j) with the momentum encoder, and the stop-grad and momentum-positive cells of b, e, h", () => {
  assert.deepEqual(REPRO_ROWS.filter((r) => r.tables.includes(1)).map((r) => r.id), [..."abcdefghij"]);
  assert.ok(REPRO_ROWS.filter((r) => r.tables.includes(1)).every((r) => r.target === "momentum"));
  const grid = REPRO_ROWS.filter((r) => r.tables.includes(2)).map((r) => `${r.letter}/${r.target}`);
  assert.deepEqual(grid.sort(), [
    "b/momentum",
    "b/momentum-positive",
    "b/stop-grad",
    "e/momentum",
    "e/momentum-positive",
    "e/stop-grad",
    "h/momentum",
    "h/momentum-positive",
    "h/stop-grad",
  ]);
  assert.deepEqual(selectRows(["d", "h"]).map((r) => r.id), ["d", "h", "h-stop-grad", "h-momentum-positive"]);
  assert.deepEqual(selectRows(["h"], false).map((r) => r.id), ["h"]);
  assert.throws(() => selectRows(["k"]), /Unknown row\(s\) k: expected some of a, b/);
});

Deno.test("rowConfig(): every row shares the budget; the forms differ only in method and target; λ follows the width rule", () => {
  const options = { budget: "cpu" as const, out: root };
  const configs = REPRO_ROWS.map((r) => rowConfig(options, r, 1));
  const shared = (c: (typeof configs)[number]) => {
    const { method: _m, methodOptions: _o, target: _t, out: _out, ...rest } = c;
    return rest;
  };
  for (const c of configs) assert.deepEqual(shared(c), shared(configs[0]));
  assert.equal(configs[0].seed, 1);
  assert.equal(configs[0].width, BUDGETS.cpu.config.width);
  // Each row builds its preset's method and form with the row's target ((b) is SimCLR's gradient form,
  // not the method "simclr" with its default form; (d) the official DirectPred form).
  REPRO_ROWS.forEach((r, i) => {
    const m = buildMethod(configs[i]);
    const preset = createPreset(r.preset, { target: r.target });
    assert.deepEqual([m.name, m.form, m.target], [preset.name, preset.form, r.target], r.id);
  });
  assert.equal(buildMethod(configs[1]).form, "gradient");
  assert.deepEqual([buildMethod(configs[3]).name, buildMethod(configs[3]).form], ["byol", "directpred"]);
  assert.equal(configs[0].methodOptions.queueSize, BUDGETS.cpu.queueSize);
  assert.equal(configs[2].methodOptions.hiddenDim, BUDGETS.cpu.predictorHidden);
  const d = BUDGETS.cpu.config.projDim!;
  const lambda = (id: string) =>
    resolvedMethodOptions(rowConfig(options, REPRO_ROWS.find((r) => r.id === id)!, 0)).lambda;
  assert.equal(lambda("e"), (100 * d) / 2048);
  assert.equal(lambda("h"), (50 * d) / 2048);
  assert.equal(lambda("j"), (100 * d) / 2048);
  assert.equal(lambda("h-stop-grad"), (50 * d) / 2048);
  const planned = plannedRuns({ ...options, seeds: 2 });
  assert.equal(planned.length, 2 * REPRO_ROWS.length);
  assert.deepEqual(new Set(planned.map((r) => r.row.id)), new Set(REPRO_ROWS.map((r) => r.id)));
  assert.deepEqual(planned.slice(0, 3).map((r) => `${r.row.id}@${r.seed}`), ["b@0", "e@0", "h@0"]);
  assert.throws(() => plannedRuns({ ...options, seeds: 0 }), /Invalid seeds 0/);
});

Deno.test("stat() and difference(): sample std and the standard error of a difference of means", () => {
  const a = stat([0.8, 0.82, 0.84]);
  assert.ok(Math.abs(a.mean - 0.82) < 1e-12 && Math.abs(a.std! - 0.02) < 1e-12);
  assert.equal(stat([0.5]).std, null);
  const d = difference(a, stat([0.79, 0.8, 0.81]));
  assert.ok(Math.abs(d.value - 0.02) < 1e-12);
  assert.ok(Math.abs(d.se! - Math.sqrt(0.0004 / 3 + 0.0001 / 3)) < 1e-12);
  assert.equal(difference(a, stat([0.5])).se, null);
  assert.equal(formatStat(a), "82.00 ± 2.00");
});

/** A summary of a row with the given final kNN per seed. */
function summary(id: string, knn: number[], init = 0.7): RowSummary {
  const row = REPRO_ROWS.find((r) => r.id === id)!;
  const results = knn.map((k, seed): RowResult => ({
    row: id,
    seed,
    out: "",
    knnInit: init,
    knnFinal: k,
    linearProbe: null,
    pairsPerSecond: 1,
    trainSeconds: 1,
    steps: 1,
    skippedSteps: 0,
    stopped: null,
  }));
  return {
    row,
    results,
    planned: knn.length,
    knnInit: stat(knn.map(() => init)),
    knn: stat(knn),
    gain: stat(knn.map((k) => k - init)),
    probe: null,
    pairsPerSecond: stat([1]),
    trainSeconds: stat([1]),
    wallSeconds: stat([1]),
  };
}

Deno.test("momentumCoverage(): the online share of a momentum encoder after K steps of the cosine schedule", () => {
  // Σ(1 − m_k) ≈ 0.004·K/2 for small K: about 1 − e^(−0.24) after 120 steps.
  assert.ok(Math.abs(momentumCoverage(120) - (1 - Math.exp(-0.24))) < 0.01);
  assert.ok(momentumCoverage(125_000) > 0.999999);
  assert.equal(momentumCoverage(0), 0);
});

Deno.test("verdict() states each claim as measured, including when it does not hold", () => {
  const rows = [
    summary("b", [0.80, 0.81, 0.80]),
    summary("b-stop-grad", [0.83, 0.84, 0.83]), // momentum loses: the claim does not hold
    summary("b-momentum-positive", [0.80, 0.80, 0.81]),
    summary("e", [0.80, 0.80, 0.81]),
    summary("e-stop-grad", [0.78, 0.78, 0.77]), // a resolved gain
    summary("e-momentum-positive", [0.70, 0.71, 0.70]), // far from momentum
    summary("j", [0.80, 0.81, 0.80]),
  ];
  const text = verdict(rows).join("\n");
  assert.match(
    text,
    /contrastive \(b\): momentum 80\.33 ± 0\.58 vs stop-grad 83\.33 ± 0\.58: −3\.00 ± 0\.00 pt \(paired by seed.* a resolved loss: the claim does not hold here/,
  );
  assert.match(text, /asymmetric \(e\): momentum .*: \+2\.67 ± .* a resolved gain/);
  assert.match(text, /asymmetric \(e\): momentum-positive .* the claim does not hold here/);
  assert.match(
    text,
    /contrastive \(b\): momentum-positive .* no resolved difference \(within twice its standard error\): consistent with the claim/,
  );
  assert.match(
    text,
    /across families, \(b\), \(e\), \(j\): .* within twice its standard error: no resolved difference/,
  );
  assert.match(text, /barlow-twins \(h\): not measured/);
});

Deno.test("deno task repro --budget smoke: every row trains, the report has the table, plots and verdict; a re-run trains nothing", async () => {
  const out = join(root, "smoke");
  const script = new URL("../../scripts/repro.ts", import.meta.url).pathname;
  const repro = async (...args: string[]) => {
    const o = await runChild(Deno.execPath(), {
      args: ["run", "-A", script, "--budget", "smoke", "--out", out, "--threads", "1", ...args],
      env: { UNIGRAD_NUM_THREADS: "1" },
      timeoutMs: 300_000,
    });
    assertExit(o, 0, "repro --budget smoke");
    return o.stdout + o.stderr;
  };
  const first = await repro();
  assert.equal(first.match(/: done in /g)?.length, REPRO_ROWS.length, first);
  const report = await Deno.readTextFile(join(out, "report.md"));
  for (const r of REPRO_ROWS) {
    const name = r.tables.includes(1) ? `| (${r.letter}) |` : `| (${r.letter}) ${r.target} |`;
    assert.ok(report.includes(name), `report lacks row ${r.id}`);
  }
  assert.match(report, /Every planned row and seed finished/);
  assert.match(report, /## Verdict[\s\S]*momentum encoder adds[\s\S]*positive gradient only/);
  assert.match(report, /\(h\) λ = 50·d\/2048 = 0\.78125 \(d = 32/);
  for (const f of ["knn.svg", "gradients-contrastive.svg", "gradients-vicreg.svg"]) {
    assert.match(await Deno.readTextFile(join(out, f)), /^<svg/);
  }
  const folder = join(out, "rows", "h", "seed-0");
  const config = JSON.parse(await Deno.readTextFile(join(folder, "config.json")));
  assert.equal(config.lambdaRule, "λ = 50·d/2048 = 0.78125 (d = 32; λ_2048 = 50 for barlow-twins/l2)");
  // Finished rows are not trained again; a row without its result resumes from its last checkpoint.
  await Deno.remove(join(folder, "result.json"));
  const second = await repro("--rows", "h,d");
  assert.equal(second.match(/finished before, skipped/g)?.length, 3, second);
  assert.match(second, /row h \(barlow-twins-l2, momentum\) seed 0: .*resumed from .*ckpt-/);
  assert.match(second, /row h \(barlow-twins-l2, momentum\) seed 0: done in/);
});
