import assert from "node:assert/strict";
import { mkfifo } from "../_child.ts";
import { liveTensors, manualSeed, randn, scope, type Tensor, tensor } from "../../mod.ts";
import {
  addPrefix,
  latestCheckpoint,
  listCheckpoints,
  loadCheckpoint,
  loadLatestIntactCheckpoint,
  restoreRngState,
  rngStateToBase64,
  saveCheckpoint,
  selectPrefix,
} from "../../src/io/checkpoint.ts";

function disposeAll(m: Map<string, Tensor>): void {
  for (const t of m.values()) t.dispose();
}

function names(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name).sort();
}

Deno.test("saveCheckpoint() / loadCheckpoint() round-trip tensors and the run state", async () => {
  const before = liveTensors();
  const dir = await Deno.makeTempDir();
  manualSeed(0);
  const tensors = scope(() =>
    new Map<string, Tensor>([
      ["conv1.weight", randn([4, 1, 3, 3])],
      ["bn1.num_batches_tracked", tensor(7n)],
      ["target.conv1.weight", randn([4, 1, 3, 3])],
      ["optim.momentum.conv1.weight", randn([4, 1, 3, 3]).to({ dtype: "bfloat16" })],
      ["method.F", randn([8, 8], { dtype: "float64" })],
    ])
  );
  const state = {
    epoch: 3,
    step: 1200,
    config: { method: "unigrad", lambda: 100, lr: 0.05, layers: [2, 2, 2, 2], amp: false, note: null },
    rng: rngStateToBase64(),
    loader: { epoch: 3, position: 0, seed: 42 },
  };
  const path = await saveCheckpoint(dir, { tensors, state }, { step: 1200 });
  assert.equal(path, `${dir}/ckpt-00001200`);
  assert.deepEqual(names(path), ["state.json", "tensors.safetensors"]);
  assert.equal(await latestCheckpoint(dir), path);
  const ckpt = await loadCheckpoint(path);
  assert.equal(ckpt.step, 1200);
  assert.deepEqual(ckpt.state, state);
  assert.deepEqual([...ckpt.tensors.keys()].sort(), [...tensors.keys()].sort());
  for (const [k, t] of tensors) {
    const back = ckpt.tensors.get(k)!;
    assert.equal(back.dtype, t.dtype);
    assert.deepEqual(back.data(), t.data());
  }
  assert.deepEqual([...selectPrefix(ckpt.tensors, "target.").keys()], ["conv1.weight"]);
  assert.deepEqual([...addPrefix(selectPrefix(ckpt.tensors, "target."), "ema.").keys()], ["ema.conv1.weight"]);
  disposeAll(ckpt.tensors);
  disposeAll(tensors);
  await Deno.remove(dir, { recursive: true });
  assert.equal(liveTensors(), before);
});

Deno.test("saveCheckpoint() keeps the last K, numbers steps, replaces a re-saved step", async () => {
  const before = liveTensors();
  const dir = `${await Deno.makeTempDir()}/run/checkpoints`; // created on demand
  const w = tensor([1, 2]);
  const tensors = new Map([["w", w]]);
  assert.equal(await latestCheckpoint(dir), null);
  for (let i = 0; i < 5; i++) await saveCheckpoint(dir, { tensors, state: { i } }, { keep: 2 });
  assert.deepEqual(names(dir), ["ckpt-00000003", "ckpt-00000004"]);
  assert.deepEqual((await listCheckpoints(dir)).map((c) => c.step), [3, 4]);
  await saveCheckpoint(dir, { tensors, state: { i: "again" } }, { step: 4, keep: 2 });
  assert.deepEqual(names(dir), ["ckpt-00000003", "ckpt-00000004"]);
  const ckpt = await loadCheckpoint((await latestCheckpoint(dir))!);
  assert.deepEqual(ckpt.state, { i: "again" });
  disposeAll(ckpt.tensors);
  // a crashed save leaves a hidden temp directory: it is never "latest" and the next save removes it
  await Deno.mkdir(`${dir}/.ckpt-9.tmp-999999-abcd1234`);
  await Deno.writeTextFile(`${dir}/.ckpt-9.tmp-999999-abcd1234/state.json`, "{");
  assert.equal(await latestCheckpoint(dir), `${dir}/ckpt-00000004`);
  await saveCheckpoint(dir, { tensors, state: {} }, { step: 10, keep: 2 });
  assert.deepEqual(names(dir), ["ckpt-00000004", "ckpt-00000010"]);
  w.dispose();
  await Deno.remove(dir, { recursive: true });
  assert.equal(liveTensors(), before);
});

