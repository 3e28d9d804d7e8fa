/**
 * `POST /v1/nodes/{nodeId}/exec` and `POST /v1/machines/{machineId}/exec`: one allow-listed
 * diagnostics command (packages/queue exec-argv.ts) run by the machine's executor inside the
 * node's or the machine's namespace (`host.exec`). The allow-list is checked here first, so a
 * refused command is a 422 naming its argument and nothing is queued; the executor checks again
 * before it spawns. With `Accept: text/event-stream` the output streams as it comes: the gateway
 * subscribes to the request's channel (a duplicated Redis connection) before queueing it.
 */
import { randomUUID } from "node:crypto";
import { basename } from "node:path";
import type { Schema } from "@labnet/api";
import { resolveNode } from "@labnet/commands";
import { type HostRow, nodeDetailsByIds } from "@labnet/db";
import {
  checkExecArgv,
  DEFAULT_EXEC_TIMEOUT_MS,
  type ExecChunk,
  type ExecRequest,
  type ExecResult,
  type ExecTarget,
  execPlaceOf,
  HostRequestError,
} from "@labnet/queue";
import type { Context } from "hono";
import { type SSEStreamingApi, streamSSE } from "hono/streaming";
import type { GatewayApp, GatewayEnv } from "../app";
import { registerOperation } from "../http/openapi-router";
import { invalidField, ProblemError } from "../http/problem";
import type { AppDeps } from "./deps";
import { resolveMachine } from "./machine-kernel";

/** Where a command goes: the machine, the queue of its lab host, and the namespace. */
export interface ExecPlacement {
  machine: HostRow;
  queueHostId: string;
  target: ExecTarget;
}

/** A machine's own namespace: the lab host's (the executor's) or a virtual machine's. */
export function machinePlacement(machine: HostRow): ExecPlacement {
  if (machine.parentHostId === null) {
    return { machine, queueHostId: machine.id, target: { labHost: true } };
  }
  if (machine.netnsPath === null) {
    throw new ProblemError({ code: "CONFLICT", detail: `machine ${machine.name} has no namespace yet` });
  }
  return { machine, queueHostId: machine.parentHostId, target: { machine: basename(machine.netnsPath) } };
}

/**
 * A node's namespace (its own, or in mode `container:` the one it shares) on its machine; a node
 * in mode `host` is its machine's namespace.
 */
export async function nodePlacement(
  deps: Pick<AppDeps, "db">,
  ref: string,
): Promise<ExecPlacement & { node: { id: string; name: string; netns?: string } }> {
  const row = await resolveNode(deps.db, ref);
  const [details] = await nodeDetailsByIds(deps.db, [row.id]);
  const machine = await resolveMachine(deps, row.hostId);
  const node = { id: row.id, name: row.name };
  if (row.networkMode === "host") {
    return { ...machinePlacement(machine), node };
  }
  const key = details?.sandboxKey ?? "";
  if (!key.startsWith("/run/netns/")) {
    throw new ProblemError({ code: "CONFLICT", detail: `node ${row.name} has no namespace yet` });
  }
  const netns = basename(key);
  return {
    machine,
    queueHostId: machine.parentHostId ?? machine.id,
    target: { node: netns },
    node: { ...node, netns },
  };
}

type ExecBody = Schema<"ExecRequest">;

export function registerExecRoutes(app: GatewayApp, deps: AppDeps): void {
  registerOperation(app, "execInNode", async (c, input) => {
    const placement = await nodePlacement(deps, input.params.nodeId);
    return execute(c, deps, placement, input.body);
  });

  registerOperation(app, "execInMachine", async (c, input) => {
    const placement = machinePlacement(await resolveMachine(deps, input.params.machineId));
    return execute(c, deps, placement, input.body);
  });
}

function hostUnavailable(placement: ExecPlacement, error: HostRequestError): ProblemError {
  return new ProblemError({
    code: "HOST_UNAVAILABLE",
    detail: `the command did not run on machine ${placement.machine.name}: ${error.message}`,
    cause: error,
  });
}

