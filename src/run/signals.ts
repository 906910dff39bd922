/**
 * A request to stop a run at the next step boundary, which the training loop polls once per step.
 *
 * `stopOnSignals()` turns the first SIGINT or SIGTERM into such a request (the loop then finishes the
 * current step, writes a checkpoint, says how to resume and exits 130 or 143). It then gives the
 * signals back to their default action, so a second one ends the process at once, even in the middle
 * of a long synchronous computation (an evaluation) where no JavaScript listener could run. A
 * distributed run wraps the local request in one that all ranks agree on (the loop only reads
 * `requested`).
 *
 * @module
 */

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

/** A stop flag wired to SIGINT and SIGTERM; dispose it to remove the listeners. */
export interface SignalStop extends StopRequest, Disposable {}

/**
 * Listens for SIGINT and SIGTERM: the first one sets the returned request (and calls `onFirst`, e.g.
 * to print "stopping after this step") and removes the listeners, so that a second one kills the
 * process at once (exit status 130 or 143).
 *
 * @param onFirst Called once, with the signal's name, when the first signal arrives.
 * @returns The request, to poll each step; dispose it when the run ends.
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
  const signals = ["SIGINT", "SIGTERM"] as const;
  const removers: (() => void)[] = [];
  const removeAll = () => removers.splice(0).forEach((remove) => remove());
  for (const signal of signals) {
    const handler = () => {
      removeAll(); // the default action again: a second signal ends the process at once
      flag.request(signal);
      onFirst(signal);
    };
    Deno.addSignalListener(signal, handler);
    removers.push(() => Deno.removeSignalListener(signal, handler));
  }
  return {
    get requested() {
      return flag.requested;
    },
    get reason() {
      return flag.reason;
    },
    get exitCode() {
      return flag.exitCode;
    },
    [Symbol.dispose]: removeAll,
  };
}
