/**
 * Writes the README's flag list from the settings table (`SETTINGS`), between the markers
 * `<!-- flags:start -->` and `<!-- flags:end -->`, then formats the README. Run it after adding or
 * changing a setting: `deno run -A scripts/readme_flags.ts`. `tests/readme_flags_test.ts` fails while the
 * README and the table disagree.
 *
 * @module
 */
import { flagList } from "../train.ts";

/** The README's markers around the generated list. */
export const FLAGS_START = "<!-- flags:start -->";
/** The marker after the generated list. */
export const FLAGS_END = "<!-- flags:end -->";

/** The README text with the list between the markers replaced by `flagList()`. */
export function withFlagList(readme: string): string {
  const start = readme.indexOf(FLAGS_START), end = readme.indexOf(FLAGS_END);
  if (start < 0 || end < start) throw new Error(`README.md has no ${FLAGS_START} … ${FLAGS_END} section`);
  return `${readme.slice(0, start + FLAGS_START.length)}\n\n${flagList()}\n\n${readme.slice(end)}`;
}

if (import.meta.main) {
  const path = new URL("../README.md", import.meta.url).pathname;
  await Deno.writeTextFile(path, withFlagList(await Deno.readTextFile(path)));
  const fmt = await new Deno.Command(Deno.execPath(), { args: ["fmt", path] }).output();
  if (!fmt.success) throw new Error(`deno fmt ${path} failed: ${new TextDecoder().decode(fmt.stderr)}`);
  console.log(`wrote the flag list into ${path}`);
}
