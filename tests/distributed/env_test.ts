/** readLaunchEnv and expandNodeList: torchrun and Slurm variables. */
import assert from "node:assert/strict";
import { expandNodeList, readLaunchEnv } from "../../src/distributed/mod.ts";

Deno.test("readLaunchEnv reads torchrun's variables with defaults for the optional ones", () => {
  const e = readLaunchEnv({ RANK: "1", WORLD_SIZE: "4", LOCAL_RANK: "1", MASTER_ADDR: "n1", MASTER_PORT: "1234" });
  assert.deepEqual(e, { rank: 1, worldSize: 4, localRank: 1, address: "n1", port: 1234, source: "torchrun" });
  assert.deepEqual(readLaunchEnv({ RANK: "0", WORLD_SIZE: "1" }), {
    rank: 0,
    worldSize: 1,
    localRank: 0,
    address: "127.0.0.1",
    port: 29500,
    source: "torchrun",
  });
});

Deno.test("readLaunchEnv reads Slurm's variables: first host of the node list, port from the job id", () => {
  const e = readLaunchEnv({
    SLURM_PROCID: "9",
    SLURM_NTASKS: "16",
    SLURM_LOCALID: "1",
    SLURM_NODELIST: "gpu[3-4,10]",
    SLURM_JOB_ID: "123456",
  });
  assert.deepEqual(e, { rank: 9, worldSize: 16, localRank: 1, address: "gpu3", port: 23456, source: "slurm" });
  const override = readLaunchEnv({ SLURM_PROCID: "0", SLURM_NTASKS: "2", MASTER_ADDR: "h", MASTER_PORT: "99" });
  assert.deepEqual([override!.address, override!.port], ["h", 99]);
});

Deno.test("readLaunchEnv rejects missing, malformed and inconsistent variables", () => {
  assert.equal(readLaunchEnv({}), null);
  assert.throws(() => readLaunchEnv({ WORLD_SIZE: "2" }), /RANK is not set/);
  assert.throws(() => readLaunchEnv({ RANK: "x", WORLD_SIZE: "2" }), RangeError);
  assert.throws(() => readLaunchEnv({ RANK: "2", WORLD_SIZE: "2" }), /rank 2 is outside a world of 2/);
  assert.throws(() => readLaunchEnv({ RANK: "0", WORLD_SIZE: "2", MASTER_PORT: "70000" }), /port 70000/);
  assert.throws(() => readLaunchEnv({ SLURM_PROCID: "0", SLURM_NTASKS: "2" }), /SLURM_NODELIST is not set/);
});

Deno.test("expandNodeList expands ranges, lists, padding and several bracket groups", () => {
  assert.deepEqual(expandNodeList("node[01-04,07]"), ["node01", "node02", "node03", "node04", "node07"]);
  assert.deepEqual(expandNodeList("a1,b[8-10]"), ["a1", "b8", "b9", "b10"]);
  assert.deepEqual(expandNodeList("r[1-2]-n[1,3]"), ["r1-n1", "r1-n3", "r2-n1", "r2-n3"]);
  assert.deepEqual(expandNodeList("single"), ["single"]);
  assert.throws(() => expandNodeList("n[1-2"), SyntaxError);
  assert.throws(() => expandNodeList("n[5-2]"), SyntaxError);
  assert.throws(() => expandNodeList("n[x]"), SyntaxError);
});
