/**
 * Training progress on the terminal: on a TTY a bar redrawn in place with `\r` (step, loss, lr,
 * pairs/s, ETA); elsewhere (a log file, a cluster job) a plain line every few seconds.
 *
 * @module
 */
import { formatCount, formatDuration, formatNumber } from "./_format.ts";

/** Options of `Progress`. */
export interface ProgressOptions {
  /** Steps in the whole run (for the bar and the ETA). */
  total: number;
  /** Steps already done when the display starts (a resumed run). @default 0 */
  initial?: number;
  /** Text before the bar, e.g. "unigrad". @default "" */
  label?: string;
  /** Image pairs per step, for the pairs/s figure. @default 0 (not shown) */
  pairsPerStep?: number;
  /** Redraw in place. @default Deno.stdout.isTerminal() */
  tty?: boolean;
  /** Seconds between plain lines when not on a TTY. @default 10 */
  interval?: number;
  /** Where the text goes. @default Deno.stdout */
  write?: (text: string) => void;
  /** Clock in seconds (for tests). @default performance.now() / 1000 */
  now?: () => number;
}

/** The values shown with the current step. */
export interface ProgressValues {
  /** The latest loss. */
  loss?: number;
  /** The current learning rate. */
  lr?: number;
}

const BAR = 24;
const REDRAW = 0.1;

function stdoutWrite(text: string): void {
  const bytes = new TextEncoder().encode(text);
  let done = 0;
  while (done < bytes.length) done += Deno.stdout.writeSync(bytes.subarray(done));
}

/**
 * A progress display for a loop of `total` steps. Call `update(step, values)` after each step (it
 * is cheap: it draws at most 10 times a second on a TTY, once per `interval` elsewhere) and
 * `done()` at the end.
 *
 * @example Usage
 * ```ts
 * import { Progress } from "@unigrad/unigrad/io";
 * import assert from "node:assert/strict";
 *
 * let out = "";
 * let t = 0;
 * const p = new Progress({ total: 4, tty: false, interval: 1, pairsPerStep: 256, write: (s) => (out += s), now: () => t });
 * for (let step = 1; step <= 4; step++) {
 *   t += 0.5;
 *   p.update(step, { loss: 1 / step, lr: 0.1 });
 * }
 * p.done();
 * assert.ok(out.includes("step 4/4"));
 * assert.ok(out.includes("512 pairs/s"));
 * ```
 */
export class Progress {
  readonly #o: Required<ProgressOptions>;
  readonly #start: number;
  #step: number;
  #drawnStep = -1;
  #lastDraw = -Infinity;
  #values: ProgressValues = {};
  #width = 0;
  #finished = false;

  /**
   * Starts the clock.
   *
   * @param options Total steps, label, pairs per step, output mode.
   * @throws {RangeError} When `total` is not positive.
   */
  constructor(options: ProgressOptions) {
    if (!(options.total > 0)) throw new RangeError(`Progress total must be positive, got ${options.total}`);
    this.#o = {
      total: options.total,
      initial: options.initial ?? 0,
      label: options.label ?? "",
      pairsPerStep: options.pairsPerStep ?? 0,
      tty: options.tty ?? Deno.stdout.isTerminal(),
      interval: options.interval ?? 10,
      write: options.write ?? stdoutWrite,
      now: options.now ?? (() => performance.now() / 1000),
    };
    this.#start = this.#o.now();
    this.#step = this.#o.initial;
  }

  /** Records that `step` steps are done (counting from the run's start), and draws when it is time to. */
  update(step: number, values: ProgressValues = {}): void {
    const t = this.#o.now();
    this.#step = step;
    this.#values = values;
    if (t - this.#lastDraw >= (this.#o.tty ? REDRAW : this.#o.interval) || step >= this.#o.total) this.#draw(t);
  }

  /** Draws the final state (unless already shown) and ends the line. A second call does nothing. */
  done(): void {
    if (this.#finished) return;
    this.#finished = true;
    if (this.#drawnStep !== this.#step) this.#draw(this.#o.now());
    if (this.#o.tty) this.#o.write("\n");
  }

  /** The current status line, without control characters. */
  line(now: number = this.#o.now()): string {
    const { total, initial, label, pairsPerStep, tty } = this.#o;
    const step = Math.min(this.#step, total);
    const parts: string[] = label ? [label] : [];
    if (tty) {
      const filled = Math.round((BAR * step) / total);
      parts.push(`[${"█".repeat(filled)}${"░".repeat(BAR - filled)}]`);
    }
    parts.push(`step ${step}/${total}`);
    if (this.#values.loss !== undefined) parts.push(`loss ${formatNumber(this.#values.loss)}`);
    if (this.#values.lr !== undefined) parts.push(`lr ${formatNumber(this.#values.lr, 3)}`);
    const elapsed = now - this.#start;
    const rate = elapsed > 0 && step > initial ? (step - initial) / elapsed : NaN; // steps per second
    if (pairsPerStep > 0 && Number.isFinite(rate)) parts.push(`${formatCount(rate * pairsPerStep)} pairs/s`);
    parts.push(step >= total ? `${formatDuration(elapsed)} total` : `ETA ${formatDuration((total - step) / rate)}`);
    return parts.join("  ");
  }

  #draw(now: number): void {
    this.#lastDraw = now;
    this.#drawnStep = this.#step;
    const text = this.line(now);
    if (!this.#o.tty) return this.#o.write(text + "\n");
    const pad = Math.max(0, this.#width - text.length); // blank out the rest of a longer previous line
    this.#width = text.length;
    this.#o.write(`\r${text}${" ".repeat(pad)}`);
  }
}