async function execute(
  c: Context<GatewayEnv>,
  deps: AppDeps,
  placement: ExecPlacement,
  body: ExecBody,
): Promise<Response> {
  const refusal = checkExecArgv(body.argv, execPlaceOf(placement.target));
  if (refusal !== undefined) {
    throw invalidField(
      refusal.index === undefined ? "body.argv" : `body.argv[${refusal.index}]`,
      refusal.message,
    );
  }
  const request = {
    hostId: placement.machine.id,
    queueHostId: placement.queueHostId,
    target: placement.target,
    argv: body.argv,
    timeoutMs: body.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS,
  };
  if (!(c.req.header("accept") ?? "").includes("text/event-stream")) {
    try {
      return c.json(await deps.executor.exec(request), 200);
    } catch (error) {
      throw error instanceof HostRequestError ? hostUnavailable(placement, error) : error;
    }
  }
  const output = await subscribeExecOutput(deps);
  return streamSSE(c, async (stream) => {
    const lines = new LineEvents(stream);
    let result: ExecResult;
    try {
      result = await output.run(request, (chunk) => lines.add(chunk.stream, chunk.data));
    } catch (error) {
      const problem = error instanceof HostRequestError ? hostUnavailable(placement, error) : undefined;
      await stream.writeSSE({ event: "error", data: problem?.detail ?? "the command failed" });
      return;
    }
    await lines.flush();
    await stream.writeSSE({ event: "exit", data: JSON.stringify(result) });
  });
}

/** A command's output channel, subscribed: run the command once through it. */
export interface ExecOutput {
  /**
   * Queues the (allow-listed, checked by the caller) command on its machine's executor and hands
   * each output chunk to `onChunk` as it comes; resolves with the result once the chunks still in
   * flight arrived (rejects with the executor's HostRequestError). Unsubscribes either way.
   */
  run(
    request: Omit<ExecRequest, "requestId" | "stream">,
    onChunk: (chunk: { stream: "stdout" | "stderr"; data: string }) => void,
  ): Promise<ExecResult>;
}

/**
 * Subscribes to a new request's output channel (a duplicated Redis connection) before anything is
 * queued, so no chunk is missed; a HOST_UNAVAILABLE problem when the queue is unreachable.
 */
export async function subscribeExecOutput(deps: Pick<AppDeps, "redis" | "executor">): Promise<ExecOutput> {
  const requestId = randomUUID();
  // A connection of its own: a subscribed connection serves nothing else.
  const subscriber = deps.redis.duplicate({ enableOfflineQueue: true, maxRetriesPerRequest: 1 });
  subscriber.on("error", () => undefined);
  try {
    await subscriber.subscribe(deps.executor.channelOf(requestId));
  } catch (error) {
    subscriber.disconnect();
    throw new ProblemError({ code: "HOST_UNAVAILABLE", detail: "the queue is unreachable", cause: error });
  }
  return {
    run: async (request, onChunk) => {
      let ended: () => void = () => undefined;
      const end = new Promise<void>((resolve) => {
        ended = resolve;
      });
      subscriber.on("message", (_channel: string, message: string) => {
        const chunk = parseChunk(message);
        if (chunk === undefined) {
          return;
        }
        if ("end" in chunk) {
          ended();
        } else {
          onChunk(chunk);
        }
      });
      try {
        const result = await deps.executor.exec({ ...request, requestId, stream: true });
        // The end marker follows the last chunk on the executor's connection; the answer travels
        // another way, so wait a moment for the chunks still in flight.
        await Promise.race([end, new Promise((r) => setTimeout(r, 1_000))]);
        return result;
      } finally {
        subscriber.disconnect();
      }
    },
  };
}

function parseChunk(message: string): ExecChunk | undefined {
  try {
    const value = JSON.parse(message) as ExecChunk;
    return typeof value === "object" && value !== null ? value : undefined;
  } catch {
    return undefined;
  }
}

/** Splits each stream's chunks into lines, one SSE event per line, written in order. */
class LineEvents {
  readonly #partial = { stdout: "", stderr: "" };
  #writing: Promise<unknown> = Promise.resolve();

  constructor(private readonly stream: SSEStreamingApi) {}

  add(name: "stdout" | "stderr", data: string): void {
    const text = this.#partial[name] + data;
    const parts = text.split("\n");
    this.#partial[name] = parts.pop() ?? "";
    for (const line of parts) {
      this.#write(name, line);
    }
  }

  async flush(): Promise<void> {
    for (const name of ["stdout", "stderr"] as const) {
      if (this.#partial[name] !== "") {
        this.#write(name, this.#partial[name]);
        this.#partial[name] = "";
      }
    }
    await this.#writing;
  }

  #write(event: "stdout" | "stderr", line: string): void {
    const data = line.replace(/\r$/, "");
    this.#writing = this.#writing.then(() => this.stream.writeSSE({ event, data })).catch(() => undefined);
  }
}
