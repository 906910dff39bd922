import assert from "node:assert/strict";
import { mkfifo, runChild } from "../_child.ts";
import { openRegularFile, readFileBounded, writeFileAtomic } from "../../src/torch/files.ts";

Deno.test("openRegularFile() refuses devices, FIFOs, directories and missing files without blocking", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await mkfifo(`${dir}/fifo`);
    await Deno.symlink("/dev/zero", `${dir}/zero`);
    await assert.rejects(() => openRegularFile(`${dir}/fifo`), /fifo: it is a FIFO, not a regular file/);
    await assert.rejects(() => openRegularFile(`${dir}/zero`), /zero: it is a character device, not a regular file/);
    await assert.rejects(() => openRegularFile(dir), /it is a directory, not a regular file/);
    await assert.rejects(() => openRegularFile(`${dir}/none`), Deno.errors.NotFound);
    await Deno.writeTextFile(`${dir}/ok`, "abc");
    const { file, size } = await openRegularFile(`${dir}/ok`);
    file.close();
    assert.equal(size, 3);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readFileBounded() checks the size before reading", async () => {
  const path = await Deno.makeTempFile();
  try {
    await Deno.writeFile(path, new Uint8Array(100));
    assert.equal((await readFileBounded(path, 100)).length, 100);
    await assert.rejects(() => readFileBounded(path, 99), /its 100 bytes are larger than the 99 allowed/);
    await assert.rejects(() => readFileBounded("/dev/zero", 1 << 20), /not a regular file/);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("writeFileAtomic() names the path when the write fails and leaves no temporary file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // A file-size limit of 1 KiB (with SIGXFSZ ignored) makes the write fail as a full disk would.
    const code = `import { writeFileAtomic } from "${new URL("../../src/torch/files.ts", import.meta.url)}";
      await writeFileAtomic("${dir}/big.bin", new Uint8Array(1 << 20)).catch((e) => console.log(e.message));`;
    const out = await runChild("bash", {
      args: ["-c", `ulimit -f 1; trap "" XFSZ; exec "${Deno.execPath()}" eval '${code}'`],
      timeoutMs: 60_000,
    });
    assert.match(out.stdout, new RegExp(`Cannot write ${dir}/big.bin: File too large`));
    assert.deepEqual([...Deno.readDirSync(dir)], []);
    await writeFileAtomic(`${dir}/a`, "x");
    await Deno.chmod(dir, 0o500);
    if (Deno.uid() !== 0) await assert.rejects(() => writeFileAtomic(`${dir}/a`, "y"), new RegExp(`${dir}/a`));
  } finally {
    await Deno.chmod(dir, 0o700);
    await Deno.remove(dir, { recursive: true });
  }
});
