/** Helpers for the nn tests: golden JSON files and approximate comparison. */
import assert from "node:assert/strict";

/** Reads tests/nn/golden/<name>. */
export function golden<T = Record<string, Record<string, number[]>>>(name: string): T {
  return JSON.parse(Deno.readTextFileSync(new URL(`./golden/${name}`, import.meta.url)));
}

/** Asserts |a − e| ≤ atol + rtol·|e| elementwise. */
export function assertClose(
  actual: ArrayLike<number | bigint>,
  expected: ArrayLike<number>,
  atol = 1e-5,
  rtol = 1e-5,
): void {
  assert.equal(actual.length, expected.length, `length ${actual.length} != ${expected.length}`);
  for (let i = 0; i < expected.length; i++) {
    const a = Number(actual[i]);
    const e = expected[i];
    if (!(Math.abs(a - e) <= atol + rtol * Math.abs(e))) {
      assert.fail(`entry ${i}: got ${a}, expected ${e}`);
    }
  }
}
