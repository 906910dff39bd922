/**
 * SIGINT and SIGTERM seen by native code: a JavaScript signal listener runs only when the event loop
 * turns, so during a long synchronous computation (an evaluation of many tensor calls) a Ctrl-C would
 * wait for its end. While watched, the shim's own handler records the first signal (polled with
 * `receivedSignal`) and ends the process at once on the second (exit status 128 + signal: 130, 143).
 *
 * @module
 */
import { sym } from "./_lib.ts";

let watchers = 0;

/** The signal names `receivedSignal` reports. */
export type StopSignalName = "SIGINT" | "SIGTERM";

/**
 * Starts watching SIGINT and SIGTERM natively (nested calls share one watch); the returned handle
 * restores the previous handlers when the last watcher is disposed.
 *
 * @returns A handle; dispose it to stop watching.
 * @throws {Error} When the handlers cannot be installed.
 *
 * @example Usage
 * ```ts
 * import { receivedSignal, watchSignals } from "@unigrad/unigrad/torch";
 * import assert from "node:assert/strict";
 *
 * {
 *   using _watch = watchSignals();
 *   assert.equal(receivedSignal(), null); // no Ctrl-C yet
 * }
 * ```
 */
export function watchSignals(): Disposable {
  if (watchers === 0) {
    // Deno's runtime installs its own handlers (SIGHUP, SIGINT, SIGTERM, SIGUSR1) once, the first time it
    // needs one, at a moment of its choosing (seen while a file was written); a signal that met them
    // would end the process without the run's stop. Let it do so now, before ours go in.
    const none = () => {};
    Deno.addSignalListener("SIGINT", none);
    Deno.removeSignalListener("SIGINT", none);
    if (sym.ts_signals_watch(1) !== 0) throw new Error("Cannot watch SIGINT and SIGTERM");
  }
  watchers++;
  let disposed = false;
  return {
    [Symbol.dispose]: () => {
      if (disposed) return;
      disposed = true;
      if (--watchers === 0) sym.ts_signals_watch(0);
    },
  };
}

/** The first SIGINT or SIGTERM received since the watch began, or null. */
export function receivedSignal(): StopSignalName | null {
  const signal = sym.ts_signal_received();
  return signal === 2 ? "SIGINT" : signal === 15 ? "SIGTERM" : null;
}
