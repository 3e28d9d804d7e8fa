/**
 * Reads the kernel truth of the namespace a runner runs in: the commands of netplan's
 * `KERNEL_VIEW_COMMANDS` (read-only, run together), parsed by `buildKernelView`. Takes the
 * runner, so the same function serves the lab host's own namespace (the executor's runner)
 * and a virtual machine's (a runner that enters that namespace).
 */
import { readFile } from "node:fs/promises";
import {
  buildKernelView,
  buildNodeKernelView,
  isValidNetnsName,
  KERNEL_VIEW_COMMANDS,
  type KernelView,
  type KernelViewOutputs,
  NODE_KERNEL_VIEW_COMMANDS,
  type NodeKernelView,
  type NodeKernelViewOutputs,
} from "@labnet/netplan";
import { type Runner, runOrThrow, withNetns } from "./runner";

/** Upper bound of one read: `ip -j -d addr show` of 1,000 sandboxes' veths takes ~50 ms. */
const INSPECT_COMMAND_TIMEOUT_MS = 10_000;

/**
 * The view of the namespace `runner` runs in.
 *
 * @example
 * const view = await inspectKernel(createExecRunner());
 * view.bridges.map((b) => b.name) // ["lnbr-abcdefgh"]
 */
export async function inspectKernel(runner: Runner): Promise<KernelView> {
  const keys = Object.keys(KERNEL_VIEW_COMMANDS) as (keyof KernelViewOutputs)[];
  const stdouts = await Promise.all(
    keys.map(
      async (key) =>
        (await runOrThrow(runner, KERNEL_VIEW_COMMANDS[key], { timeoutMs: INSPECT_COMMAND_TIMEOUT_MS }))
          .stdout,
    ),
  );
  const outputs: Partial<KernelViewOutputs> = {};
  keys.forEach((key, i) => {
    outputs[key] = stdouts[i] ?? "";
  });
  return buildKernelView(outputs as KernelViewOutputs);
}

/** A node's kernel and its resolver files as the node sees them. */
export interface NodeKernelReport extends NodeKernelView {
  resolvConf: string;
  hosts: string;
}

/**
 * The view of node sandbox `netns` (under /run/netns), read through `runner` (the lab host's
 * own, which enters it with `nsenter --net=`), and the node's resolv.conf and hosts: its
 * `/etc/netns/<netns>/` files, which `ip netns exec` binds over /etc, else the lab host's own.
 */
export async function inspectNodeKernel(
  runner: Runner,
  netns: string,
  etcDir = "/etc",
): Promise<NodeKernelReport> {
  if (!isValidNetnsName(netns) || !/^[A-Za-z0-9]/.test(netns)) {
    throw new Error(`invalid netns name: ${JSON.stringify(netns)}`);
  }
  const inNode = withNetns(runner, `/run/netns/${netns}`);
  const keys = Object.keys(NODE_KERNEL_VIEW_COMMANDS) as (keyof NodeKernelViewOutputs)[];
  const stdouts = await Promise.all(
    keys.map(
      async (key) =>
        (await runOrThrow(inNode, NODE_KERNEL_VIEW_COMMANDS[key], { timeoutMs: INSPECT_COMMAND_TIMEOUT_MS }))
          .stdout,
    ),
  );
  const outputs = Object.fromEntries(
    keys.map((key, i) => [key, stdouts[i] ?? ""]),
  ) as unknown as NodeKernelViewOutputs;
  const [resolvConf, hosts] = await Promise.all(
    ["resolv.conf", "hosts"].map(async (file) => {
      const own = await readFile(`${etcDir}/netns/${netns}/${file}`, "utf8").catch(() => undefined);
      return own ?? (await readFile(`${etcDir}/${file}`, "utf8").catch(() => ""));
    }),
  );
  return { ...buildNodeKernelView(outputs), resolvConf: resolvConf ?? "", hosts: hosts ?? "" };
}
