/**
 * The Communicator of a process group: what the methods call to gather features and average
 * statistics (the shape of `Communicator` in src/ssl, implemented here without importing it).
 *
 * @module
 */
import type { Tensor } from "../torch/mod.ts";
import type { ProcessGroup } from "./process_group.ts";

/** Collectives as the methods use them (structurally the `Communicator` of src/ssl). */
export interface GroupCommunicator {
  /** Number of workers. */
  readonly worldSize: number;
  /** This worker's rank. */
  readonly rank: number;
  /** Every worker's x [N, ...] in rank order → new [worldSize·N, ...], without gradient. */
  allGather(x: Tensor): Tensor;
  /** New element-wise mean over the workers, without gradient. */
  allReduceMean(x: Tensor): Tensor;
}

/**
 * The communicator of a process group: features gathered and statistics averaged over every rank.
 * Results are new tensors without autograd graph, as with the single-process `localComm`.
 *
 * @param group A joined process group.
 * @returns The communicator.
 *
 * @example Usage
 * ```ts
 * import { ProcessGroup, processGroupComm, tensor } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const port = (listener.addr as Deno.NetAddr).port;
 * listener.close();
 * using group = ProcessGroup.join({ address: "127.0.0.1", port, rank: 0, worldSize: 1 });
 * const comm = processGroupComm(group);
 * using x = tensor([[1, 2]]);
 * using all = comm.allGather(x);
 * assert.deepEqual(all.toArray(), [[1, 2]]);
 * ```
 */
export function processGroupComm(group: ProcessGroup): GroupCommunicator {
  return Object.freeze({
    worldSize: group.worldSize,
    rank: group.rank,
    allGather(x: Tensor): Tensor {
      return group.allGather(x);
    },
    allReduceMean(x: Tensor): Tensor {
      using detached = x.detach();
      const out = detached.clone();
      try {
        group.allReduceMean_(out);
        return out;
      } catch (e) {
        out.dispose();
        throw e;
      }
    },
  });
}
