/**
 * The PyTorch side of a paired benchmark: a python3 script started once in its serving mode, which
 * times one call per request line read on stdin and answers with one JSON line `{"ms": …}`, so a
 * benchmark can alternate ours and PyTorch's call by call.
 *
 * @module
 */

/** A running python3 server: `time(request)` sends one line and returns the ms it reports. */
export interface PythonServer {
  time(request: string): Promise<number>;
  close(): Promise<void>;
}

/** The lines of a byte stream (@std/streams is out of reach). */
async function* readLines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let buffered = "";
  for await (const text of stream.pipeThrough(new TextDecoderStream())) {
    buffered += text;
    let nl;
    while ((nl = buffered.indexOf("\n")) >= 0) {
      yield buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
    }
  }
}

/** Starts `python script ...args` (its errors go to this process's stderr). */
export function pythonServer(python: string, script: string, args: string[]): PythonServer {
  const child = new Deno.Command(python, {
    args: [script, ...args],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const writer = child.stdin.getWriter();
  const lines = readLines(child.stdout);
  return {
    async time(request: string): Promise<number> {
      await writer.write(new TextEncoder().encode(`${request}\n`));
      const { value, done } = await lines.next();
      if (done) throw new Error(`${python} ${script} ended early (see its error above)`);
      return JSON.parse(value).ms;
    },
    async close() {
      await writer.close();
      await child.status;
    },
  };
}
