"""Writes tests/io/golden/golden.safetensors with the standard library only (struct, json).

It follows the reference implementation (huggingface/safetensors, `tensor.rs`): tensors sorted by
descending dtype alignment (the Dtype enum order BOOL < U8 < I8 < I16 < F16 < BF16 < I32 < F32 <
F64 < I64), then by name; compact JSON header with `__metadata__` first; header padded with spaces
to a multiple of 8; little-endian data back to back. tests/io/safetensors_test.ts builds the same
tensors in unigrad and compares the bytes. Checked once: re-serialising this file's tensors with the
reference library (pip safetensors 0.8.0, `safetensors.serialize`) gives the identical 867 bytes.

Usage: python3 tests/io/golden/make_safetensors.py
"""
import json
import os
import struct

RANK = {"BOOL": 0, "U8": 1, "I8": 2, "I16": 5, "F16": 7, "BF16": 8, "I32": 9, "F32": 11, "F64": 12, "I64": 13}
FMT = {"BOOL": "?", "U8": "B", "I8": "b", "I16": "h", "F16": "e", "I32": "i", "F32": "f", "F64": "d", "I64": "q"}


def pack(dtype, values):
    if dtype == "BF16":  # the upper half of each float32 (the values are exact in bfloat16)
        return b"".join(struct.pack("<f", v)[2:] for v in values)
    return struct.pack("<%d%s" % (len(values), FMT[dtype]), *values)


TENSORS = {
    "w.f64": ("F64", [2, 2], [1.5, -2.25, 1e-300, 3.141592653589793]),
    "w.f32": ("F32", [4], [0.1, -0.0, float("inf"), -1e-40]),
    "h.f16": ("F16", [2, 2], [1.0, -0.5, 65504.0, 2.0**-24]),
    "h.bf16": ("BF16", [4], [1.0, -3.0, 0.15625, 2.0**100]),
    "i.i64": ("I64", [2], [-(2**62), 2**53 + 1]),
    "i.i32": ("I32", [2, 1], [-7, 2**31 - 1]),
    "i.i16": ("I16", [1], [-(2**15)]),
    "i.i8": ("I8", [3], [-128, 0, 127]),
    "u.u8": ("U8", [2, 3], [0, 1, 2, 253, 254, 255]),
    "mask": ("BOOL", [4], [True, False, False, True]),
    "scalar": ("F32", [], [42.0]),
    "empty": ("F32", [0, 3], []),
}


def main():
    order = sorted(TENSORS, key=lambda n: (-RANK[TENSORS[n][0]], n.encode()))
    parts = ['"__metadata__":' + json.dumps({"format": "pt"}, separators=(",", ":"))]
    data = b""
    for name in order:
        dtype, shape, values = TENSORS[name]
        raw = pack(dtype, values)
        info = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        parts.append(json.dumps(name, ensure_ascii=False) + ":" + json.dumps(info, separators=(",", ":")))
        data += raw
    header = ("{" + ",".join(parts) + "}").encode()
    header += b" " * (-len(header) % 8)
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden.safetensors")
    with open(out, "wb") as f:
        f.write(struct.pack("<Q", len(header)) + header + data)
    print("wrote", out, 8 + len(header) + len(data), "bytes")


if __name__ == "__main__":
    main()
