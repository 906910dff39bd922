/**
 * The communicator: the only way a method talks to other workers. Every place where the official
 * UniGrad code gathers features (`concat_all_gather`, the MoCo/SimCLR negatives, the Barlow Twins banks)
 * or all-reduces F goes through it, so multi-GPU training plugs in a c10d-backed communicator without
 * touching the methods. On one process it is the identity (`localComm`).
 *
 * @module
 */
import type { Tensor } from "../torch/mod.ts";

/**
 * Collective operations over the workers of one training job. Results are new tensors (the caller
 * disposes them) and carry no autograd graph.
 */
export interface Communicator {
  /** Number of workers. */
  readonly worldSize: number;
  /** This worker's index, 0 ≤ rank < worldSize. */
  readonly rank: number;
  /** Every worker's `x` [N, ...] concatenated along dim 0 in rank order → [worldSize·N, ...]. */
  allGather(x: Tensor): Tensor;
  /** The element-wise mean of every worker's `x`. */
  allReduceMean(x: Tensor): Tensor;
}

/**
 * The communicator of a single process: gathering and averaging return the input (detached).
 *
 * @example Usage
 * ```ts
 * import { localComm } from "@unigrad/unigrad/ssl";
 * import { tensor } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * using x = tensor([[1, 2]]);
 * using all = localComm.allGather(x);
 * assert.deepEqual(all.toArray(), [[1, 2]]);
 * assert.equal(localComm.worldSize, 1);
 * ```
 */
export const localComm: Communicator = Object.freeze({
  worldSize: 1,
  rank: 0,
  allGather(x: Tensor): Tensor {
    return x.detach();
  },
  allReduceMean(x: Tensor): Tensor {
    return x.detach();
  },
});