Deno.test("loadCheckpoint() refuses missing, truncated and corrupt checkpoints", async () => {
  const before = liveTensors();
  const dir = await Deno.makeTempDir();
  const w = randn([64]);
  const save = (step: number) =>
    saveCheckpoint(dir, { tensors: new Map([["w", w]]), state: { step } }, { step, keep: 10 });
  const msg = (path: string, what: RegExp) => (e: Error) => {
    assert.ok(e.message.startsWith(`Cannot load checkpoint "${path}": `), e.message);
    assert.match(e.message, what);
    return true;
  };
  await assert.rejects(() => loadCheckpoint(`${dir}/nope`), msg(`${dir}/nope`, /it does not exist/));

  const truncated = await save(1);
  const file = `${truncated}/tensors.safetensors`;
  const bytes = await Deno.readFile(file);
  await Deno.writeFile(file, bytes.subarray(0, bytes.length - 10));
  await assert.rejects(
    () => loadCheckpoint(truncated),
    msg(
      truncated,
      new RegExp(
        `tensors.safetensors has ${bytes.length - 10} bytes but state.json records ${bytes.length} \\(truncated\\?\\)`,
      ),
    ),
  );

  const flipped = await save(2);
  const b2 = await Deno.readFile(`${flipped}/tensors.safetensors`);
  b2[b2.length - 1] ^= 0xff;
  await Deno.writeFile(`${flipped}/tensors.safetensors`, b2);
  await assert.rejects(() => loadCheckpoint(flipped), msg(flipped, /does not match its SHA-256 \(corrupt\)/));

  const noState = await save(3);
  await Deno.remove(`${noState}/state.json`);
  await assert.rejects(() => loadCheckpoint(noState), msg(noState, /state.json is missing/));

  const badJson = await save(4);
  const text = await Deno.readTextFile(`${badJson}/state.json`);
  await Deno.writeTextFile(`${badJson}/state.json`, text.slice(0, 40));
  await assert.rejects(() => loadCheckpoint(badJson), msg(badJson, /state.json is not valid JSON/));

  const noTensors = await save(5);
  await Deno.remove(`${noTensors}/tensors.safetensors`);
  await assert.rejects(() => loadCheckpoint(noTensors), msg(noTensors, /tensors.safetensors is missing/));

  w.dispose();
  await Deno.remove(dir, { recursive: true });
  assert.equal(liveTensors(), before);
});

