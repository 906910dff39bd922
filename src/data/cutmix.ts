/**
 * CutMix between the samples of a batch (Yun et al., 2019), as the paper's Table 3 combines it with
 * UniGrad: each sample gets a box pasted from a partner sample of the same batch. The result carries
 * the partner and the fraction λ of the sample's own pixels, so a method can mix the positive
 * target accordingly (λ·v_i + (1 − λ)·v_partner(i)).
 *
 * Shape letters: N batch, C channels, H/W size.
 *
 * @module
 */
import { arange, randperm, scope, type Tensor, where } from "../torch/mod.ts";
import { betaSymmetric, checkImages, checkProbability, coin, perSample, uniform } from "./_util.ts";

/** Options of `cutmix`. */
export interface CutMixOptions {
  /** Probability that a sample is mixed. @default 1 */
  p?: number;
  /** α of the Beta(α, α) distribution of the box's complement λ (1: uniform, CutMix's default). @default 1 */
  alpha?: number;
}

/** A CutMix batch: the mixed images, each sample's partner, and the fraction of its own pixels. */
export interface CutMixResult {
  /** Mixed images [N, C, H, W]. */
  images: Tensor;
  /** int64 [N]: the sample each box came from (itself when not mixed). */
  partner: Tensor;
  /** float32 [N]: fraction of pixels still from the sample itself (1 when not mixed). */
  lambda: Tensor;
}

/**
 * Pastes into each sample a box from a partner (a random permutation of the batch). The box's area
 * fraction is 1 − λ with λ ~ Beta(α, α) (α = 1, CutMix's default, is uniform); its centre is uniform
 * and it is clipped at the borders, so the returned λ is the exact fraction kept. Every draw is made
 * on the batch's device.
 *
 * @param x Float images [N, C, H, W].
 * @param options Mixing probability.
 * @returns Mixed images, partners and λ.
 *
 * @example Usage
 * ```ts
 * import { cutmix, manualSeed, rand, scope } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * manualSeed(0);
 * scope(() => {
 *   const { images, partner, lambda } = cutmix(rand([8, 3, 16, 16]));
 *   assert.deepEqual(images.shape, [8, 3, 16, 16]);
 *   assert.deepEqual(partner.shape, [8]);
 *   assert.ok(lambda.min().item() >= 0 && lambda.max().item() <= 1);
 * });
 * ```
 */
export function cutmix(x: Tensor, options: CutMixOptions = {}): CutMixResult {
  const [N, , H, W] = checkImages(x, "cutmix");
  const { p = 1, alpha = 1 } = options;
  checkProbability(p, "CutMix probability");
  if (!(alpha > 0 && Number.isFinite(alpha))) throw new RangeError(`CutMix alpha must be positive, got ${alpha}`);
  return scope(() => {
    const dev = { device: x.device };
    const on = coin(x, N, p); // [N]
    const cut = betaSymmetric(x, N, alpha).sqrt(); // [N]: side fraction √(1 − λ), 1 − λ ~ Beta(α, α) as λ is
    const box = (size: number) => {
      const centre = uniform(x, N, 0, size).floor();
      const half = cut.mul(size).floor().div(2).floor();
      return [centre.sub(half).clamp(0, size), centre.add(half).clamp(0, size)] as const; // [N] each
    };
    const [x1, x2] = box(W);
    const [y1, y2] = box(H);
    const cols = arange(0, W, 1, dev).view([1, 1, 1, W]);
    const rows = arange(0, H, 1, dev).view([1, 1, H, 1]);
    const inCols = cols.ge(perSample(x1)).logicalAnd(cols.lt(perSample(x2))); // [N, 1, 1, W]
    const inRows = rows.ge(perSample(y1)).logicalAnd(rows.lt(perSample(y2))); // [N, 1, H, 1]
    const inside = inRows.logicalAnd(inCols).logicalAnd(perSample(on).gt(0)); // [N, 1, H, W]
    const self = arange(0, N, 1, { dtype: "int64", device: x.device });
    const partner = where(on.gt(0), randperm(N, dev), self); // [N]
    const images = where(inside, x.indexSelect(0, partner), x); // [N, C, H, W]
    const area = x2.sub(x1).mul(y2.sub(y1)).div(H * W).mul(on); // [N]
    return { images, partner, lambda: area.rsub(1) };
  });
}
