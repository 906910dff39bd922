/**
 * Every folder's exports in one module, for tests that reach across the layers (`import * as T`). The
 * package's root entry point exports only what a library user needs; the tests need everything.
 *
 * @module
 */
export * from "../src/torch/mod.ts";
export * from "../src/nn/mod.ts";
export * from "../src/optim/mod.ts";
export * from "../src/distributed/mod.ts";
export * from "../src/data/mod.ts";
export * from "../src/ssl/mod.ts";
export * from "../src/eval/mod.ts";
export * from "../src/io/mod.ts";
export * from "../src/run/mod.ts";
