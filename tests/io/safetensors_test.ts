import assert from "node:assert/strict";
import { mkfifo } from "../_child.ts";
import { type DType, liveTensors, manualSeed, randn, scope, type Tensor, tensor } from "../../mod.ts";
import {
  deserializeSafetensors,
  loadSafetensors,
  saveSafetensors,
  serializeSafetensors,
} from "../../src/io/safetensors.ts";

const GOLDEN = new URL("./golden/golden.safetensors", import.meta.url);

/** The tensors of tests/io/golden/make_safetensors.py, inserted in another order than the file's. */
function goldenTensors(): Map<string, Tensor> {
  return new Map([
    ["empty", tensor(new Float32Array(0), { shape: [0, 3] })],
    ["mask", tensor([true, false, false, true])],
    ["u.u8", tensor(new Uint8Array([0, 1, 2, 253, 254, 255]), { shape: [2, 3] })],
    ["w.f64", tensor([1.5, -2.25, 1e-300, Math.PI], { dtype: "float64", shape: [2, 2] })],
    ["w.f32", tensor(new Float32Array([0.1, -0, Infinity, -1e-40]))],
    ["h.f16", tensor([1, -0.5, 65504, 2 ** -24], { dtype: "float16", shape: [2, 2] })],
    ["h.bf16", tensor([1, -3, 0.15625, 2 ** 100], { dtype: "bfloat16" })],
    ["i.i64", tensor(BigInt64Array.from([-(2n ** 62n), 2n ** 53n + 1n]))],
    ["i.i32", tensor(new Int32Array([-7, 2 ** 31 - 1]), { shape: [2, 1] })],
    ["i.i16", tensor(new Int16Array([-32768]))],
    ["i.i8", tensor(new Int8Array([-128, 0, 127]))],
    ["scalar", tensor(42)],
  ]);
}

function sameTensor(a: Tensor, b: Tensor, name: string): void {
  assert.equal(a.dtype, b.dtype, `${name} dtype`);
  assert.deepEqual(a.shape, b.shape, `${name} shape`);
  assert.deepEqual(a.data(), b.data(), `${name} data`);
}

Deno.test("serializeSafetensors() writes the bytes of the reference implementation (golden file)", () => {
  const before = liveTensors();
  scope(() => {
    const golden = Deno.readFileSync(GOLDEN);
    const bytes = serializeSafetensors(goldenTensors(), { format: "pt" });
    assert.equal(bytes.length, golden.length);
    assert.deepEqual(bytes, golden);
  });
  assert.equal(liveTensors(), before);
});

Deno.test("deserializeSafetensors() reads every dtype of the golden file exactly", () => {
  const before = liveTensors();
  scope(() => {
    const { tensors, metadata } = deserializeSafetensors(Deno.readFileSync(GOLDEN));
    assert.deepEqual(metadata, { format: "pt" });
    const expected = goldenTensors();
    assert.deepEqual([...tensors.keys()].sort(), [...expected.keys()].sort());
    for (const [name, t] of expected) sameTensor(tensors.get(name)!, t, name);
    assert.equal(Object.is(tensors.get("w.f32")!.data()[1], -0), true);
    assert.deepEqual(tensors.get("i.i64")!.data(), BigInt64Array.from([-(2n ** 62n), 2n ** 53n + 1n]));
  });
  assert.equal(liveTensors(), before);
});

Deno.test("saveSafetensors() / loadSafetensors() round-trip random tensors of every dtype", async () => {
  const before = liveTensors();
  const dir = await Deno.makeTempDir();
  const path = `${dir}/model.safetensors`;
  manualSeed(0);
  const dtypes: DType[] = [
    "float32",
    "float64",
    "float16",
    "bfloat16",
    "int64",
    "int32",
    "int16",
    "int8",
    "uint8",
    "bool",
  ];
  const original = scope(() =>
    new Map(dtypes.map((d) => {
      const x = randn([3, 5]).mul(50);
      return [`layer1.0.${d}`, d === "bool" ? x.gt(0) : x.to({ dtype: d })] as [string, Tensor];
    }))
  );
  await saveSafetensors(path, original, { metadata: { step: "12", format: "pt" } });
  await saveSafetensors(path, original); // overwrite in place
  assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["model.safetensors"]); // no temp left
  const { tensors, metadata } = await loadSafetensors(path);
  assert.deepEqual(metadata, { format: "pt" });
  for (const [name, t] of original) sameTensor(tensors.get(name)!, t, name);
  for (const t of [...original.values(), ...tensors.values()]) t.dispose();
  await Deno.remove(dir, { recursive: true });
  assert.equal(liveTensors(), before);
});

