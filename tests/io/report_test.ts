import assert from "node:assert/strict";
import { formatReport, writeReport } from "../../src/io/report.ts";

Deno.test("formatReport() writes the results table, notes, plot and configuration", () => {
  const md = formatReport({
    title: "Fashion-MNIST, ResNet-18",
    rows: [
      {
        method: "unigrad",
        epochs: 40,
        knnInit: 0.77,
        knnFinal: 0.8192,
        linearProbe: 0.884,
        pairsPerSecond: 17150.4,
        wallSeconds: 137,
      },
      { method: "simclr|mocov2", epochs: 2 },
    ],
    notes: ["device: cuda:0 (H100)"],
    plot: "curves.svg",
    config: { method: "unigrad", lambda: 100, layers: [2, 2, 2, 2], note: "a|b" },
    knn: { k: 20, temperature: 0.07 },
  });
  assert.equal(
    md,
    [
      "# Fashion-MNIST, ResNet-18",
      "",
      "## Results",
      "",
      "| method | epochs | kNN init | kNN final | linear probe | pairs/s | wall time |",
      "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
      "| unigrad | 40 | 77.0 % | 81.9 % | 88.4 % | 17,150 | 2m 17s |",
      "| simclr\\|mocov2 | 2 | – | – | – | – | – |",
      "",
      "kNN: cosine similarity, k = 20, temperature 0.07, test set against the training set.",
      "",
      "device: cuda:0 (H100)",
      "",
      "## Curves",
      "",
      "![training curves](curves.svg)",
      "",
      "## Configuration",
      "",
      "| option | value |",
      "| --- | --- |",
      "| method | `unigrad` |",
      "| lambda | `100` |",
      "| layers | `[2,2,2,2]` |",
      "| note | `a\\|b` |",
      "",
    ].join("\n"),
  );
});

Deno.test("writeReport() writes report.md", async () => {
  const dir = await Deno.makeTempDir();
  await writeReport(`${dir}/report.md`, { rows: [{ method: "byol", epochs: 1, wallSeconds: 7265 }] });
  const text = await Deno.readTextFile(`${dir}/report.md`);
  assert.ok(text.startsWith("# unigrad run report\n"));
  assert.ok(text.includes("| byol | 1 | – | – | – | – | 2h 01m |"));
  assert.ok(text.includes("k = 200, temperature 0.1"));
  assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["report.md"]);
  await Deno.remove(dir, { recursive: true });
});
