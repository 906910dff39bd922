import assert from "node:assert/strict";
import { cat, liveTensors, manualSeed, scope, type Tensor } from "../../mod.ts";
import type { Communicator } from "../../src/ssl/comm.ts";
import { localComm } from "../../src/ssl/comm.ts";
import { barlowTwins } from "../../src/ssl/barlow_twins.ts";
import { moco } from "../../src/ssl/moco.ts";
import { unigrad } from "../../src/ssl/unigrad.ts";
import { disposeState } from "../../src/ssl/state.ts";
import type { Features, Method } from "../../src/ssl/method.ts";
import { assertClose, randomFeatures } from "./_helpers.ts";

Deno.test("localComm gathers and averages as the identity, detached", () => {
  const before = liveTensors();
  scope(() => {
    const f = randomFeatures(2, 3);
    const g = localComm.allGather(f.u1);
    assert.equal(g.requiresGrad, false);
    assertClose(g, f.u1.detach(), 0, "allGather");
    assertClose(localComm.allReduceMean(f.v1), f.v1, 0, "allReduceMean");
  });
  assert.equal(liveTensors(), before);
});

/**
 * Rank 0 of a simulated two-worker job: gathering appends the other worker's copy of the same feature
 * (found by value), and averaging uses the other worker's own computation of the same quantity.
 */
function rank0(mine: Features, other: Features, method: Method): Communicator {
  const names = ["u1", "u2", "v1", "v2"] as const;
  const partner = (x: Tensor) => {
    const name = names.find((k) => x.shape.join() === mine[k].shape.join() && x.sub(mine[k]).abs().max().item() === 0);
    if (!name) throw new Error("fake comm: unknown tensor");
    return other[name].detach();
  };
  return {
    worldSize: 2,
    rank: 0,
    allGather: (x) => cat([x.detach(), partner(x)]),
    allReduceMean(x) {
      // The other worker's F_batch, computed with the identity communicator.
      const s = method.initState(x.size(0), { dtype: "float64" });
      method.gradient(other, s);
      const theirs = s.F!.clone();
      disposeState(s);
      return x.add(theirs).div(2);
    },
  };
}

/** Single-process features of the global batch [mine; other]. */
function joined(a: Features, b: Features): Features {
  return { u1: cat([a.u1, b.u1]), u2: cat([a.u2, b.u2]), v1: cat([a.v1, b.v1]), v2: cat([a.v2, b.v2]) };
}

Deno.test("methods are distributed-ready: rank 0's gradient, averaged over 2 workers, is the global batch's", () => {
  manualSeed(80);
  const factories: [string, (comm: Communicator) => Method][] = [
    ["unigrad", (comm) => unigrad({ lambda: 5, comm })],
    ["moco", (comm) => moco({ comm })],
    ["barlow-twins l2", (comm) => barlowTwins({ form: "l2", lambda: 4, comm })],
  ];
  for (const [name, make] of factories) {
    scope(() => {
      const [mine, other] = [randomFeatures(3, 4), randomFeatures(3, 4)];
      const single = make(localComm);
      const distributed = make(rank0(mine, other, single));
      const [s1, s2] = [single.initState(4, { dtype: "float64" }), distributed.initState(4, { dtype: "float64" })];
      const global = single.gradient(joined(mine, other), s1);
      const local = distributed.gradient(mine, s2);
      // DDP averages the workers' parameter gradients: rank 0's share of the global gradient is g/2.
      assertClose(local.g1.div(2), global.g1.narrow(0, 0, 3), 1e-12, `${name} g1`);
      assertClose(local.g2.div(2), global.g2.narrow(0, 0, 3), 1e-12, `${name} g2`);
      [s1, s2].forEach(disposeState);
    });
  }
});