/** A valid two-tensor file to corrupt: "a" F32 [2] at [0, 8], "b" U8 [4] at [8, 12]. */
function build(header: unknown, data = new Uint8Array(12)): Uint8Array {
  const h = new TextEncoder().encode(typeof header === "string" ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}
const A = { dtype: "F32", shape: [2], data_offsets: [0, 8] };
const B = { dtype: "U8", shape: [4], data_offsets: [8, 12] };

Deno.test("deserializeSafetensors() refuses truncated and corrupt files with clear messages", () => {
  const before = liveTensors();
  const good = build({ a: A, b: B });
  scope(() => assert.equal(deserializeSafetensors(good).tensors.size, 2));
  const cases: [Uint8Array, RegExp][] = [
    [good.subarray(0, 5), /the file has 5 bytes, fewer than the 8-byte header length/],
    [good.subarray(0, 30), /header length \d+ exceeds the 22 bytes after it \(truncated\?\)/],
    [good.subarray(0, good.length - 3), /the tensors need 12 data bytes but the file holds 9 \(truncated\?\)/],
    [build({ a: A, b: B }, new Uint8Array(14)), /2 bytes at the end belong to no tensor/],
    [build('{"a": [1, 2'), /the header is not valid JSON/],
    [build("[1, 2]"), /the header does not start with '\{'/],
    [build({ a: { ...A, dtype: "F8_E4M3" }, b: B }), /tensor "a" has unsupported dtype "F8_E4M3"/],
    [
      build({ a: { ...A, shape: [3] }, b: B }),
      /tensor "a" \(F32 \[3\]\) needs 12 bytes but data_offsets \[0, 8\] hold 8/,
    ],
    [build({ a: { ...A, shape: [-2] }, b: B }), /tensor "a" has an invalid shape \[-2\]/],
    [build({ a: { ...A, data_offsets: [8, 0] }, b: B }), /tensor "a" has invalid data_offsets \[8,0\]/],
    [build({ a: A, b: { ...B, data_offsets: [4, 8] } }, new Uint8Array(8)), /tensor "b" overlaps/],
    [
      build({ a: { ...A, data_offsets: [4, 12] }, b: { ...B, data_offsets: [12, 16] } }, new Uint8Array(16)),
      /bytes 0\.\.4 of the data section belong to no tensor/,
    ],
    [build({ __metadata__: { step: 3 }, a: A, b: B }), /__metadata__ entry "step" is not a string/],
    [build({ a: "F32", b: B }), /tensor "a" has no \{dtype, shape, data_offsets\} entry/],
  ];
  for (const [bytes, message] of cases) {
    assert.throws(() => deserializeSafetensors(bytes, 'file "x.safetensors"'), (e: Error) => {
      assert.match(e.message, /^Cannot read file "x\.safetensors": /);
      assert.match(e.message, message);
      return true;
    });
  }
  const huge = new Uint8Array(16);
  new DataView(huge.buffer).setBigUint64(0, 2n ** 40n, true);
  assert.throws(() => deserializeSafetensors(huge), /exceeds the 100 MB limit/);
  assert.equal(liveTensors(), before);
});

Deno.test("loadSafetensors() names the file in its errors", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/broken.safetensors`;
  const good = build({ a: A, b: B });
  await Deno.writeFile(path, good.subarray(0, good.length - 1));
  await assert.rejects(() => loadSafetensors(path), (e: Error) => {
    assert.equal(
      e.message,
      `Cannot read safetensors file "${path}": the tensors need 12 data bytes but the file holds 11 (truncated?)`,
    );
    return true;
  });
  await Deno.remove(dir, { recursive: true });
});

Deno.test("serializeSafetensors() refuses the reserved name __metadata__", () => {
  const before = liveTensors();
  scope(() => {
    assert.throws(() => serializeSafetensors(new Map([["__metadata__", tensor([1])]])), TypeError);
    assert.throws(() => serializeSafetensors(new Map([["", tensor([1])]])), TypeError);
  });
  assert.equal(liveTensors(), before);
});

Deno.test("loadSafetensors() refuses devices and FIFOs, and a header longer than the file, before reading", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await assert.rejects(
      () => loadSafetensors("/dev/zero"),
      /\/dev\/zero: it is a character device, not a regular file/,
    );
    const fifo = `${dir}/fifo.safetensors`;
    await mkfifo(fifo);
    await assert.rejects(() => loadSafetensors(fifo), /it is a FIFO, not a regular file/);
    const path = `${dir}/long.safetensors`;
    const head = new Uint8Array(16);
    new DataView(head.buffer).setBigUint64(0, 1000n, true);
    await Deno.writeFile(path, head);
    await assert.rejects(
      () => loadSafetensors(path),
      {
        message: `Cannot read safetensors file "${path}": header length 1000 exceeds the 8 bytes after it (truncated?)`,
      },
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
