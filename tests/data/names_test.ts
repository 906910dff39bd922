import assert from "node:assert/strict";
import { canonicalName } from "../../src/data/mod.ts";
import { augmentation } from "../../src/data/augmentations.ts";
import { findPreset, methodName } from "../../src/ssl/mod.ts";

Deno.test("canonicalName(): every underscore reads as a hyphen; other names are unchanged", () => {
  assert.equal(canonicalName("barlow_twins"), "barlow-twins");
  assert.equal(canonicalName("barlow_twins-a_identity"), "barlow-twins-a-identity");
  assert.equal(canonicalName("fashion_mnist"), "fashion-mnist");
  for (const name of ["", "unigrad", "barlow-twins", "vicreg-l2", "cifar10"]) assert.equal(canonicalName(name), name);
  assert.equal(canonicalName(canonicalName("a_b_c")), "a-b-c"); // idempotent
});

Deno.test("canonicalName() is the spelling every registry reads: methods, Table 1 presets, augmentations", () => {
  assert.equal(methodName("barlow_twins"), "barlow-twins");
  assert.equal(findPreset("barlow_twins-a_identity"), findPreset("barlow-twins-a-identity"));
  assert.deepEqual(augmentation("fashion_mnist").views, augmentation("fashion-mnist").views);
});
