import type { Schema } from "@labnet/api";
import { anyOf, nodeDetailsByIds, schema } from "@labnet/db";
import { HostInspectError } from "@labnet/queue";
import type { GatewayApp } from "../app";
import { registerOperation } from "../http/openapi-router";
import { ProblemError } from "../http/problem";
import { nodeKernelDrift } from "../views/node-kernel-drift";
import type { AppDeps } from "./deps";
import { nodePlacement } from "./exec";
import { KERNEL_VIEW_TIMEOUT_MS } from "./machine-kernel";

type NodeKernel = Schema<"NodeKernel">;
type NodeKernelAnswer = Pick<NodeKernel, "interfaces" | "routes" | "neighbours" | "resolvConf" | "hosts">;

/**
 * `GET /v1/nodes/{nodeId}/kernel`: the kernel truth of a node, read inside its namespace by its
 * lab host's executor (`host.inspect` with the node's netns), and its drift from what Postgres
 * records of its endpoints.
 */
export function registerNodeKernelRoutes(app: GatewayApp, deps: AppDeps): void {
  registerOperation(app, "getNodeKernel", async (c, input) => {
    const placement = await nodePlacement(deps, input.params.nodeId);
    const target = placement.target;
    if ("labHost" in target) {
      throw new ProblemError({
        code: "CONFLICT",
        detail: `node ${placement.node.name} is in mode host: its kernel is machine ${placement.machine.name}'s (GET /v1/machines/{machineId}/kernel)`,
      });
    }
    const netns = "node" in target ? target.node : target.machine;
    let answer: unknown;
    try {
      answer = await deps.inspector.inspect(
        { hostId: placement.machine.id, queueHostId: placement.queueHostId, netns },
        KERNEL_VIEW_TIMEOUT_MS,
      );
    } catch (error) {
      if (error instanceof HostInspectError) {
        throw new ProblemError({
          code: "HOST_UNAVAILABLE",
          detail: `no kernel view of node ${placement.node.name}: ${error.message}`,
          cause: error,
        });
      }
      throw error;
    }
    const kernel = asNodeKernel(answer);
    const [details] = await nodeDetailsByIds(deps.db, [placement.node.id]);
    const endpoints = details?.endpoints ?? [];
    const networkIds = [...new Set(endpoints.map((e) => e.networkId))];
    const drivers = new Map(
      networkIds.length === 0
        ? []
        : (
            await deps.db
              .select({ id: schema.networks.id, driver: schema.networks.driver })
              .from(schema.networks)
              .where(anyOf(schema.networks.id, networkIds))
          ).map((n) => [n.id, n.driver]),
    );
    const view: NodeKernel = {
      node: { id: placement.node.id, name: placement.node.name },
      machine: { id: placement.machine.id, name: placement.machine.name },
      observedAt: new Date().toISOString(),
      ...kernel,
      drift: nodeKernelDrift(
        endpoints.map((e) => ({ ...e, driver: drivers.get(e.networkId) ?? "bridge" })),
        kernel,
      ),
    };
    return c.json(view, 200);
  });
}

/** The executor's answer, checked for its parts (it crossed Redis as JSON). */
function asNodeKernel(answer: unknown): NodeKernelAnswer {
  const record = typeof answer === "object" && answer !== null ? (answer as Record<string, unknown>) : {};
  if (
    !["interfaces", "routes", "neighbours"].every((key) => Array.isArray(record[key])) ||
    typeof record.resolvConf !== "string" ||
    typeof record.hosts !== "string"
  ) {
    throw new Error("the executor's node kernel view has an unexpected shape");
  }
  const { interfaces, routes, neighbours, resolvConf, hosts } = record as unknown as NodeKernelAnswer;
  return { interfaces, routes, neighbours, resolvConf, hosts };
}
