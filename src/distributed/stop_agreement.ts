/**
 * Stopping together: a rank that was asked to stop (SIGTERM from Slurm, Ctrl-C) must not leave its
 * peers waiting in a collective. Each step every rank contributes its stop flag to one tiny
 * all-reduce, so all of them stop after the same step.
 *
 * @module
 */
import { scope, tensor } from "../torch/mod.ts";
import type { ProcessGroup } from "./process_group.ts";

/**
 * Whether any rank wants to stop: one all-reduce of a single number (call it at the same point of
 * every step on every rank; the answer is the same everywhere).
 *
 * @param group The process group.
 * @param stop This rank's wish.
 * @returns True on every rank when at least one rank passed true.
 *
 * @example Usage
 * ```ts
 * import { agreeToStop } from "@unigrad/unigrad/distributed";
 * import { ProcessGroup } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const port = (listener.addr as Deno.NetAddr).port;
 * listener.close();
 * using group = ProcessGroup.join({ address: "127.0.0.1", port, rank: 0, worldSize: 1 });
 * assert.equal(agreeToStop(group, false), false);
 * assert.equal(agreeToStop(group, true), true);
 * ```
 */
export function agreeToStop(group: ProcessGroup, stop: boolean): boolean {
  return scope(() => {
    const flag = tensor([stop ? 1 : 0], { dtype: "int32", device: group.device }); // NCCL: on the rank's GPU
    group.allReduceSum_(flag);
    return flag.item() > 0;
  });
}
