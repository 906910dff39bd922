/**
 * Checkpoints: one directory per save, `<dir>/ckpt-<step>/`, holding `tensors.safetensors` (every
 * tensor, by name) and `state.json` (the run state plus the tensors file's size and SHA-256).
 *
 * The trainer decides what goes in. The convention: the online model under torchvision's names
 * (`conv1.weight`, `layer1.0.bn1.running_mean`, …), the target/EMA weights under `target.`, the
 * optimizer state under `optim.`, method state tensors under `method.` (UniGrad's F as
 * `method.F`); in `state`: epoch, step, config, RNG state (`rngStateToBase64()`), data-loader
 * state and the method's plain numbers.
 *
 * Saving is crash-safe: everything is written into a hidden temporary directory, fsynced, then
 * renamed into place, so a checkpoint directory is either complete or absent.
 *
 * @module
 */
import { join } from "node:path";
import { getRngState, setRngState, type Tensor, tensor } from "../torch/mod.ts";
import { syncDir, writeFileSynced } from "./_atomic.ts";
import { deserializeSafetensors, serializeSafetensors } from "./safetensors.ts";

const FORMAT = "unigrad-checkpoint";
const TENSORS = "tensors.safetensors";
const STATE = "state.json";
const NAME = /^ckpt-(\d+)$/;
const STALE = /^\.ckpt-\d+\.tmp-(\d+)-/;

/** What a checkpoint holds. */
export interface CheckpointData {
  /** Every tensor to save, by name (any device; read back on the CPU). */
  tensors: ReadonlyMap<string, Tensor>;
  /** The run state: any JSON value made of finite numbers, strings, booleans, null, arrays, objects. */
  state: Record<string, unknown>;
}

/** A loaded checkpoint. */
export interface LoadedCheckpoint {
  /** The checkpoint directory. */
  path: string;
  /** The step it was saved under. */
  step: number;
  /** The tensors by name: new CPU tensors owned by the caller (dispose them). */
  tensors: Map<string, Tensor>;
  /** The run state as saved. */
  state: Record<string, unknown>;
}

/** Options of `saveCheckpoint`. */
export interface SaveCheckpointOptions {
  /** The step the checkpoint is named after. @default one more than the latest checkpoint's, or 0 */
  step?: number;
  /** How many checkpoints to keep (the oldest are deleted after a save). @default 3 */
  keep?: number;
}

