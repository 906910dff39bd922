import assert from "node:assert/strict";
import { crossEntropy } from "../../src/torch/mod.ts";
import { cuda, ones, scope, tensor, TorchError, zeros } from "../../mod.ts";
import { noLeaks } from "./_helpers.ts";

/** Asserts that `fn` throws `type` with a message matching `message`, and that ops still work after it. */
function throwsThenWorks(fn: () => unknown, type: new (...args: never[]) => Error, message: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof type, `expected ${type.name}, got ${(e as Error)?.name}: ${(e as Error)?.message}`);
    assert.match((e as Error).message, message);
    return true;
  });
  scope(() => assert.deepEqual(ones([2]).add(1).toArray(), [2, 2]));
}

Deno.test("TorchError carries the op name and libtorch's message without a backtrace", () => {
  const e = new TorchError("mm", "shapes cannot be multiplied");
  assert.ok(e instanceof Error);
  assert.equal(e.name, "TorchError");
  assert.equal(e.op, "mm");
  assert.equal(e.message, "mm: shapes cannot be multiplied");
  scope(() => {
    try {
      ones([2, 3]).mm(ones([4, 5]));
      assert.fail("mm should throw");
    } catch (err) {
      assert.ok(err instanceof TorchError);
      assert.equal(err.op, "mm");
      assert.match(err.message, /^mm: mat1 and mat2 shapes cannot be multiplied \(2x3 and 4x5\)$/);
      assert.doesNotMatch(err.message, /Exception raised from|frame #/);
    }
  });
});

Deno.test(
  "shape mismatches throw TorchError naming the shapes",
  noLeaks(() =>
    scope(() => {
      throwsThenWorks(() => ones([2, 3]).mm(ones([4, 5])), TorchError, /2x3 and 4x5/);
      throwsThenWorks(() => ones([2]).add(ones([3])), TorchError, /size of tensor a \(2\).*tensor b \(3\)/);
      throwsThenWorks(() => ones([6]).reshape([4, 2]), TorchError, /shape '\[4, 2\]' is invalid for input of size 6/);
    })
  ),
);

Deno.test(
  "wrong dtypes throw TorchError naming the expected type",
  noLeaks(() =>
    scope(() => {
      const x = ones([3, 2]);
      throwsThenWorks(
        () => x.indexSelect(0, tensor([0, 1])),
        TorchError,
        /indexSelect: index_select\(\): Expected dtype int32 or int64 for index/,
      );
      throwsThenWorks(
        () => crossEntropy(zeros([2, 3]), tensor([0, 1])), // float class targets of shape [N]
        TorchError,
        /crossEntropy: expected scalar type Long but found Float/,
      );
      throwsThenWorks(
        () => x.gather(0, tensor([[0, 1]])),
        TorchError,
        /gather: gather\(\): Expected dtype int64 for index/,
      );
    })
  ),
);

Deno.test(
  "out-of-range indices throw TorchError (select, narrow, indexSelect, gather, dims)",
  noLeaks(() =>
    scope(() => {
      const x = ones([3, 2]);
      throwsThenWorks(
        () => x.select(0, 3),
        TorchError,
        /select: select\(\): index 3 out of range for tensor of size \[3, 2\] at dimension 0/,
      );
      throwsThenWorks(() => x.narrow(0, 2, 2), TorchError, /narrow: start \(2\) \+ length \(2\) exceeds/);
      throwsThenWorks(
        () => x.indexSelect(0, tensor([5], { dtype: "int64" })),
        TorchError,
        /indexSelect: index out of range/,
      );
      throwsThenWorks(
        () => x.gather(0, tensor([[7, 0]], { dtype: "int64" })),
        TorchError,
        /gather: index 7 is out of bounds for dimension 0 with size 3/,
      );
      throwsThenWorks(() => x.sum(2), TorchError, /sum: Dimension out of range/);
      throwsThenWorks(() => x.size(5), RangeError, /Dimension 5 out of range for a 2-D tensor/);
    })
  ),
);

Deno.test(
  "bad dtype and device names throw TypeError listing the valid ones",
  noLeaks(() =>
    scope(() => {
      throwsThenWorks(
        () => zeros([1], { dtype: "float" as never }),
        TypeError,
        /Unknown dtype "float": expected one of/,
      );
      throwsThenWorks(() => ones([1]).to({ dtype: "half" as never }), TypeError, /Unknown dtype "half"/);
      throwsThenWorks(() => ones([1]).to("float" as never), TypeError, /Unknown dtype or device "float"/);
      throwsThenWorks(() => ones([1]).to("toString" as never), TypeError, /Unknown dtype or device "toString"/);
      throwsThenWorks(() => zeros([1], { dtype: "constructor" as never }), TypeError, /Unknown dtype "constructor"/);
      throwsThenWorks(() => zeros([1], { device: "gpu" as never }), TypeError, /Unknown device "gpu"/);
      throwsThenWorks(() => ones([1]).to({ device: "cuda:x" as never }), TypeError, /Unknown device "cuda:x"/);
    })
  ),
);

Deno.test(
  "ragged and malformed data throw TypeError",
  noLeaks(() =>
    scope(() => {
      throwsThenWorks(() => tensor([[1, 2], [3]]), TypeError, /ragged nested arrays: expected length 2 at depth 1/);
      throwsThenWorks(() => tensor([[[1], [2]], [[3]]]), TypeError, /ragged/);
      throwsThenWorks(() => tensor([1, null] as never), TypeError, /mixed element types/);
      throwsThenWorks(() => ones([1.5]), TypeError, /Expected an integer size or dim, got 1.5/);
    })
  ),
);

Deno.test({
  name: "CUDA tensors without CUDA throw TorchError saying CUDA is not available",
  ignore: cuda.isAvailable(),
  fn: noLeaks(() =>
    scope(() => {
      throwsThenWorks(() => tensor([1, 2], { device: "cuda" }), TorchError, /CUDA is not available/);
      throwsThenWorks(() => ones([1]).to("cuda"), TorchError, /to: CUDA is not available/);
      throwsThenWorks(() => ones([1]).cuda(), TorchError, /CUDA is not available/);
      throwsThenWorks(() => cuda.memoryStats(), TorchError, /CUDA is not available/);
    })
  ),
});
