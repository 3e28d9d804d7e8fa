/**
 * Gateway workers (services/gateway/src/cluster.ts): with LABNET_GATEWAY_WORKERS=2 the gateway
 * process is a primary with two worker processes on one port. Connections go to both, /metrics
 * adds up the requests of both, a worker that dies is started again while the other serves,
 * and a SIGTERM to the primary ends them all. The real entrypoint as a process; no executor.
 */
import { readdirSync, readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase } from "../helpers/database";
import { type GatewayProcess, startGatewayProcess } from "../helpers/gateway-process";
import { eventually } from "../helpers/kernel-state";

let database: Awaited<ReturnType<typeof createTestDatabase>>;
let gateway: GatewayProcess;

/** The pids of the node processes whose parent is `pid` (not tsx's esbuild service). */
function childrenOf(pid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) {
      continue;
    }
    try {
      // After the command in parentheses: state, then the parent's pid.
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === pid && readFileSync(`/proc/${entry}/comm`, "utf8").trim() === "node") {
        children.push(Number(entry));
      }
    } catch {
      // Gone meanwhile.
    }
  }
  return children.sort((a, b) => a - b);
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** The sum of `labnet_http_requests_total` over the series of `route` and `status`. */
function requestsIn(metrics: string, route: string, status: number): number {
  let total = 0;
  for (const line of metrics.split("\n")) {
    if (
      line.startsWith("labnet_http_requests_total{") &&
      line.includes(`route="${route}"`) &&
      line.includes(`status="${status}"`)
    ) {
      total += Number(line.slice(line.lastIndexOf(" ") + 1));
    }
  }
  return total;
}

beforeAll(async () => {
  database = await createTestDatabase("workers");
  gateway = await startGatewayProcess({
    databaseUrl: database.url,
    name: "gateway-workers",
    env: { LABNET_GATEWAY_WORKERS: "2" },
  });
  await gateway.process.waitForOutput(/^Labnet API serving$/, 60_000);
}, 90_000);

afterAll(async () => {
  await gateway?.process.stop();
  await database?.drop();
});

describe("request bodies over Node's HTTP server", () => {
  const huge = JSON.stringify({ name: "x".repeat(1024 * 1024) });
  const post = (body: string | ReadableStream<Uint8Array>, headers: Record<string, string> = {}) =>
    fetch(`${gateway.base}/v1/networks`, {
      method: "POST",
      headers: { authorization: `Bearer ${gateway.token}`, "content-type": "application/json", ...headers },
      body,
      // A stream goes chunked (Transfer-Encoding), without a Content-Length.
      ...(body instanceof ReadableStream ? { duplex: "half" } : {}),
    } as RequestInit);
  const code = async (res: Response) => ((await res.json()) as { code?: string }).code;

  it("refuses a body over 1 MiB by its Content-Length, and a chunked one as it is read", async () => {
    const sized = await post(huge);
    expect(sized.status).toBe(413);
    expect(await code(sized)).toBe("PAYLOAD_TOO_LARGE");
    const bytes = new TextEncoder().encode(huge);
    const chunked = await post(
      new ReadableStream({
        start(controller) {
          for (let at = 0; at < bytes.length; at += 64 * 1024) {
            controller.enqueue(bytes.subarray(at, at + 64 * 1024));
          }
          controller.close();
        },
      }),
    );
    expect(chunked.status).toBe(413);
    expect(await code(chunked)).toBe("PAYLOAD_TOO_LARGE");
  });

  it("reads bodies under the limit, and requests without one, as before", async () => {
    // The body was read and validated: the missing field is named.
    const small = await post(JSON.stringify({ driver: "bridge" }));
    expect(small.status).toBe(400);
    expect(JSON.stringify(await small.json())).toContain("body.name");
    const none = await gateway.call("DELETE", "/v1/nodes/nod_aaaaaaaaaaaaaaaa");
    expect(none.status).toBe(404);
  });

  it("refuses a body an operation does not take, sized or chunked, and reads none where none came", async () => {
    const remove = (body?: string | ReadableStream<Uint8Array>) =>
      fetch(`${gateway.base}/v1/nodes/nod_aaaaaaaaaaaaaaaa`, {
        method: "DELETE",
        headers: { authorization: `Bearer ${gateway.token}`, "content-type": "application/json" },
        ...(body === undefined ? {} : { body }),
        ...(body instanceof ReadableStream ? { duplex: "half" } : {}),
      } as RequestInit);
    const sized = await remove(JSON.stringify({ force: true }));
    expect(sized.status).toBe(400);
    expect(JSON.stringify(await sized.json())).toContain("is not taken by this operation");
    const chunked = await remove(
      new ReadableStream({
        start(controller) {
          controller.enqueue(new TextEncoder().encode('{"force":true}'));
          controller.close();
        },
      }),
    );
    expect(chunked.status).toBe(400);
    // No body: the request goes on to the lookup.
    expect((await remove()).status).toBe(404);
  });
});

