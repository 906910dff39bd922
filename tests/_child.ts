/**
 * Child processes for the tests, always with a bound: every process a test starts goes through
 * `startChild` or `runChild` (tests/child_bound_test.ts checks that no test file calls `Deno.Command`
 * itself). A child still running at its deadline is killed (SIGTERM, then SIGKILL 2 s later), and a
 * failing assertion names the exit code or signal and the last lines the child wrote to stderr, so a
 * crash (an abort in libtorch, a segfault) fails its test within its bound instead of hanging the suite.
 *
 * @module
 */

/** How a child ended and what it wrote. */
export interface ChildResult {
  /** Exit code (128 + the signal's number when a signal ended it). */
  code: number;
  /** The signal that ended it, or null. */
  signal: Deno.Signal | null;
  /** True when the bound was reached and the child was killed. */
  timedOut: boolean;
  /** Everything written to stdout ("" when stdout is streamed to the caller). */
  stdout: string;
  /** Everything written to stderr. */
  stderr: string;
}

/** What to start, and for how long. */
export interface ChildOptions {
  /** Arguments after the command. */
  args: string[];
  /** The bound on the child's run, in milliseconds. */
  timeoutMs: number;
  /** Working directory. */
  cwd?: string;
  /** Extra environment variables. */
  env?: Record<string, string>;
  /** Start from an empty environment (only `env`). */
  clearEnv?: boolean;
  /** Text written to stdin, which is then closed; without it stdin is closed at once. */
  stdin?: string;
  /** Let the caller read stdout as a stream (`BoundedChild.stdout`) instead of collecting it. */
  streamStdout?: boolean;
}

/** A started child with its deadline armed. */
export interface BoundedChild {
  /** The process (for `kill` and `pid`). */
  child: Deno.ChildProcess;
  /** Stdout as text chunks, when `streamStdout` was set. */
  stdout: ReadableStream<string> | null;
  /** Resolves when the child has ended (by itself or killed at its deadline). */
  result: Promise<ChildResult>;
}

/** Reads a stream to its end; `stop()` cancels it and keeps what was read. */
function collect(stream: ReadableStream<Uint8Array>): { text: Promise<string>; stop: () => void } {
  const reader = stream.getReader();
  const dec = new TextDecoder();
  let text = "";
  const done = (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        text += dec.decode(value, { stream: true });
      }
    } catch { /* cancelled */ }
    return text + dec.decode();
  })();
  return { text: done, stop: () => void reader.cancel().catch(() => {}) };
}

/** After the child has ended, how long its pipes may stay open (held by a grandchild) before we stop reading. */
const PIPE_GRACE_MS = 2000;

/** The deno executable and `run -A` for a TypeScript file: the usual child of these tests. */
export function denoRun(file: string, ...args: string[]): [string, string[]] {
  return [Deno.execPath(), ["run", "-A", file, ...args]];
}

/**
 * Starts `command`; kills it if it is still running after `timeoutMs`.
 *
 * @param command The program (e.g. `Deno.execPath()`).
 * @param options Arguments, bound and environment.
 * @returns The child, its stdout stream (if asked for) and its result.
 */
export function startChild(command: string, options: ChildOptions): BoundedChild {
  const child = new Deno.Command(command, {
    args: options.args,
    cwd: options.cwd,
    env: options.env,
    clearEnv: options.clearEnv,
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    writer.write(new TextEncoder().encode(options.stdin)).then(() => writer.close()).catch(() => {});
  }
  let timedOut = false;
  let hardKill: ReturnType<typeof setTimeout> | undefined;
  const deadline = setTimeout(() => {
    timedOut = true;
    try {
      child.kill("SIGTERM");
    } catch { /* already gone */ }
    hardKill = setTimeout(() => {
      try {
        child.kill("SIGKILL");
      } catch { /* already gone */ }
    }, 2000);
  }, options.timeoutMs);
  const stdout = options.streamStdout ? child.stdout.pipeThrough(new TextDecoderStream()) : null;
  const outs = [stdout ? null : collect(child.stdout), collect(child.stderr)];
  const result = (async () => {
    const status = await child.status;
    clearTimeout(deadline);
    clearTimeout(hardKill);
    // A grandchild that inherited the pipes can keep them open after the child has gone.
    let grace: ReturnType<typeof setTimeout> | undefined;
    const texts = Promise.all(outs.map((o) => o?.text ?? ""));
    await Promise.race([texts, new Promise((r) => grace = setTimeout(r, PIPE_GRACE_MS))]);
    clearTimeout(grace);
    outs.forEach((o) => o?.stop());
    const [out, err] = await texts;
    return { code: status.code, signal: status.signal, timedOut, stdout: out, stderr: err };
  })();
  return { child, stdout, result };
}

/**
 * Runs `command` to its end (or its bound) and returns what it wrote.
 *
 * @param command The program.
 * @param options Arguments, bound and environment.
 * @returns How it ended and its output.
 */
export function runChild(command: string, options: ChildOptions): Promise<ChildResult> {
  return startChild(command, { ...options, streamStdout: false }).result;
}

/**
 * One line about how a child ended, for assertion messages: the exit code or signal, whether its
 * bound killed it, and the last lines of its stderr.
 *
 * @param r The child's result.
 * @param lines How many stderr lines to show.
 */
export function describeExit(r: ChildResult, lines = 15): string {
  const how = r.timedOut
    ? `killed at its time bound (exit ${r.code})`
    : r.signal
    ? `ended by ${r.signal} (exit ${r.code})`
    : `exit ${r.code}`;
  const tail = r.stderr.trimEnd().split("\n").slice(-lines).join("\n");
  return `${how}; last stderr lines:\n${tail}`;
}

/**
 * Fails unless the child exited with `code` (by itself, not at its bound).
 *
 * @param r The child's result.
 * @param code The expected exit code.
 * @param what What the child was, for the message.
 */
export function assertExit(r: ChildResult, code: number, what = "child"): void {
  if (r.code !== code || r.timedOut) throw new Error(`${what}: expected exit ${code}, got ${describeExit(r)}`);
}

/**
 * Polls `ready` every 10 ms until it holds; fails when `timeoutMs` passes or `alive` says the awaited
 * process has ended first (then with how it ended). For waits on a file a child writes.
 *
 * @param ready The condition.
 * @param timeoutMs The bound.
 * @param what What is awaited, for the message.
 * @param ended A promise that settles when the process that should make `ready` true has ended.
 */
export async function waitFor(
  ready: () => Promise<boolean> | boolean,
  timeoutMs: number,
  what: string,
  ended?: Promise<ChildResult>,
): Promise<void> {
  let result: ChildResult | null = null;
  ended?.then((r) => result = r);
  const start = Date.now();
  while (!(await ready())) {
    if (result !== null) throw new Error(`${what}: the child ended first, ${describeExit(result)}`);
    if (Date.now() - start > timeoutMs) throw new Error(`${what}: not after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * Makes a FIFO at `path` (with mkfifo, bounded like every child).
 *
 * @param path Where.
 */
export async function mkfifo(path: string): Promise<void> {
  assertExit(await runChild("mkfifo", { args: [path], timeoutMs: 10_000 }), 0, `mkfifo ${path}`);
}
