/**
 * "Nodes" on one machine for multi-node fault tests: network namespaces joined by a veth pair, one
 * address each (10.213.<k>.1 and .2), with faults applied to a node's link: a partition (the link
 * down), a throttled link (`tc tbf`: a slow, queueing link that drops what overflows its queue), and
 * `tc netem` delay and loss where the kernel has `sch_netem`. Needs root (CAP_NET_ADMIN); `makeNodes`
 * says why it cannot, and the tests skip with that message. Traffic stays inside the namespaces;
 * `dispose()` deletes them (and with them the veth pair).
 */
import { runChild } from "../_child.ts";

/** Two nodes and the faults that can be put on their link. */
export interface Nodes extends AsyncDisposable {
  /** The namespaces, node 0 first. */
  names: [string, string];
  /** Node k's address (node 0 hosts the rendezvous: its address is MASTER_ADDR). */
  addresses: [string, string];
  /** The argument list that runs `command` inside node k. */
  exec(node: 0 | 1, command: string[]): string[];
  /** Cuts the link (100 % loss both ways) until `heal`. */
  partition(): Promise<void>;
  /** Restores the link and removes every queueing discipline. */
  heal(): Promise<void>;
  /** A queueing discipline on both ends, e.g. `["tbf", "rate", "2mbit", …]`; false when the kernel lacks it. */
  shape(qdisc: string[]): Promise<boolean>;
  /** Deletes the namespaces. */
  dispose(): Promise<void>;
}

async function ip(args: string[]): Promise<{ ok: boolean; text: string }> {
  const r = await runChild("ip", { args, timeoutMs: 10_000 });
  return { ok: r.code === 0, text: (r.stderr + r.stdout).trim() };
}

async function must(args: string[]): Promise<void> {
  const r = await ip(args);
  if (!r.ok) throw new Error(`ip ${args.join(" ")}: ${r.text}`);
}

/**
 * Makes two namespaces joined by a veth pair, or returns the reason it cannot (not root, no `ip`).
 *
 * @returns The nodes, or a string saying why none could be made.
 */
export async function makeNodes(): Promise<Nodes | string> {
  const tag = `${Deno.pid % 10000}${Math.floor(Math.random() * 100)}`;
  const names: [string, string] = [`ug${tag}a`, `ug${tag}b`];
  const veth = [`ug${tag}x`, `ug${tag}y`];
  const subnet = 10 + (Deno.pid % 200);
  const addresses: [string, string] = [`10.213.${subnet}.1`, `10.213.${subnet}.2`];
  let probe: { ok: boolean; text: string };
  try {
    probe = await ip(["netns", "add", names[0]]);
  } catch (e) {
    return `cannot run ip: ${(e as Error).message}`;
  }
  if (!probe.ok) return `cannot make a network namespace (${probe.text}); these tests need root`;
  const dispose = async () => {
    for (const n of names) await ip(["netns", "del", n]);
  };
  try {
    await must(["netns", "add", names[1]]);
    await must(["link", "add", veth[0], "type", "veth", "peer", "name", veth[1]]);
    for (const k of [0, 1]) {
      await must(["link", "set", veth[k], "netns", names[k]]);
      await must(["-n", names[k], "addr", "add", `${addresses[k]}/24`, "dev", veth[k]]);
      await must(["-n", names[k], "link", "set", veth[k], "up"]);
      await must(["-n", names[k], "link", "set", "lo", "up"]);
    }
  } catch (e) {
    await dispose();
    return `cannot join two namespaces: ${(e as Error).message}`;
  }
  const tc = (k: number, args: string[]) =>
    runChild("ip", { args: ["netns", "exec", names[k], "tc", ...args], timeoutMs: 10_000 });
  return {
    names,
    addresses,
    exec: (node, command) => ["netns", "exec", names[node], ...command],
    partition: async () => {
      for (const k of [0, 1]) await must(["-n", names[k], "link", "set", veth[k], "down"]);
    },
    heal: async () => {
      for (const k of [0, 1]) {
        await tc(k, ["qdisc", "del", "dev", veth[k], "root"]);
        await must(["-n", names[k], "link", "set", veth[k], "up"]);
      }
    },
    shape: async (qdisc) => {
      for (const k of [0, 1]) {
        const r = await tc(k, ["qdisc", "replace", "dev", veth[k], "root", ...qdisc]);
        if (r.code !== 0) return false;
      }
      return true;
    },
    dispose,
    [Symbol.asyncDispose]: dispose,
  };
}
