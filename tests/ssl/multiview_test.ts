import assert from "node:assert/strict";
import { autograd, randperm } from "../../src/torch/mod.ts";
import {
  cat,
  type DType,
  liveTensors,
  manualSeed,
  normalize,
  ones,
  rand,
  randn,
  scope,
  type Tensor,
} from "../../mod.ts";
import type { Features, Method } from "../../src/ssl/method.ts";
import { multiViewGradient } from "../../src/ssl/multiview.ts";
import { disposeState, type MethodState } from "../../src/ssl/state.ts";
import { barlowTwins } from "../../src/ssl/barlow_twins.ts";
import { byol } from "../../src/ssl/byol.ts";
import { moco } from "../../src/ssl/moco.ts";
import { simclr } from "../../src/ssl/simclr.ts";
import { simsiam } from "../../src/ssl/simsiam.ts";
import { unigrad } from "../../src/ssl/unigrad.ts";
import { vicreg } from "../../src/ssl/vicreg.ts";
import { assertClose } from "./_helpers.ts";

/** V views of N samples: online z (with grad) and u = normalize(z); targets zt, v of the two global views. */
function makeViews(N: number, D: number, V: number, dtype: DType = "float64") {
  const z = Array.from({ length: V }, () => randn([N, D], { dtype, requiresGrad: true }));
  const zt = [randn([N, D], { dtype }).mul(1.5).add(0.2), randn([N, D], { dtype }).mul(0.7).sub(0.1)];
  return { z, u: z.map((t) => normalize(t)), zt, v: zt.map((t) => normalize(t)) };
}

/** A copy of the state (F, queue, counters, predictor weights). */
function cloneState(m: Method, s: MethodState): MethodState {
  const c = m.initState(s.dim, { dtype: "float64" });
  m.loadState(c, m.stateDict(s));
  return c;
}

/** One warm-up step on fresh features, so that F and the queue are not trivial. */
function warmUp(m: Method, s: MethodState, N: number, D: number): void {
  scope(() => {
    const w = makeViews(N, D, 2);
    m.gradient(
      { u1: w.u[0], u2: w.u[1], v1: w.v[0], v2: w.v[1], z1: w.z[0], z2: w.z[1], zt1: w.zt[0], zt2: w.zt[1] },
      s,
    );
  });
  m.parameters(s).forEach((p) => p.setGrad(null));
}

/** The two-view features with online views a, b against the global targets (raw ones included). */
function pair(w: ReturnType<typeof makeViews>, a: number, b: number): Features {
  return { u1: w.u[a], u2: w.u[b], v1: w.v[0], v2: w.v[1], z1: w.z[a], z2: w.z[b], zt1: w.zt[0], zt2: w.zt[1] };
}

function assertSame(a: Tensor, b: Tensor, what: string): void {
  assert.equal(a.sub(b).abs().max().item(), 0, what);
}

Deno.test("multiViewGradient() with two views is method.gradient exactly, state included", () => {
  manualSeed(1);
  const before = liveTensors();
  const methods = [unigrad({ lambda: 5 }), moco({ queueSize: 16 }), simclr(), barlowTwins(), byol({ hiddenDim: 6 })];
  for (const m of methods) {
    const s = m.initState(6, { dtype: "float64" });
    warmUp(m, s, 5, 6);
    const c = cloneState(m, s);
    scope(() => {
      const w = makeViews(5, 6, 2);
      const ref = m.gradient(pair(w, 0, 1), c);
      const { grads, stats } = multiViewGradient(m, s, w);
      assertSame(grads[0], ref.g1, `${m.name} g1`);
      assertSame(grads[1], ref.g2, `${m.name} g2`);
      assertSame(stats.negative, ref.stats.negative, `${m.name} stats`);
      for (const [k, t] of m.stateDict(s).tensors) assertSame(t, m.stateDict(c).tensors.get(k)!, `${m.name} ${k}`);
      assert.deepEqual(m.stateDict(s).numbers, m.stateDict(c).numbers);
    });
    m.parameters(s).forEach((p) => p.setGrad(null));
    m.parameters(c).forEach((p) => p.setGrad(null));
    disposeState(s);
    disposeState(c);
  }
  assert.equal(liveTensors(), before);
});