/** The checkpoint directories in `dir`, complete ones only, oldest (lowest step) first. */
export async function listCheckpoints(dir: string): Promise<{ path: string; step: number }[]> {
  const out: { path: string; step: number }[] = [];
  try {
    for await (const e of Deno.readDir(dir)) {
      const m = NAME.exec(e.name);
      if (m && e.isDirectory) out.push({ path: join(dir, e.name), step: Number(m[1]) });
    }
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
  return out.sort((a, b) => a.step - b.step);
}

/**
 * The newest checkpoint (highest step) in `dir`, or null when there is none (or no `dir`).
 *
 * @param dir The directory `saveCheckpoint` writes into.
 * @returns The checkpoint's path, for `loadCheckpoint`.
 */
export async function latestCheckpoint(dir: string): Promise<string | null> {
  const all = await listCheckpoints(dir);
  return all.length === 0 ? null : all[all.length - 1].path;
}

/** Throws a TypeError naming the first value JSON would not keep (NaN, Infinity, bigint, …). */
function checkJson(value: unknown, where: string): void {
  if (value === null || typeof value === "string" || typeof value === "boolean") return;
  if (typeof value === "number") {
    if (!Number.isFinite(value)) {
      throw new TypeError(`Cannot save checkpoint: ${where} is ${value}, not a finite number`);
    }
    return;
  }
  if (Array.isArray(value)) return value.forEach((v, i) => checkJson(v, `${where}[${i}]`));
  if (typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    for (const [k, v] of Object.entries(value)) checkJson(v, `${where}.${k}`);
    return;
  }
  throw new TypeError(`Cannot save checkpoint: ${where} is a ${typeof value} that JSON cannot hold`);
}

async function sha256(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Saves a checkpoint as `<dir>/ckpt-<step>/` atomically, then deletes all but the newest `keep`.
 *
 * @param dir The run's checkpoint directory (created when missing).
 * @param checkpoint The tensors and the JSON run state.
 * @param options Step number and how many checkpoints to keep.
 * @returns The new checkpoint's path.
 * @throws {TypeError} When the state holds something JSON cannot keep exactly (NaN, a bigint, a class instance).
 *
 * @example Usage
 * ```ts
 * import { latestCheckpoint, loadCheckpoint, saveCheckpoint, tensor } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * using w = tensor([1, 2, 3]);
 * await saveCheckpoint(dir, { tensors: new Map([["fc.weight", w]]), state: { epoch: 1 } }, { step: 100 });
 * const ckpt = await loadCheckpoint((await latestCheckpoint(dir))!);
 * assert.equal(ckpt.step, 100);
 * assert.deepEqual(ckpt.state, { epoch: 1 });
 * using back = ckpt.tensors.get("fc.weight")!;
 * assert.deepEqual(back.toArray(), [1, 2, 3]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function saveCheckpoint(
  dir: string,
  checkpoint: CheckpointData,
  options: SaveCheckpointOptions = {},
): Promise<string> {
  const { keep = 3 } = options;
  if (!(keep >= 1) || !(Number.isInteger(keep) || keep === Infinity)) {
    throw new RangeError(`Checkpoints to keep must be a positive integer, got ${keep}`);
  }
  checkJson(checkpoint.state, "state");
  await Deno.mkdir(dir, { recursive: true });
  const existing = await listCheckpoints(dir);
  const step = options.step ?? (existing.length ? existing[existing.length - 1].step + 1 : 0);
  if (!Number.isSafeInteger(step) || step < 0) {
    throw new RangeError(`Checkpoint step must be a non-negative integer, got ${step}`);
  }
  const final = join(dir, `ckpt-${String(step).padStart(8, "0")}`);
  const tmp = join(dir, `.ckpt-${step}.tmp-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`);
  const bytes = serializeSafetensors(checkpoint.tensors, { format: "pt" });
  const record = {
    format: FORMAT,
    version: 1,
    step,
    created: new Date().toISOString(),
    tensors: { file: TENSORS, bytes: bytes.length, sha256: await sha256(bytes), count: checkpoint.tensors.size },
    state: checkpoint.state,
  };
  try {
    await Deno.mkdir(tmp);
    await writeFileSynced(join(tmp, TENSORS), bytes);
    await writeFileSynced(join(tmp, STATE), JSON.stringify(record, null, 1) + "\n");
    await syncDir(tmp);
    await replaceDir(tmp, final);
  } catch (e) {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    throw e;
  }
  await syncDir(dir);
  const all = await listCheckpoints(dir);
  for (const old of all.slice(0, Math.max(0, all.length - keep))) await Deno.remove(old.path, { recursive: true });
  await removeStaleTemps(dir);
  return final;
}

/** Deletes temporary directories that crashed saves of other processes left behind. */
async function removeStaleTemps(dir: string): Promise<void> {
  for await (const e of Deno.readDir(dir)) {
    const m = STALE.exec(e.name);
    if (m && Number(m[1]) !== Deno.pid) await Deno.remove(join(dir, e.name), { recursive: true }).catch(() => {});
  }
}

/** Renames `from` to `to`, first moving an existing `to` aside (re-saving the same step). */
async function replaceDir(from: string, to: string): Promise<void> {
  try {
    await Deno.rename(from, to);
  } catch (e) {
    if (!(await Deno.stat(to).then(() => true, () => false))) throw e;
    const aside = `${from}.old`;
    await Deno.rename(to, aside);
    await Deno.rename(from, to);
    await Deno.remove(aside, { recursive: true });
  }
}

/**
 * Loads a checkpoint after checking it: `state.json` present and well-formed, the tensors file
 * present, of the recorded size and SHA-256, and a valid safetensors file.
 *
 * @param path A checkpoint directory (see `latestCheckpoint`).
 * @returns The tensors (new CPU tensors the caller owns) and the run state.
 * @throws {Error} Naming the checkpoint and what is wrong (missing, truncated or corrupt).
 */
export async function loadCheckpoint(path: string): Promise<LoadedCheckpoint> {
  const fail = (what: string): never => {
    throw new Error(`Cannot load checkpoint "${path}": ${what}`);
  };
  const info = await Deno.stat(path).catch(() => null);
  if (info === null) fail("it does not exist");
  if (!info!.isDirectory) fail("it is not a directory");
  const text = await Deno.readTextFile(join(path, STATE)).catch(() => null);
  if (text === null) fail(`${STATE} is missing (an interrupted save?)`);
  let record: Record<string, unknown> = {};
  try {
    record = JSON.parse(text!);
  } catch (e) {
    fail(`${STATE} is not valid JSON (${(e as Error).message})`);
  }
  const files = record.tensors as { file?: unknown; bytes?: unknown; sha256?: unknown } | undefined;
  if (record.format !== FORMAT || typeof record.step !== "number" || typeof files?.sha256 !== "string") {
    fail(`${STATE} is not a ${FORMAT} record`);
  }
  const bytes = await Deno.readFile(join(path, String(files!.file))).catch(() => null);
  if (bytes === null) fail(`${files!.file} is missing`);
  if (bytes!.length !== files!.bytes) {
    fail(`${files!.file} has ${bytes!.length} bytes but ${STATE} records ${files!.bytes} (truncated?)`);
  }
  if (await sha256(bytes!) !== files!.sha256) fail(`${files!.file} does not match its SHA-256 (corrupt)`);
  const { tensors } = deserializeSafetensors(bytes!, `checkpoint "${path}"`);
  return { path, step: record.step as number, tensors, state: record.state as Record<string, unknown> };
}

/**
 * The CPU random generator's state as base64 text, for the JSON run state.
 *
 * @example Usage
 * ```ts
 * import { manualSeed, randn, restoreRngState, rngStateToBase64 } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * manualSeed(1);
 * const saved = rngStateToBase64();
 * using a = randn([2]);
 * restoreRngState(saved);
 * using b = randn([2]);
 * assert.deepEqual(a.toArray(), b.toArray());
 * ```
 */
export function rngStateToBase64(): string {
  using state = getRngState();
  const bytes = state.data() as Uint8Array;
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

/** Restores the CPU random generator from `rngStateToBase64()` text. */
export function restoreRngState(base64: string): void {
  using state = tensor(Uint8Array.from(atob(base64), (c) => c.charCodeAt(0)));
  setRngState(state);
}

/**
 * The tensors whose names start with `prefix`, with the prefix removed (the tensors are shared,
 * not copied): `selectPrefix(ckpt.tensors, "target.")` gives the target network's state dict.
 */
export function selectPrefix(tensors: ReadonlyMap<string, Tensor>, prefix: string): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  for (const [k, t] of tensors) if (k.startsWith(prefix)) out.set(k.slice(prefix.length), t);
  return out;
}

/** The same tensors with `prefix` added to every name (the tensors are shared, not copied). */
export function addPrefix(tensors: ReadonlyMap<string, Tensor>, prefix: string): Map<string, Tensor> {
  return new Map([...tensors].map(([k, t]) => [prefix + k, t]));
}
