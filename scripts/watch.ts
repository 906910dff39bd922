/**
 * `deno task watch [DIR…] [--port 8080] [--host 127.0.0.1]`: serves the live page over run folders
 * (a run, `runs/`, a reproduction's output) until Ctrl-C. See `watchRuns`.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { watchRuns } from "../src/run/mod.ts";

const { values, positionals } = parseArgs({
  args: Deno.args,
  allowPositionals: true,
  options: { port: { type: "string", default: "8080" }, host: { type: "string", default: "127.0.0.1" } },
});
const port = Number(values.port);
if (!/^\d+$/.test(values.port!) || port > 65535) {
  console.error(`error: Invalid --port "${values.port}": expected an integer from 0 to 65535`);
  Deno.exit(2);
}
const dirs = positionals.length ? positionals : ["runs"];
for (const d of dirs) {
  if (!(await Deno.stat(d).then((i) => i.isDirectory, () => false))) {
    console.error(`error: Cannot watch "${d}": no such folder`);
    Deno.exit(2);
  }
}
const server = watchRuns(dirs, { port, hostname: values.host });
console.log(`watching ${dirs.join(", ")}: ${server.url} (Ctrl-C ends)`);
