import { execFile } from "node:child_process";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { serve } from "@hono/node-server";
import { runCli } from "@labnet/cli";
import { REPO_ROOT } from "@labnet/devstack";

/** What one `labnet` invocation did. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** The `labnet` executable (what `npm link` / node_modules/.bin point at). */
export const LABNET_BIN = path.join(REPO_ROOT, "packages", "cli", "bin", "labnet.js");

/**
 * Runs `labnet argv…` in this process against `fetch` (an in-process gateway's app.fetch):
 * the command tree, flags, output and exit codes, without a network.
 */
export async function runLabnet(
  argv: readonly string[],
  options: {
    fetch: (request: Request) => Response | Promise<Response>;
    env?: NodeJS.ProcessEnv;
    home?: string;
  },
): Promise<CliRun> {
  let stdout = "";
  let stderr = "";
  const code = await runCli(argv, {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    env: options.env ?? {},
    home: options.home ?? "/nonexistent",
    fetch: options.fetch,
    pollMs: 100,
  });
  return { code, stdout, stderr };
}

/** Runs the real `labnet` executable (a child process, no shell) and collects what it printed. */
export function spawnLabnet(
  argv: readonly string[],
  options: { env: NodeJS.ProcessEnv; timeoutMs?: number },
): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [LABNET_BIN, ...argv],
      { env: options.env, timeout: options.timeoutMs ?? 60_000, cwd: "/" },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Serves an in-process app on 127.0.0.1 (a random port), for clients in other processes. */
export async function serveOnLoopback(
  fetch: (request: Request) => Response | Promise<Response>,
): Promise<{ url: string; close(): Promise<void> }> {
  return new Promise((resolve) => {
    const server = serve({ fetch, hostname: "127.0.0.1", port: 0 }, (info: AddressInfo) => {
      resolve({
        url: `http://127.0.0.1:${info.port}`,
        close: () => new Promise<void>((done) => server.close(() => done())),
      });
    });
  });
}
