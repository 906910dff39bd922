/**
 * Slurm's compressed host lists (`SLURM_NODELIST`, `SLURM_JOB_NODELIST`), expanded as
 * `scontrol show hostnames` does.
 *
 * @module
 */

/** Splits at commas that are not inside brackets. */
function splitTop(list: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < list.length; i++) {
    if (list[i] === "[") depth++;
    else if (list[i] === "]") depth--;
    else if (list[i] === "," && depth === 0) {
      parts.push(list.slice(start, i));
      start = i + 1;
    }
    if (depth < 0 || depth > 1) break;
  }
  if (depth !== 0) throw new SyntaxError(`Cannot expand Slurm node list "${list}": unbalanced brackets`);
  parts.push(list.slice(start));
  return parts.filter((p) => p !== "");
}

/** "01-04,07" → ["01", "02", "03", "04", "07"], keeping the zero padding of each range's start. */
function expandRanges(ranges: string, list: string): string[] {
  return ranges.split(",").flatMap((r) => {
    const m = r.match(/^(\d+)(?:-(\d+))?$/);
    if (!m) throw new SyntaxError(`Cannot expand Slurm node list "${list}": bad range "${r}"`);
    const [lo, hi] = [Number(m[1]), Number(m[2] ?? m[1])];
    if (hi < lo) throw new SyntaxError(`Cannot expand Slurm node list "${list}": range "${r}" runs backwards`);
    return Array.from({ length: hi - lo + 1 }, (_, i) => String(lo + i).padStart(m[1].length, "0"));
  });
}

/** One host pattern with any number of bracket groups, e.g. "rack[1-2]-node[01-02]". */
function expandHost(pattern: string, list: string): string[] {
  const m = pattern.match(/^([^[]*)\[([^\]]*)\](.*)$/);
  if (!m) return [pattern];
  const rests = expandHost(m[3], list);
  return expandRanges(m[2], list).flatMap((n) => rests.map((rest) => `${m[1]}${n}${rest}`));
}

/**
 * Expands a Slurm host list into host names, in order.
 *
 * @param list A host list such as `node[01-04,07],gpu5`.
 * @returns The host names.
 * @throws {SyntaxError} On unbalanced brackets or a malformed range.
 *
 * @example Usage
 * ```ts
 * import { expandNodeList } from "@unigrad/unigrad/distributed";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(expandNodeList("node[01-03,07],gpu5"), ["node01", "node02", "node03", "node07", "gpu5"]);
 * ```
 */
export function expandNodeList(list: string): string[] {
  return splitTop(list.trim()).flatMap((p) => expandHost(p, list));
}