Deno.test("multiViewGradient() advances unigrad's F and moco's queue exactly once per call", () => {
  manualSeed(2);
  const before = liveTensors();
  for (const m of [unigrad({ lambda: 5 }), moco({ queueSize: 32 })]) {
    const s = m.initState(6, { dtype: "float64" });
    const ref = m.initState(6, { dtype: "float64" });
    for (let step = 0; step < 3; step++) {
      scope(() => {
        const w = makeViews(4, 6, 5);
        multiViewGradient(m, s, w);
        m.gradient(pair(w, 0, 1), ref); // the global pair alone
        assert.equal(s.step, step + 1);
        if (s.F) assertSame(s.F, ref.F!, `F after step ${step}`);
        if (s.queue) {
          assert.equal(s.queuePtr, 8 * (step + 1)); // 2N keys per step, not 2N per view
          assert.equal(s.queueFilled, ref.queueFilled);
          assertSame(s.queue, ref.queue!, `queue after step ${step}`);
        }
      });
    }
    disposeState(s);
    disposeState(ref);
  }
  assert.equal(liveTensors(), before);
});

Deno.test("multiViewGradient() gives a local view the mean of its two pair gradients, by hand on a cloned state", () => {
  manualSeed(3);
  const before = liveTensors();
  const methods = [
    unigrad({ lambda: 5 }),
    moco({ queueSize: 16 }),
    simclr({ form: "gradient" }),
    byol({ form: "directpred" }),
    simsiam({ hiddenDim: 6 }),
    barlowTwins({ form: "l2", lambda: 3 }),
    barlowTwins(),
    vicreg(),
    vicreg({ form: "l2", lambda: 4 }),
  ];
  for (const m of methods) {
    const s = m.initState(6, { dtype: "float64" });
    warmUp(m, s, 5, 6);
    scope(() => {
      const V = 4;
      const w = makeViews(5, 6, V);
      const c = [0, 1, 2, 3, 4].map(() => cloneState(m, s)); // one fresh copy per call by hand
      const { grads } = multiViewGradient(m, s, w);
      const g = m.gradient(pair(w, 0, 1), c[0]);
      assertClose(grads[0], g.g1.div(V - 1), 1e-12, `${m.name} ${m.form} global view 0`);
      assertClose(grads[1], g.g2.div(V - 1), 1e-12, `${m.name} ${m.form} global view 1`);
      [2, 3].forEach((l, j) => {
        // u_l in the place of u_0 (its positive is v_1), then of u_1 (positive v_0), the other view real
        const toV1 = m.gradient(pair(w, l, 1), c[1 + 2 * j]).g1;
        const toV0 = m.gradient(pair(w, 0, l), c[2 + 2 * j]).g2;
        assertClose(grads[l], toV1.add(toV0).div(V - 1), 1e-12, `${m.name} ${m.form} local view ${l}`);
      });
      c.forEach((t) => {
        m.parameters(t).forEach((p) => p.setGrad(null));
        disposeState(t);
      });
    });
    m.parameters(s).forEach((p) => p.setGrad(null));
    disposeState(s);
  }
  assert.equal(liveTensors(), before);
});

Deno.test("multiViewGradient() for unigrad and moco equals autograd of the mean pair loss, written out, in float64", () => {
  manualSeed(4);
  const before = liveTensors();
  const [N, D, V, lambda, rho, tau] = [5, 6, 5, 7, 0.9, 0.3];
  const row = (a: Tensor, b: Tensor) => a.mul(b).sum(1); // [N]
  const losses = {
    unigrad: (s: MethodState, w: ReturnType<typeof makeViews>) => {
      const Fb = w.v[0].t().mm(w.v[0]).add(w.v[1].t().mm(w.v[1])).div(2 * N); // [D, D]
      const F = s.F!.mul(rho).add(Fb.mul(1 - rho));
      return (a: number, b: number) => row(w.u[a], w.v[b]).neg().add(row(w.u[a], w.u[a].mm(F)).mul(lambda / 2)).mean();
    },
    moco: (s: MethodState, w: ReturnType<typeof makeViews>) => {
      const K = cat([w.v[0], w.v[1], s.queue!.narrow(0, 0, s.queueFilled)]); // [2N + filled, D]
      return (a: number, b: number) => w.u[a].mm(K.t()).div(tau).logsumexp(1).sub(row(w.u[a], w.v[b]).div(tau)).mean();
    },
  };
  for (const m of [unigrad({ lambda, rho }), moco({ tau, queueSize: 32 })]) {
    const s = m.initState(D, { dtype: "float64" });
    warmUp(m, s, N, D);
    scope(() => {
      const w = makeViews(N, D, V);
      const ell = losses[m.name as keyof typeof losses](s, w); // the state before the step
      const pairs = [[0, 1], [1, 0], [2, 0], [2, 1], [3, 0], [3, 1], [4, 0], [4, 1]];
      const L = pairs.map(([a, b]) => ell(a, b)).reduce((x, y) => x.add(y)).div(pairs.length);
      const ref = autograd.grad([L], w.u);
      const { grads } = multiViewGradient(m, s, w);
      grads.forEach((g, i) => assertClose(g, ref[i]!, 1e-9, `${m.name} view ${i}`));
    });
    disposeState(s);
  }
  assert.equal(liveTensors(), before);
});

