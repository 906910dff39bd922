/**
 * `RunStopped`: how a data-parallel run ends after SIGTERM or SIGINT, once every rank has agreed to stop
 * after the same step and rank 0 has written the checkpoint.
 *
 * @module
 */

/**
 * A run that all ranks agreed to stop after a signal; `train.ts` prints the message and exits with
 * `exitCode`.
 *
 * @example Usage
 * ```ts
 * import { RunStopped } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * const e = new RunStopped("stopped on SIGTERM after step 7", 143);
 * assert.equal(e.exitCode, 143);
 * ```
 */
export class RunStopped extends Error {
  /** 143 after SIGTERM, 130 after SIGINT (128 + the signal's number). */
  readonly exitCode: number;

  /**
   * A stopped run.
   *
   * @param message What stopped, where the checkpoint is and how to resume.
   * @param exitCode The exit code of the process.
   */
  constructor(message: string, exitCode: number) {
    super(message);
    this.name = "RunStopped";
    this.exitCode = exitCode;
  }
}
