/**
 * Reads the kernel truth of the namespace a runner runs in: the commands of netplan's
 * `KERNEL_VIEW_COMMANDS` (read-only, run together), parsed by `buildKernelView`. Takes the
 * runner, so the same function serves the lab host's own namespace (the executor's runner)
 * and a virtual machine's (a runner that enters that namespace).
 */
import {
  buildKernelView,
  KERNEL_VIEW_COMMANDS,
  type KernelView,
  type KernelViewOutputs,
} from "@labnet/netplan";
import { type Runner, runOrThrow } from "./runner";

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
