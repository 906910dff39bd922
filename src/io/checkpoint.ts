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
import { basename, join } from "node:path";
import { getRngState, setRngState, type Tensor, tensor } from "../torch/mod.ts";
import { openRegularFile, readExactly, readFileBounded, syncDir, writeFileSynced } from "../torch/files.ts";
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

/** The SHA-256 of a run state's JSON text (JSON.parse then JSON.stringify gives the same text back). */
function stateDigest(state: unknown): Promise<string> {
  return sha256(new TextEncoder().encode(JSON.stringify(state)));
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
 * import { latestCheckpoint } from "@unigrad/unigrad/io";
 * import { loadCheckpoint, saveCheckpoint, tensor } from "@unigrad/unigrad";
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
    stateSha256: await stateDigest(checkpoint.state),
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

/** The largest `state.json` accepted (the run state holds the config and the RNG state: a few kB). */
const MAX_STATE_BYTES = 16 << 20;

/** A plain file name: no folder part, not `.` or `..`, so it stays inside the checkpoint directory. */
const PLAIN_NAME = /^(?!\.\.?$)[A-Za-z0-9._-]+$/;

/** The validated fields of a `state.json` record. */
interface CheckpointRecord {
  step: number;
  file: string;
  bytes: number;
  sha256: string;
  state: Record<string, unknown>;
  /** The SHA-256 of the state's JSON text; null in checkpoints written before it was recorded. */
  stateSha256: string | null;
}

/** Parses and validates `state.json`'s text; `fail` throws an error naming the checkpoint. */
function parseRecord(text: string, stepFromName: number | null, fail: (what: string) => never): CheckpointRecord {
  let record: Record<string, unknown> = {};
  try {
    record = JSON.parse(text);
  } catch (e) {
    fail(`${STATE} is not valid JSON (${(e as Error).message})`);
  }
  if (record === null || typeof record !== "object" || record.format !== FORMAT) {
    fail(`${STATE} is not a ${FORMAT} record`);
  }
  const { step, tensors, state, stateSha256 } = record;
  if (!Number.isSafeInteger(step) || (step as number) < 0) {
    fail(`${STATE} has step ${JSON.stringify(step)}, not a non-negative integer`);
  }
  if (stepFromName !== null && step !== stepFromName) {
    fail(`${STATE} has step ${step} but the directory is named after step ${stepFromName}`);
  }
  const files = (tensors ?? {}) as { file?: unknown; bytes?: unknown; sha256?: unknown };
  if (typeof files.file !== "string" || !PLAIN_NAME.test(files.file)) {
    fail(`${STATE} names the tensors file ${JSON.stringify(files.file)}, not a plain file name inside the checkpoint`);
  }
  if (!Number.isSafeInteger(files.bytes) || (files.bytes as number) < 8) {
    fail(`${STATE} records ${JSON.stringify(files.bytes)} tensor bytes, not a size`);
  }
  if (typeof files.sha256 !== "string" || !/^[0-9a-f]{64}$/.test(files.sha256)) {
    fail(`${STATE} records no SHA-256 of the tensors file`);
  }
  if (state === null || typeof state !== "object" || Array.isArray(state)) {
    fail(`${STATE} has ${state === undefined ? "no" : JSON.stringify(state)} "state", not an object`);
  }
  if (stateSha256 !== undefined && (typeof stateSha256 !== "string" || !/^[0-9a-f]{64}$/.test(stateSha256))) {
    fail(`${STATE} records no valid SHA-256 of its state`);
  }
  return {
    stateSha256: (stateSha256 as string | undefined) ?? null,
    step: step as number,
    file: files.file as string,
    bytes: files.bytes as number,
    sha256: files.sha256 as string,
    state: state as Record<string, unknown>,
  };
}

/**
 * Loads a checkpoint after checking it: `state.json` a regular file of bounded size, well-formed,
 * with an integer step that matches the directory name and an object `state`; the tensors file a
 * plain name inside the directory (no `..`, no absolute path), a regular file of the recorded size
 * (checked before it is read) and SHA-256, and a valid safetensors file.
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
  await refuseLink(join(path, STATE), fail);
  const named = NAME.exec(path.replace(/\/+$/, "").split("/").pop() ?? "");
  let text = "";
  try {
    text = new TextDecoder().decode(await readFileBounded(join(path, STATE), MAX_STATE_BYTES));
  } catch (e) {
    fail(e instanceof Deno.errors.NotFound ? `${STATE} is missing (an interrupted save?)` : (e as Error).message);
  }
  const record = parseRecord(text, named ? Number(named[1]) : null, fail);
  if (record.stateSha256 !== null && await stateDigest(record.state) !== record.stateSha256) {
    fail(`${STATE}'s state does not match its SHA-256 (edited or corrupt)`);
  }
  await refuseLink(join(path, record.file), fail);
  const bytes = await readTensorsFile(join(path, record.file), record.bytes, fail);
  if (await sha256(bytes) !== record.sha256) fail(`${record.file} does not match its SHA-256 (corrupt)`);
  const { tensors } = deserializeSafetensors(bytes, `checkpoint "${path}"`);
  return { path, step: record.step, tensors, state: record.state };
}

/**
 * Refuses a checkpoint file that is a symbolic link: a checkpoint holds its own files, and following a
 * link could read (and describe) a file outside it.
 */
async function refuseLink(file: string, fail: (what: string) => never): Promise<void> {
  const info = await Deno.lstat(file).catch(() => null);
  if (info?.isSymlink) fail(`${basename(file)} is a symbolic link (a checkpoint holds its own files; not followed)`);
}

/** Reads the tensors file after checking it is a regular file of exactly the recorded size. */
async function readTensorsFile(file: string, bytes: number, fail: (what: string) => never): Promise<Uint8Array> {
  let opened: { file: Deno.FsFile; size: number } | null = null;
  try {
    opened = await openRegularFile(file);
  } catch (e) {
    fail(e instanceof Deno.errors.NotFound ? `${file} is missing` : (e as Error).message);
  }
  try {
    if (opened!.size !== bytes) fail(`${file} has ${opened!.size} bytes but ${STATE} records ${bytes} (truncated?)`);
    return await readExactly(opened!.file, file, bytes);
  } finally {
    opened!.file.close();
  }
}

/** A checkpoint that `loadLatestIntactCheckpoint` passed over, and why. */
export interface RefusedCheckpoint {
  /** The checkpoint directory. */
  path: string;
  /** The error `loadCheckpoint` gave. */
  reason: string;
}

/** What `loadLatestIntactCheckpoint` found. */
export interface IntactCheckpoint {
  /** The newest checkpoint that loads, or null when none does (or there is none). */
  checkpoint: LoadedCheckpoint | null;
  /** The newer checkpoints that were refused, newest first, each with the reason. */
  refused: RefusedCheckpoint[];
}

/**
 * Loads the newest checkpoint in `dir` that passes every check of `loadCheckpoint`, trying older
 * ones when the newest is corrupt, and says why the newer ones were refused (for `--resume`).
 *
 * @param dir The directory `saveCheckpoint` writes into.
 * @returns The loaded checkpoint (or null) and the refused newer ones.
 *
 * @example Usage
 * ```ts
 * import { tensor } from "@unigrad/unigrad";
 * import { loadLatestIntactCheckpoint, saveCheckpoint } from "./checkpoint.ts";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * using w = tensor([1, 2]);
 * await saveCheckpoint(dir, { tensors: new Map([["w", w]]), state: {} }, { step: 1 });
 * const newest = await saveCheckpoint(dir, { tensors: new Map([["w", w]]), state: {} }, { step: 2 });
 * await Deno.writeTextFile(`${newest}/state.json`, "{");
 * const { checkpoint, refused } = await loadLatestIntactCheckpoint(dir);
 * assert.equal(checkpoint!.step, 1);
 * assert.equal(refused[0].path, newest);
 * for (const t of checkpoint!.tensors.values()) t.dispose();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function loadLatestIntactCheckpoint(dir: string): Promise<IntactCheckpoint> {
  const refused: RefusedCheckpoint[] = [];
  for (const { path } of (await listCheckpoints(dir)).reverse()) {
    try {
      return { checkpoint: await loadCheckpoint(path), refused };
    } catch (e) {
      refused.push({ path, reason: (e as Error).message });
    }
  }
  return { checkpoint: null, refused };
}

/**
 * The CPU random generator's state as base64 text, for the JSON run state.
 *
 * @example Usage
 * ```ts
 * import { manualSeed, randn } from "@unigrad/unigrad";
 * import { restoreRngState, rngStateToBase64 } from "@unigrad/unigrad/io";
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