Deno.test("saveCheckpoint() refuses state that JSON would not keep exactly", async () => {
  const dir = await Deno.makeTempDir();
  const tensors = new Map<string, Tensor>();
  await assert.rejects(
    () => saveCheckpoint(dir, { tensors, state: { method: { lambda: NaN } } }),
    /Cannot save checkpoint: state.method.lambda is NaN, not a finite number/,
  );
  await assert.rejects(() => saveCheckpoint(dir, { tensors, state: { n: 1n } }), /state.n is a bigint/);
  await assert.rejects(() => saveCheckpoint(dir, { tensors, state: {} }, { keep: 0 }), RangeError);
  assert.deepEqual(names(dir), []);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("rngStateToBase64() / restoreRngState() replay the random stream", () => {
  const before = liveTensors();
  manualSeed(5);
  const saved = rngStateToBase64();
  const a = scope(() => randn([4]).toArray());
  scope(() => {
    randn([100]);
  });
  restoreRngState(saved);
  assert.deepEqual(scope(() => randn([4]).toArray()), a);
  assert.equal(liveTensors(), before);
});

/** Rewrites a checkpoint's state.json through `edit`. */
async function editRecord(path: string, edit: (record: Record<string, unknown>) => void): Promise<void> {
  const record = JSON.parse(await Deno.readTextFile(`${path}/state.json`));
  edit(record);
  await Deno.writeTextFile(`${path}/state.json`, JSON.stringify(record));
}

Deno.test("loadCheckpoint() reads only a regular tensors file inside the checkpoint, of the recorded size", async () => {
  const dir = await Deno.makeTempDir();
  using w = randn([4]);
  const save = (step: number) => saveCheckpoint(dir, { tensors: new Map([["w", w]]), state: {} }, { step, keep: 20 });
  const refuse = (path: string, what: RegExp) =>
    assert.rejects(() => loadCheckpoint(path), (e: Error) => {
      assert.ok(e.message.startsWith(`Cannot load checkpoint "${path}": `), e.message);
      assert.match(e.message, what);
      return true;
    });
  for (const [i, name] of ["../../../../etc/hostname", "/etc/hostname", "..", "a/b", ""].entries()) {
    const p = await save(i);
    await editRecord(p, (r) => (r.tensors as Record<string, unknown>).file = name);
    await refuse(p, /not a plain file name inside the checkpoint/);
  }
  const zero = await save(10);
  await Deno.remove(`${zero}/tensors.safetensors`);
  await Deno.symlink("/dev/zero", `${zero}/tensors.safetensors`);
  await refuse(zero, /tensors.safetensors is a symbolic link \(a checkpoint holds its own files; not followed\)/);
  const fifo = await save(11);
  await Deno.remove(`${fifo}/tensors.safetensors`);
  await mkfifo(`${fifo}/tensors.safetensors`);
  await refuse(fifo, /it is a FIFO, not a regular file/);
  const stateFifo = await save(12);
  await Deno.remove(`${stateFifo}/state.json`);
  await mkfifo(`${stateFifo}/state.json`);
  await refuse(stateFifo, /state.json: it is a FIFO/);
  const huge = await save(13);
  await editRecord(huge, (r) => (r.tensors as Record<string, unknown>).bytes = 2 ** 40);
  await refuse(huge, /tensors.safetensors has \d+ bytes but state.json records 1099511627776/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("loadCheckpoint() validates the record's numbers and state, naming the checkpoint", async () => {
  const dir = await Deno.makeTempDir();
  using w = randn([4]);
  const save = (step: number) =>
    saveCheckpoint(dir, { tensors: new Map([["w", w]]), state: { epoch: 1 } }, { step, keep: 20 });
  const refuse = (path: string, what: RegExp) =>
    assert.rejects(() => loadCheckpoint(path), (e: Error) => e.message.includes(path) && what.test(e.message));
  const cases: [(r: Record<string, unknown>) => void, RegExp][] = [
    [(r) => r.step = 2.5, /step 2.5, not a non-negative integer/],
    [(r) => r.step = 1e300, /step 1e\+300, not a non-negative integer/],
    [(r) => r.step = -1, /step -1/],
    [(r) => r.step = 99, /step 99 but the directory is named after step/],
    [(r) => r.state = null, /has null "state", not an object/],
    [(r) => delete r.state, /has no "state", not an object/],
    [(r) => r.state = [1], /"state", not an object/],
  ];
  for (const [i, [edit, what]] of cases.entries()) {
    const p = await save(i);
    await editRecord(p, edit);
    await refuse(p, what);
  }
  await Deno.remove(dir, { recursive: true });
});

Deno.test("loadLatestIntactCheckpoint() falls back to the newest intact checkpoint and says why", async () => {
  const before = liveTensors();
  const dir = await Deno.makeTempDir();
  {
    using w = randn([4]);
    const save = (step: number) => saveCheckpoint(dir, { tensors: new Map([["w", w]]), state: { step } }, { step });
    await save(100);
    const middle = await save(200);
    const newest = await save(300);
    const b = await Deno.readFile(`${newest}/tensors.safetensors`);
    b[b.length - 1] ^= 1;
    await Deno.writeFile(`${newest}/tensors.safetensors`, b);
    await Deno.remove(`${middle}/state.json`);
    const { checkpoint, refused } = await loadLatestIntactCheckpoint(dir);
    assert.equal(checkpoint!.step, 100);
    assert.deepEqual(refused.map((r) => r.path), [newest, middle]);
    assert.match(refused[0].reason, /does not match its SHA-256/);
    assert.match(refused[1].reason, /state.json is missing/);
    disposeAll(checkpoint!.tensors);
    assert.deepEqual(await loadLatestIntactCheckpoint(`${dir}/none`), { checkpoint: null, refused: [] });
  }
  await Deno.remove(dir, { recursive: true });
  assert.equal(liveTensors(), before);
});

Deno.test("loadCheckpoint() refuses a state edited after the save (its SHA-256 is in state.json)", async () => {
  const dir = await Deno.makeTempDir();
  using w = randn([4]);
  const path = await saveCheckpoint(dir, { tensors: new Map([["w", w]]), state: { loader: { position: 64 } } });
  const loaded = await loadCheckpoint(path);
  loaded.tensors.forEach((t) => t.dispose());
  assert.deepEqual(loaded.state, { loader: { position: 64 } });
  await editRecord(path, (r) => ((r.state as { loader: { position: number } }).loader.position = 1e15));
  await assert.rejects(
    () => loadCheckpoint(path),
    /state\.json's state does not match its SHA-256 \(edited or corrupt\)/,
  );
  await editRecord(path, (r) => (r.stateSha256 = "x"));
  await assert.rejects(() => loadCheckpoint(path), /state\.json records no valid SHA-256 of its state/);
  await Deno.remove(dir, { recursive: true });
});
