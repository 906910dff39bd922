import assert from "node:assert/strict";
import { FLAGS_END, FLAGS_START, withFlagList } from "../scripts/readme_flags.ts";
import { flagList } from "../train.ts";
import { flagOf, type SettingName, SETTINGS } from "../src/run/mod.ts";

/** Text with every run of blanks and line breaks as one space (the formatter rewraps long items). */
const squeeze = (text: string) => text.replace(/\s+/g, " ").trim();

Deno.test("the README's flag list is the settings table's (run scripts/readme_flags.ts after changing a setting)", async () => {
  const readme = await Deno.readTextFile(new URL("../README.md", import.meta.url));
  const section = readme.slice(readme.indexOf(FLAGS_START) + FLAGS_START.length, readme.indexOf(FLAGS_END));
  assert.equal(squeeze(section), squeeze(flagList()));
  assert.equal(squeeze(withFlagList(readme)), squeeze(readme)); // what the script would write is there already
});

Deno.test("the flag list names every setting once, with its default and whether a resume keeps it", () => {
  const list = flagList();
  for (const field of Object.keys(SETTINGS) as SettingName[]) {
    const line = list.split("\n").filter((l) => l.startsWith(`- \`--${flagOf(field)}\` `));
    assert.equal(line.length, 1, field);
    assert.ok(line[0].includes(JSON.stringify(SETTINGS[field].default)), field);
    assert.equal(line[0].includes("a resume keeps it"), SETTINGS[field].trajectory, field);
  }
});
