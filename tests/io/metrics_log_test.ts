import assert from "node:assert/strict";
import { mkfifo } from "../_child.ts";
import { MetricsLog, readMetricsLog } from "../../src/io/metrics_log.ts";

Deno.test("MetricsLog.write() appends one JSON line per record, readable before close", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/run/metrics.jsonl`; // the directory is created
  const log = new MetricsLog(path);
  log.write({ step: 1, epoch: 0.5, loss: 1.25, lr: 0.1 });
  assert.deepEqual(readMetricsLog(path), [{ step: 1, epoch: 0.5, loss: 1.25, lr: 0.1 }]); // already on disk
  log.write({ step: 2, epoch: 1, knn: 0.7, loss: -Infinity, positive: Infinity, balance: NaN });
  log.close();
  log.close();
  assert.throws(() => log.write({ step: 3, epoch: 1 }), /closed MetricsLog/);
  assert.equal(
    Deno.readTextFileSync(path),
    '{"step":1,"epoch":0.5,"loss":1.25,"lr":0.1}\n' +
      '{"step":2,"epoch":1,"knn":0.7,"loss":"-Infinity","positive":"Infinity","balance":"NaN"}\n',
  );
  const back = readMetricsLog(path);
  assert.equal(back[1].loss, -Infinity);
  assert.equal(back[1].positive, Infinity);
  assert.ok(Number.isNaN(back[1].balance));
  {
    using again = new MetricsLog(path); // appends
    again.write({ step: 3, epoch: 1.5 });
  }
  assert.equal(readMetricsLog(path).length, 3);
  {
    using fresh = new MetricsLog(path, { truncate: true });
    fresh.write({ step: 0, epoch: 0 });
  }
  assert.deepEqual(readMetricsLog(path), [{ step: 0, epoch: 0 }]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("readMetricsLog() skips a cut-off last line and rejects a malformed one elsewhere", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/metrics.jsonl`;
  Deno.writeTextFileSync(path, '{"step":1,"epoch":0}\n{"step":2,"epoch":0}\n{"step":3,"ep');
  assert.deepEqual(readMetricsLog(path).map((r) => r.step), [1, 2]);
  Deno.writeTextFileSync(path, '{"step":1,"epoch":0}\n{"step":2,\n{"step":3,"epoch":0}\n');
  assert.throws(() => readMetricsLog(path), new RegExp(`Cannot read metrics log "${path}": line 2 is not JSON`));
  await Deno.remove(dir, { recursive: true });
});

Deno.test("readMetricsLog() refuses a FIFO or a device instead of blocking or growing", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await mkfifo(`${dir}/m.jsonl`);
    assert.throws(() => readMetricsLog(`${dir}/m.jsonl`), /m.jsonl": it is not a regular file/);
    assert.throws(() => readMetricsLog("/dev/zero"), /not a regular file/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
