/**
 * The shim build's discovery against a CUDA wheel's layout, without a GPU or a wheel: a fake
 * site-packages with torch/ (headers and empty libraries where a wheel has them) and nvidia/<pkg>/include
 * folders, found through a stand-in python3 on PATH that answers as a wheel's torch does.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { abiOfSymbols, cudaIncludeDirs, findLibtorch } from "../../src/torch/_libtorch.ts";

/** A fake wheel: site-packages/torch/{include,lib} and site-packages/nvidia/* as pip lays them out. */
async function fakeWheel(root: string, abi: 0 | 1): Promise<string> {
  const site = join(root, "site-packages");
  const torch = join(site, "torch");
  const files: Record<string, string> = {
    "torch/include/ATen/ATen.h": "",
    "torch/include/torch/version.h": '#define TORCH_VERSION "2.5.1+cu124"\n',
    "torch/include/torch/csrc/api/include/torch/all.h": "",
    "torch/include/torch/csrc/distributed/c10d/TCPStore.hpp": "",
    "torch/lib/libtorch_cpu.so": "",
    "torch/lib/libtorch_cuda.so": "",
    "nvidia/cuda_runtime/include/cuda_runtime_api.h": "",
    "nvidia/cublas/include/cublas_v2.h": "",
    "nvidia/cusparse/include/cusparse.h": "",
    "nvidia/cusolver/include/cusolverDn.h": "",
    "nvidia/nccl/include/nccl.h": "",
    "nvidia/cudnn/lib/libcudnn.so.9": "", // a package without headers: no include folder
  };
  for (const [path, text] of Object.entries(files)) {
    await Deno.mkdir(join(site, path, ".."), { recursive: true });
    await Deno.writeTextFile(join(site, path), text);
  }
  const bin = join(root, "bin");
  await Deno.mkdir(bin);
  // What `python3 -c "import torch,os; …"` prints for this wheel: its folder, then torch._C._GLIBCXX_USE_CXX11_ABI.
  await Deno.writeTextFile(join(bin, "python3"), `#!/bin/sh\nprintf '%s\\n%s\\n' '${torch}' '${abi}'\n`);
  await Deno.chmod(join(bin, "python3"), 0o755);
  return bin;
}

function withPath<T>(bin: string, fn: () => T): T {
  const path = Deno.env.get("PATH") ?? "";
  const libtorch = Deno.env.get("LIBTORCH");
  Deno.env.set("PATH", `${bin}:${path}`);
  Deno.env.delete("LIBTORCH");
  try {
    return fn();
  } finally {
    Deno.env.set("PATH", path);
    if (libtorch !== undefined) Deno.env.set("LIBTORCH", libtorch);
  }
}

Deno.test("the build finds a CUDA wheel's libtorch, its ABI and every nvidia include folder ATen's CUDA headers need", async () => {
  const root = await Deno.makeTempDir();
  try {
    for (const abi of [1, 0] as const) {
      const dir = join(root, `abi${abi}`);
      await Deno.mkdir(dir);
      const bin = await fakeWheel(dir, abi);
      const lt = withPath(bin, () => findLibtorch());
      const torch = join(dir, "site-packages", "torch");
      assert.equal(lt.source, "wheel");
      assert.equal(lt.libDir, `${torch}/lib`);
      assert.equal(lt.version, "2.5.1+cu124");
      assert.equal(lt.cuda, true);
      assert.equal(lt.cxx11Abi, abi === 1, "the ABI torch reports, not a fixed one");
      const nvidia = `${torch}/lib/../../nvidia`;
      const found = cudaIncludeDirs(lt.libDir).filter((d) => d.startsWith(nvidia));
      assert.deepEqual(
        found,
        ["cublas", "cuda_runtime", "cusolver", "cusparse", "nccl"].map((p) => `${nvidia}/${p}/include`),
      );
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("the C++ ABI read from a library's exported names", () => {
  assert.equal(
    abiOfSymbols(
      "0000 T _ZN3c106detail14torchCheckFailEPKcS2_jRKNSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEE\n",
    ),
    true,
  );
  assert.equal(abiOfSymbols("0000 T _ZN3c106detail14torchCheckFailEPKcS2_jRKSs\n"), false);
  assert.equal(abiOfSymbols(""), true); // nothing to read: the usual ABI
});
