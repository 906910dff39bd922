/**
 * `LARS` (You et al. 2017) as BYOL and SimCLR use it: layer-wise trust ratios, with biases and BN
 * parameters excluded from both the adaptation and the weight decay.
 *
 * @module
 */
import { keep, noGrad, onesLike, stack, type Tensor, TensorList, where, zerosLike } from "../torch/mod.ts";
import { checkRate, Optimizer, type OptimizerOptions, type ParamGroup, type ParamsInput } from "./optimizer.ts";

/** Options of `LARS`. */
export interface LARSOptions extends OptimizerOptions {
  /** Momentum coefficient m. @default 0.9 */
  momentum?: number;
  /** L2 weight decay, on adapted parameters only. @default 1e-6 (BYOL; SimCLR uses the same) */
  weightDecay?: number;
  /** Trust coefficient η. @default 0.001 */
  trustCoefficient?: number;
  /** Exclude 1-D parameters (BN γ/β, biases) from adaptation and weight decay. @default true */
  excludeBiasAndNorm?: boolean;
}

/**
 * LARS, in BYOL's (optax) order. For an adapted parameter p with gradient g:
 * u = g + wd·p; u ← u·(η‖p‖/‖u‖) when both norms are positive (else ·1); buf ← m·buf + u;
 * p ← p − lr·buf. Excluded parameters skip the decay and the trust ratio. Norms come from one
 * `_foreach_norm` per list; the ratios are computed on the device (no host sync).
 *
 * State dict: `step` and `momentum_buffer.<param name>` (see `Optimizer`).
 *
 * @example Usage
 * ```ts
 * import { LARS, ones, scope, zeros } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * using w = ones([2, 2], { requiresGrad: true }); // ‖w‖ = 2
 * using b = zeros([2], { requiresGrad: true }); // 1-D: not adapted
 * const opt = new LARS([w, b], { lr: 1, momentum: 0, weightDecay: 0 });
 * scope(() => w.sum().mul(3).add(b.sum()).backward()); // ‖g_w‖ = 6, g_b = 1
 * opt.step();
 * assert.ok(Math.abs((w.toArray() as number[][])[0][0] - (1 - 0.001 * (2 / 6) * 3)) < 1e-7);
 * assert.deepEqual(b.toArray(), [-1, -1]);
 * opt.zeroGrad();
 * opt.dispose();
 * ```
 */
export class LARS extends Optimizer {
  readonly #momentum: number;
  readonly #weightDecay: number;
  readonly #eta: number;
  readonly #scratch = new Map<ParamGroup, { list: TensorList; tensors: Tensor[] }>();

  /**
   * Makes a LARS optimizer (with one scratch tensor per adapted parameter).
   *
   * @param params The parameters (e.g. `model.namedParameters()`).
   * @throws {RangeError} On negative hyper-parameters.
   */
  constructor(params: ParamsInput, options: LARSOptions) {
    // Validate before the base allocates buffers.
    const momentum = checkRate("momentum", options.momentum ?? 0.9);
    const weightDecay = checkRate("weightDecay", options.weightDecay ?? 1e-6);
    const eta = checkRate("trustCoefficient", options.trustCoefficient ?? 0.001);
    super(params, { ...options, excludeBiasAndNorm: options.excludeBiasAndNorm ?? true });
    this.#momentum = momentum;
    this.#weightDecay = weightDecay;
    this.#eta = eta;
    for (const g of this.groups) {
      if (!g.decay) continue;
      const tensors = Array.from({ length: g.params.length }, (_, i) => {
        using p = g.params.get(i)!;
        return keep(noGrad(() => zerosLike(p)));
      });
      this.#scratch.set(g, { list: TensorList.of(tensors), tensors });
    }
  }

  /** The LARS update of one group through `_foreach_` ops. */
  protected update(group: ParamGroup, grads: TensorList, _first: boolean): void {
    const { params, buffers } = group;
    const scratch = this.#scratch.get(group);
    if (scratch === undefined) {
      buffers.mul_(this.#momentum).add_(grads); // excluded: plain momentum
    } else {
      const u = scratch.list.copy_(grads);
      if (this.#weightDecay !== 0) u.add_(params, this.#weightDecay);
      using ratios = this.#trustRatios(params, u);
      u.mul_(ratios);
      buffers.mul_(this.#momentum).add_(u);
    }
    params.add_(buffers, -this.lr);
  }

  /** η‖p‖/‖u‖ per tensor, or 1 where either norm is 0, as a list of [1] tensors. */
  #trustRatios(params: TensorList, u: TensorList): TensorList {
    const pn = params.norms(), un = u.norms();
    try {
      using p = stack(pn); // [K]
      using n = stack(un); // [K]
      using scaled = p.mul(this.#eta);
      using ratio = scaled.div(n);
      using pPos = p.gt(0);
      using nPos = n.gt(0);
      using ok = pPos.logicalAnd(nPos);
      using one = onesLike(p);
      using trust = where(ok, ratio, one); // [K]
      const parts = trust.chunk(pn.length);
      const list = TensorList.of(parts);
      for (const t of parts) t.dispose();
      return list;
    } finally {
      for (const t of [...pn, ...un]) t.dispose();
    }
  }

  /** Frees the buffers and the scratch space. */
  override dispose(): void {
    for (const { list, tensors } of this.#scratch.values()) {
      list.dispose();
      for (const t of tensors) t.dispose();
    }
    this.#scratch.clear();
    super.dispose();
  }
}
