/**
 * A request to stop a run, which the run polls once per step and inside its long computations (the
 * kNN, the linear probe, feature extraction) and between the phases of its set-up.
 *
 * `stopOnSignals()` turns the first SIGINT or SIGTERM into such a request: during the steps the run
 * finishes the current step, writes a checkpoint, says how to resume and exits 130 or 143; during an
 * evaluation it abandons it (the checkpoint of the step is written, or was already); during set-up it
 * ends with nothing saved. The signals are seen by the shim's native handler (`watchSignals`), so a
 * second one ends the process at once, even in the middle of a long synchronous computation where no
 * JavaScript listener could run. A distributed run wraps the local request in one that all ranks agree
 * on at each step (the loop only reads `requested`), and does not abandon evaluations.
 *
 * @module
 */
import { receivedSignal, watchSignals } from "../torch/mod.ts";

/** What the loop polls each step. */
export interface StopRequest {
  /** True once a stop was asked for: finish the step, checkpoint, and end the run. */
  readonly requested: boolean;
  /** Why, for the message ("SIGTERM", "SIGINT", or a caller's reason), or null. */
  readonly reason: string | null;
  /** The exit code the process should end with: 130 for SIGINT, 143 for SIGTERM, 1 otherwise. */
  readonly exitCode: number;
}

const CODES: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };

/**
 * A stop request that code can set (tests, a time budget) and that signals set through `stopOnSignals`.
 *
 * @example Usage
 * ```ts
 * import { StopFlag } from "@unigrad/unigrad/run";
 * import assert from "node:assert/strict";
 *
 * const stop = new StopFlag(); // pass as train(config, log, { stop }) to stop a run from code
 * assert.equal(stop.requested, false);
 * stop.request("time budget");
 * assert.deepEqual([stop.requested, stop.reason, stop.exitCode], [true, "time budget", 1]);
 * ```
 */
export class StopFlag implements StopRequest {
  #reason: string | null = null;

  /** True once `request` was called. */
  get requested(): boolean {
    return this.#reason !== null;
  }

  /** The first reason given, or null. */
  get reason(): string | null {
    return this.#reason;
  }

  /** 130 for SIGINT, 143 for SIGTERM, 1 for any other reason (0 before a request). */
  get exitCode(): number {
    return this.#reason === null ? 0 : CODES[this.#reason] ?? 1;
  }

  /** Asks for a stop; a second call keeps the first reason. */
  request(reason: string): void {
    this.#reason ??= reason;
  }
}

/** A stop flag wired to SIGINT and SIGTERM; dispose it to stop watching them. */
export interface SignalStop extends StopRequest, Disposable {}

/**
 * Thrown out of a computation that a stop request interrupted (an evaluation, the set-up); the run
 * catches it, or the command line exits with `exitCode`.
 */
export class StopRequested extends Error {
  /** 130 (SIGINT), 143 (SIGTERM) or 1. */
  readonly exitCode: number;
  /** What asked for the stop ("SIGINT", "SIGTERM", or a caller's reason). */
  readonly reason: string;
  /**
   * The interruption of one phase of a run.
   *
   * @param reason What asked for the stop.
   * @param exitCode The exit code it asks for.
   * @param where The phase it interrupted, for the message.
   */
  constructor(reason: string, exitCode: number, where: string) {
    super(`stopped by ${reason} ${where}`);
    this.name = "StopRequested";
    this.reason = reason;
    this.exitCode = exitCode;
  }
}

/**
 * What long computations poll (`signal` of `knnScores`, `linearProbe`, `extractLabelledFeatures`): an
 * `AbortSignal`-like check that throws `StopRequested` once `stop` is requested.
 *
 * @param stop The request to watch.
 * @param where The phase, for the message ("during the kNN").
 * @returns An object with `throwIfAborted()`.
 */
export function interruptionOf(stop: StopRequest, where: string): { throwIfAborted(): void } {
  return {
    throwIfAborted() {
      if (stop.requested) throw new StopRequested(stop.reason ?? "a stop request", stop.exitCode || 1, where);
    },
  };
}

/**
 * Watches SIGINT and SIGTERM (natively, see `watchSignals`): the first one sets the returned request,
 * seen at the next poll (which calls `onFirst`, e.g. to print "stopping after this step"); a second one
 * ends the process at once with exit status 130 or 143.
 *
 * @param onFirst Called once, with the signal's name, when a poll first sees the signal.
 * @returns The request, to poll; dispose it when the run ends.
 *
 * @example Usage
 * ```ts
 * import { stopOnSignals } from "./signals.ts";
 * import assert from "node:assert/strict";
 *
 * using stop = stopOnSignals();
 * assert.equal(stop.requested, false);
 * ```
 */
export function stopOnSignals(onFirst: (signal: string) => void = () => {}): SignalStop {
  const flag = new StopFlag();
  const watch = watchSignals();
  const poll = () => {
    if (flag.requested) return;
    const signal = receivedSignal();
    if (signal === null) return;
    flag.request(signal);
    onFirst(signal);
  };
  return {
    get requested() {
      poll();
      return flag.requested;
    },
    get reason() {
      poll();
      return flag.reason;
    },
    get exitCode() {
      poll();
      return flag.exitCode;
    },
    [Symbol.dispose]: () => watch[Symbol.dispose](),
  };
}
