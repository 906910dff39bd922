/**
 * Affine-free batch normalisation with batch statistics, forward and backward, as Barlow Twins
 * standardises the projector outputs (internal to src/ssl).
 *
 * @module
 */
import type { Tensor } from "../torch/mod.ts";

/** Affine-free batch normalisation with batch statistics (biased variance): x̂ and σ. */
export function standardize(x: Tensor, eps: number): { xh: Tensor; sigma: Tensor } {
  const xc = x.sub(x.mean(0, true)); // [N, D]
  const sigma = xc.square().mean(0, true).add(eps).sqrt(); // [1, D]
  return { xh: xc.div(sigma), sigma };
}

/** Backward of affine-free BN: (G − mean G − x̂·mean(G·x̂))/σ. */
export function bnBackward(G: Tensor, xh: Tensor, sigma: Tensor): Tensor {
  return G.sub(G.mean(0, true)).sub(xh.mul(G.mul(xh).mean(0, true))).div(sigma); // [N, D]
}