Deno.test("multiViewGradient() equals autograd of the mean pair loss through method.loss: BYOL's predictor, Barlow Twins on z", () => {
  manualSeed(5);
  const before = liveTensors();
  for (const m of [byol({ hiddenDim: 6 }), barlowTwins(), vicreg()]) {
    const s = m.initState(6, { dtype: "float64" });
    warmUp(m, s, 5, 6);
    const params = m.parameters(s);
    scope(() => {
      const V = 4;
      const w = makeViews(5, 6, V);
      // L = (1/P)·Σ pairs = (1/(V−1))·(loss(global pair) + Σ_l loss(u_l in both slots)), state before the step
      const calls = [pair(w, 0, 1), pair(w, 2, 2), pair(w, 3, 3)];
      const L = calls.map((f) => m.loss!(f, s)).reduce((x, y) => x.add(y)).div(V - 1);
      const inputs = m.wrt === "u" ? w.u : w.z;
      const ref = autograd.grad([L], [...inputs, ...params]);
      params.forEach((p) => p.setGrad(ones(p.shape, { dtype: "float64" }))); // an earlier accumulation
      const { grads } = multiViewGradient(m, s, w);
      grads.forEach((g, i) => assertClose(g, ref[i]!, 1e-9, `${m.name} ${m.form} view ${i}`));
      params.forEach((p, i) => assertClose(p.grad!, ref[V + i]!.add(1), 1e-9, `${m.name} predictor parameter ${i}`));
      assert.equal(s.step, 2);
    });
    params.forEach((p) => p.setGrad(null));
    disposeState(s);
  }
  assert.equal(liveTensors(), before);
});

Deno.test("multiViewGradient() with CutMix: λ = 1 is the un-mixed gradient, λ < 1 pulls toward the mixed targets", () => {
  manualSeed(6);
  const before = liveTensors();
  const [N, D, V, lambda, rho] = [6, 5, 4, 3, 0.9];
  const m = unigrad({ lambda, rho });
  const s = m.initState(D, { dtype: "float64" });
  warmUp(m, s, N, D);
  const states = [0, 1].map(() => cloneState(m, s));
  scope(() => {
    const w = makeViews(N, D, V);
    const partner = randperm(N);
    const F = s.F!.clone(); // before the step
    const plain = multiViewGradient(m, states[0], w);
    const unmixed = multiViewGradient(m, states[1], w, { cutmix: { view: 3, partner, lambda: ones([N]) } });
    unmixed.grads.forEach((g, i) => assertClose(g, plain.grads[i], 1e-12, `λ = 1, view ${i}`));
    assertSame(states[1].F!, states[0].F!, "the step's F comes from the global pair only");
    // λ < 1: view 3 is pulled toward m_g = normalize(λ·v_g + (1 − λ)·v_g[partner]), g = 0, 1, with the F of
    // a two-view step on those targets: (Σ_g (−m_g + λ·F_m·u_3)/(2N))/(V − 1)
    const lam = rand([N], { dtype: "float64" });
    const { grads } = multiViewGradient(m, s, w, { cutmix: { view: 3, partner, lambda: lam } });
    const [l1, l0] = [lam.view([N, 1]), lam.rsub(1).view([N, 1])];
    const mix = (v: Tensor) => normalize(v.mul(l1).add(v.indexSelect(0, partner).mul(l0))); // [N, D]
    const [m0, m1] = [mix(w.v[0]), mix(w.v[1])];
    const Fm = F.mul(rho).add(m0.t().mm(m0).add(m1.t().mm(m1)).div(2 * N).mul(1 - rho)); // [D, D]
    const Fu = w.u[3].mm(Fm).mul(lambda); // [N, D]
    assertClose(grads[3], Fu.sub(m1).add(Fu.sub(m0)).div(2 * N * (V - 1)), 1e-12, "the mixed view");
    [0, 1, 2].forEach((i) => assertClose(grads[i], plain.grads[i], 1e-12, `view ${i} is not mixed`));
  });
  states.forEach((t) => disposeState(t));
  disposeState(s);
  assert.equal(liveTensors(), before);
});

