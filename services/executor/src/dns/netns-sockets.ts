import { type ChildProcess, spawn } from "node:child_process";
import type { Socket } from "node:dgram";
import type { Server } from "node:net";
import { fileURLToPath } from "node:url";
import type { SocketBinder } from "./sockets";

const HELPER = fileURLToPath(new URL("./netns-socket-helper.mjs", import.meta.url));
const NETNS_PATH = /^\/run\/netns\/[a-zA-Z0-9_.-]+$/;
/** A bind that takes longer than this failed (the helper is restarted on the next one). */
const BIND_TIMEOUT_MS = 10_000;

interface Pending {
  resolve(handle: unknown): void;
  reject(error: Error): void;
}

/**
 * Sockets bound inside another network namespace (a virtual machine's): Node cannot enter a
 * namespace, so a short-lived helper started there with `nsenter --net=` binds them and hands
 * them over IPC (DESIGN §8). One helper at a time per namespace, started when a socket is
 * asked for and gone when idle; the sockets stay with this process.
 */
export function netnsSockets(netnsPath: string): SocketBinder {
  if (!NETNS_PATH.test(netnsPath)) {
    throw new Error(`invalid netns path: ${JSON.stringify(netnsPath)}`);
  }
  let child: ChildProcess | undefined;
  let nextId = 0;
  const pending = new Map<number, Pending>();

  const helper = (): ChildProcess => {
    if (child && child.exitCode === null && child.connected) {
      return child;
    }
    const started = spawn("nsenter", [`--net=${netnsPath}`, "--", process.execPath, HELPER], {
      shell: false,
      stdio: ["ignore", "ignore", "pipe", "ipc"],
    });
    let stderr = "";
    started.stderr?.on("data", (chunk: Buffer) => {
      stderr = (stderr + chunk.toString("utf8")).slice(-2_000);
    });
    started.on("message", (message: { id: number; error?: string }, handle: unknown) => {
      const waiter = pending.get(message.id);
      pending.delete(message.id);
      if (message.error !== undefined || handle === undefined) {
        waiter?.reject(new Error(message.error ?? "no socket handed over"));
      } else {
        waiter?.resolve(handle);
      }
    });
    started.on("exit", (code) => {
      for (const [id, waiter] of pending) {
        pending.delete(id);
        waiter.reject(new Error(`socket helper in ${netnsPath} exited (${code}): ${stderr.trim()}`));
      }
    });
    started.on("error", () => undefined);
    child = started;
    return started;
  };

  const ask = (kind: "udp" | "tcp", address: string, port: number): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error(`binding ${kind} ${address}:${port} in ${netnsPath} timed out`));
      }, BIND_TIMEOUT_MS);
      pending.set(id, {
        resolve: (handle) => {
          clearTimeout(timer);
          resolve(handle);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      helper().send({ id, kind, address, port }, (error) => {
        if (error) {
          pending.get(id)?.reject(error);
          pending.delete(id);
        }
      });
    });

  return {
    udp: async (address, port) => (await ask("udp", address, port)) as Socket,
    tcp: async (address, port) => (await ask("tcp", address, port)) as Server,
    close() {
      if (child && child.exitCode === null) {
        child.kill("SIGTERM");
      }
    },
  };
}