describe("LABNET_GATEWAY_WORKERS=2", () => {
  it("serves from two worker processes and /metrics counts the requests of both", {
    timeout: 60_000,
  }, async () => {
    const workers = childrenOf(gateway.process.pid);
    expect(workers).toHaveLength(2);
    // A connection each, so the primary hands them to the workers in turn.
    const calls = 40;
    for (let i = 0; i < calls; i++) {
      const answer = await gateway.call("GET", "/v1/hosts", undefined, { connection: "close" });
      expect(answer.status).toBe(200);
    }
    // Each worker counts its own; the one answering the scrape adds the other's latest snapshot.
    const counted = await eventually(
      async () => {
        const res = await fetch(`${gateway.base}/metrics`, {
          headers: { connection: "close", authorization: `Bearer ${gateway.token}` },
        });
        expect(res.status).toBe(200);
        const seen = requestsIn(await res.text(), "/v1/hosts", 200);
        return seen >= calls ? seen : undefined;
      },
      15_000,
      "both workers' requests in /metrics",
    );
    expect(counted).toBe(calls);
    expect(gateway.contractMismatches()).toEqual([]);
  });

  it("starts a worker that died again while the other serves", { timeout: 60_000 }, async () => {
    const [victim, survivor] = childrenOf(gateway.process.pid);
    expect(victim && survivor).toBeTruthy();
    process.kill(victim as number, "SIGKILL");
    // Once the primary has reaped it, every connection goes to the survivor meanwhile.
    await eventually(
      async () => (childrenOf(gateway.process.pid).includes(victim as number) ? undefined : true),
      15_000,
      "the primary to see it die",
    );
    for (let i = 0; i < 6; i++) {
      const res = await fetch(`${gateway.base}/v1/healthz`, {
        headers: { connection: "close" },
        signal: AbortSignal.timeout(5_000),
      });
      expect(res.status).toBe(200);
    }
    const replaced = await eventually(
      async () => {
        const now = childrenOf(gateway.process.pid);
        return now.length === 2 && !now.includes(victim as number) ? now : undefined;
      },
      15_000,
      "a new worker",
    );
    expect(replaced).toContain(survivor);
    await eventually(
      async () => {
        const answers = await Promise.all(
          Array.from({ length: 6 }, () =>
            gateway.call("GET", "/v1/hosts", undefined, { connection: "close" }),
          ),
        );
        return answers.every((a) => a.status === 200) ? true : undefined;
      },
      15_000,
      "the new worker serving",
    );
    // Announced once, when all first served: a restart is no news to whoever waits for it.
    expect(gateway.process.output().match(/^Labnet API serving$/gm)).toHaveLength(1);
  });

  it("ends every worker on SIGTERM to the primary", async () => {
    const workers = childrenOf(gateway.process.pid);
    const status = await gateway.process.stop("SIGTERM");
    expect(status.code).toBe(0);
    await eventually(
      async () => (workers.every((pid) => !alive(pid)) ? true : undefined),
      15_000,
      "the workers gone",
    );
  });
});
