/**
 * Devices: `"cpu"`, `"cuda"` (= `"cuda:0"`) or `"cuda:k"`.
 *
 * @module
 */

/** A device name, as in PyTorch. */
export type Device = "cpu" | "cuda" | `cuda:${number}`;

/** The shim's device code: -1 for the CPU, k for cuda:k. Throws a TypeError on a malformed name. */
export function deviceCode(device: Device | string): number {
  if (device === "cpu") return -1;
  if (device === "cuda") return 0;
  const m = /^cuda:(\d+)$/.exec(device);
  if (!m) throw new TypeError(`Unknown device "${device}": expected "cpu", "cuda" or "cuda:<index>"`);
  return Number(m[1]);
}

/** The device name for a shim device code. */
export function deviceName(code: number): Device {
  return code < 0 ? "cpu" : `cuda:${code}`;
}
