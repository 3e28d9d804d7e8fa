/**
 * Kernel switches the executor needs on its host. A sysctl under /proc/sys/net belongs
 * to the network namespace of the process that opens it, so this changes the host the
 * executor manages and nothing else. Never call it from a process in the machine's root
 * namespace unless that namespace is the managed lab host.
 */
import { readFile, writeFile } from "node:fs/promises";
import { type Runner, runOrThrow } from "./runner";

/** Per-netns switch for IPv4 forwarding. */
export const IP_FORWARD_PATH = "/proc/sys/net/ipv4/ip_forward";

/**
 * Turns IPv4 forwarding on in the executor's own network namespace (bridged nodes reach
 * beyond their bridge only through it). Returns whether it had to change anything.
 */
export async function enableIpForward(options: { path?: string } = {}): Promise<boolean> {
  const path = options.path ?? IP_FORWARD_PATH;
  if ((await readFile(path, "utf8")).trim() === "1") {
    return false;
  }
  await writeFile(path, "1\n");
  return true;
}

/**
 * Turns IPv4 forwarding on in the namespace `runner` runs in (a virtual machine's: its
 * /proc/sys/net is not this process's, so the switch is set by a `sysctl` run inside it).
 */
export async function enableMachineIpForward(runner: Runner): Promise<void> {
  await runOrThrow(runner, ["sysctl", "-q", "-e", "-w", "net.ipv4.ip_forward=1"]);
}