Deno.test("Method.gradient({ advance: false }) gives the same gradient and leaves the state untouched", () => {
  manualSeed(7);
  const before = liveTensors();
  const methods = [unigrad(), moco({ queueSize: 8 }), byol({ form: "directpred" }), simsiam({ hiddenDim: 6 })];
  for (const m of methods) {
    const s = m.initState(4, { dtype: "float64" });
    warmUp(m, s, 3, 4);
    const c = cloneState(m, s);
    scope(() => {
      const w = makeViews(3, 4, 2);
      const a = m.gradient(pair(w, 0, 1), s, { advance: false });
      for (const [k, t] of m.stateDict(s).tensors) assertSame(t, m.stateDict(c).tensors.get(k)!, `${m.name} ${k}`);
      assert.deepEqual(m.stateDict(s).numbers, m.stateDict(c).numbers);
      const b = m.gradient(pair(w, 0, 1), c);
      assertClose(a.g1, b.g1, 1e-12, `${m.name} g1`);
      assertClose(a.g2, b.g2, 1e-12, `${m.name} g2`);
      assert.equal(c.step, s.step + 1);
    });
    [s, c].forEach((t) => {
      m.parameters(t).forEach((p) => p.setGrad(null));
      disposeState(t);
    });
  }
  assert.equal(liveTensors(), before);
});

Deno.test("multiViewGradient() keeps float32 and rejects what has no multi-view form", () => {
  manualSeed(8);
  const before = liveTensors();
  const m = unigrad();
  const s = m.initState(4);
  scope(() => {
    const w = makeViews(3, 4, 3, "float32");
    const { grads } = multiViewGradient(m, s, w);
    assert.deepEqual(grads.map((g) => g.dtype), ["float32", "float32", "float32"]);
    const x = makeViews(3, 4, 3);
    const call = (method: Method, views: Partial<typeof x>, options = {}) => () => {
      const st = method.initState(4, { dtype: "float64" });
      try {
        multiViewGradient(method, st, { ...x, ...views }, options);
      } finally {
        assert.equal(st.step, 0);
        disposeState(st);
      }
    };
    assert.throws(
      call(simclr(), {}),
      /Cannot compute multi-view simclr \(original\) gradient: this form reads no target/,
    );
    assert.throws(call(unigrad({ target: "momentum-positive" }), {}), /target "momentum-positive"/);
    assert.throws(call(barlowTwins(), { z: undefined }), /barlow-twins \(original\).*pass z \(every view\)/);
    assert.throws(call(m, { u: x.u.slice(0, 1) }), TypeError);
    assert.throws(call(m, { v: [...x.v, x.v[0], x.v[1]] }), /v holds 4 views, expected 2 \(the global views\) or 3/);
    assert.throws(
      call(m, { u: [x.u[0], x.u[1], x.u[2].narrow(0, 0, 2)] }),
      /u\[2\] has shape \[2, 4\] but u\[0\] has \[3, 4\]/,
    );
    const cut = { partner: randperm(3), lambda: ones([3]) };
    assert.throws(call(m, {}, { cutmix: { ...cut, view: 1 } }), RangeError);
    assert.throws(call(barlowTwins(), {}, { cutmix: { ...cut, view: 2 } }), /CutMix mixes the l2-normalised targets/);
    assert.throws(call(m, {}, { cutmix: { ...cut, view: 2, partner: ones([3]) } }), /partner must be int64 \[3\]/);
  });
  assert.equal(s.step, 1);
  disposeState(s);
  assert.equal(liveTensors(), before);
});
