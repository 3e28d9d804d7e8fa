import path from "node:path";
import { fileURLToPath } from "node:url";
import { netnsPath } from "@labnet/devstack";
import { execIn } from "./netns";
import { startTestProcess, type TestProcess } from "./processes";

/**
 * Path of the peer script (plain Node, runs in any namespace without tsx). This module is not
 * called `peer.ts`: Vite resolves `./peer` to `peer.mjs` before `peer.ts`.
 */
export const PEER_SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), "peer.mjs");

/** What the peer saw: the source address and port of the caller, after any NAT on the way. */
export interface PeerReply {
  protocol: "tcp" | "udp";
  address: string;
  port: number;
  data: string;
  /** The peer's `label`, when it was started with one. */
  name?: string;
}

/**
 * Starts the echo peer in a namespace, listening on the given TCP and/or UDP ports, and waits
 * until it is ready. It answers each connection/datagram with the source it saw.
 */
export async function startPeer(
  netns: string,
  options: { tcpPort?: number; udpPort?: number; host?: string; name?: string; label?: string },
): Promise<TestProcess> {
  const argv = ["nsenter", `--net=${netnsPath(netns)}`, "--", process.execPath, PEER_SCRIPT, "serve"];
  if (options.host) {
    argv.push("--host", options.host);
  }
  if (options.label) {
    argv.push("--name", options.label);
  }
  if (options.tcpPort !== undefined) {
    argv.push("--tcp", String(options.tcpPort));
  }
  if (options.udpPort !== undefined) {
    argv.push("--udp", String(options.udpPort));
  }
  const peer = startTestProcess(options.name ?? `peer-${netns}`, argv);
  await peer.waitForOutput(/^ready$/, 10_000);
  return peer;
}

/**
 * Calls a peer from a namespace. Returns what the peer saw, or undefined when no reply came
 * (refused, filtered, timed out): the caller decides whether that was expected.
 *
 * @example
 * const reply = await callPeer(nodeNetns, host.outsideAddress, { protocol: "tcp", port: 7000 });
 * expect(reply?.address).toBe(host.uplinkAddress); // MASQUERADEd
 */
export async function callPeer(
  fromNetns: string,
  address: string,
  options: { port: number; protocol?: "tcp" | "udp"; timeoutMs?: number; data?: string },
): Promise<PeerReply | undefined> {
  const timeoutMs = options.timeoutMs ?? 3_000;
  const argv = [
    process.execPath,
    PEER_SCRIPT,
    "call",
    options.protocol ?? "tcp",
    address,
    String(options.port),
  ];
  argv.push("--timeout", String(timeoutMs));
  if (options.data) {
    argv.push("--data", options.data);
  }
  const result = await execIn(fromNetns, argv, { timeoutMs: timeoutMs + 5_000 });
  if (result.code !== 0) {
    return undefined;
  }
  return JSON.parse(result.stdout.trim()) as PeerReply;
}
