/**
 * The real docker CLI as a client of Labnet's Engine API facade: a gateway app served on 127.0.0.1
 * (with the hijacked connections `docker exec` uses), and `docker ...` run with DOCKER_HOST naming
 * a machine and the token in DOCKER_CUSTOM_HEADERS, in a config directory of its own (the user's
 * ~/.docker is never read). `requireDockerCli()` fails a suite with a clear message when no docker
 * CLI is installed: these tests never pass without one.
 */
import { execFile, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { serve } from "@hono/node-server";
import { serveDockerUpgrades } from "@labnet/gateway";

/** The docker executable: `LABNET_TEST_DOCKER` or `docker` on PATH. */
export const DOCKER_BIN = process.env.LABNET_TEST_DOCKER ?? "docker";

/** The CLI's version (`28.2.2`); throws saying how to get one when there is none. */
export function requireDockerCli(): string {
  try {
    return execFileSync(DOCKER_BIN, ["version", "--format", "{{.Client.Version}}"], {
      env: { PATH: process.env.PATH ?? "", HOME: "/nonexistent", DOCKER_HOST: "tcp://127.0.0.1:9" },
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
      timeout: 10_000,
    }).trim();
  } catch (error) {
    const out = (error as { stdout?: string }).stdout?.trim();
    if (out) {
      // `docker version` exits 1 when the server is unreachable but prints the client first.
      return out;
    }
    throw new Error(
      `these tests need the docker CLI (the client only, no daemon): install one (Debian: apt-get install docker-cli, or the static binary from Docker's releases into /usr/local/bin) or point LABNET_TEST_DOCKER at it (${String(error)})`,
    );
  }
}

/** What one docker invocation did. */
export interface DockerRun {
  code: number;
  stdout: string;
  stderr: string;
}

export interface DockerClient {
  /** `docker argv…` against the machine, as the token. */
  (
    argv: readonly string[],
    options?: { token?: string; machine?: string; timeoutMs?: number; dockerHost?: string },
  ): Promise<DockerRun>;
  /** DOCKER_HOST for a machine. */
  hostOf(machine: string): string;
  /** The environment a docker invocation gets (for one run elsewhere: a terminal). */
  envOf(machine?: string, token?: string): Record<string, string>;
}

/** A served gateway for docker clients; `close` ends it. */
export interface DockerGateway {
  url: string;
  port: number;
  docker: DockerClient;
  close(): Promise<void>;
}

/** Serves `fetch` (a gateway app's) on 127.0.0.1 for the docker CLI, by default as `token` on `machine`. */
export async function serveDockerGateway(
  fetch: (request: Request) => Response | Promise<Response>,
  defaults: { token: string; machine: string },
): Promise<DockerGateway> {
  const configDir = mkdtempSync(path.join(tmpdir(), "labnet-docker-"));
  writeFileSync(path.join(configDir, "config.json"), "{}\n");
  const { server, port } = await new Promise<{ server: Server; port: number }>((resolve) => {
    const served = serve({ fetch, hostname: "127.0.0.1", port: 0 }, (info: AddressInfo) =>
      resolve({ server: served as Server, port: info.port }),
    );
  });
  serveDockerUpgrades(server, fetch);
  const url = `tcp://127.0.0.1:${port}`;
  const hostOf = (machine: string) => `${url}/docker/${machine}`;
  const envOf = (machine = defaults.machine, token = defaults.token) => ({
    PATH: process.env.PATH ?? "",
    HOME: configDir,
    DOCKER_CONFIG: configDir,
    DOCKER_HOST: hostOf(machine),
    DOCKER_CUSTOM_HEADERS: `Authorization=Bearer ${token}`,
  });
  const docker = ((argv, options = {}) =>
    new Promise<DockerRun>((resolve) => {
      execFile(
        DOCKER_BIN,
        [...argv],
        {
          env: {
            ...envOf(options.machine, options.token),
            ...(options.dockerHost ? { DOCKER_HOST: options.dockerHost } : {}),
          },
          timeout: options.timeoutMs ?? 60_000,
          cwd: "/",
        },
        (error, stdout, stderr) => {
          const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
          resolve({ code, stdout, stderr });
        },
      );
    })) as DockerClient;
  docker.hostOf = hostOf;
  docker.envOf = envOf;
  return {
    url,
    port,
    docker,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
        rmSync(configDir, { recursive: true, force: true });
      }),
  };
}
