/**
 * The one spelling of a registry name (methods, presets, datasets, augmentations): underscores read as
 * hyphens, so the older spellings `barlow_twins` and `fashion_mnist` keep working.
 *
 * @module
 */

/**
 * A registry name in its one spelling: underscores read as hyphens.
 *
 * @param name A name as a user wrote it.
 * @returns The name with every `_` as `-`.
 *
 * @example Usage
 * ```ts
 * import { canonicalName } from "@unigrad/unigrad/data";
 * import assert from "node:assert/strict";
 *
 * assert.equal(canonicalName("barlow_twins-a_identity"), "barlow-twins-a-identity");
 * ```
 */
export function canonicalName(name: string): string {
  return name.replaceAll("_", "-");
}
