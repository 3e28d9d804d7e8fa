import type { Schema } from "@labnet/api";
import { DomainError, notFound, resolveHost } from "@labnet/commands";
import type { HostRow } from "@labnet/db";
import { HostInspectError } from "@labnet/queue";
import type { GatewayApp } from "../app";
import { registerOperation } from "../http/openapi-router";
import { ProblemError } from "../http/problem";
import type { AppDeps } from "./deps";

/** How long a kernel view waits for the machine's executor before answering 503. */
export const KERNEL_VIEW_TIMEOUT_MS = 5_000;

type KernelView = Omit<Schema<"MachineKernel">, "machine" | "observedAt">;

/**
 * `GET /v1/machines/{machineId}/kernel`: the kernel truth of a machine, read by the executor
 * that manages it (the gateway cannot see that kernel) through a `host.inspect` request on
 * the lab host's queue. Never from Postgres: Postgres only says which machine and which queue.
 */
export function registerMachineKernelRoutes(app: GatewayApp, deps: AppDeps): void {
  registerOperation(app, "getMachineKernel", async (c, input) => {
    const machine = await resolveMachine(deps, input.params.machineId);
    let answer: unknown;
    try {
      answer = await deps.inspector.inspect(
        { hostId: machine.id, queueHostId: labHostOf(machine) },
        KERNEL_VIEW_TIMEOUT_MS,
      );
    } catch (error) {
      if (error instanceof HostInspectError) {
        throw new ProblemError({
          code: "HOST_UNAVAILABLE",
          detail: `no kernel view of machine ${machine.name}: ${error.message}`,
          cause: error,
        });
      }
      throw error;
    }
    const view: Schema<"MachineKernel"> = {
      machine: { id: machine.id, name: machine.name },
      observedAt: new Date().toISOString(),
      ...asKernelView(answer),
    };
    return c.json(view, 200);
  });
}

/** The machine by id or name; 404 names it a machine (a lab host is a machine of its own). */
export async function resolveMachine(deps: Pick<AppDeps, "db">, ref: string): Promise<HostRow> {
  try {
    return await resolveHost(deps.db, ref, "path.machineId");
  } catch (error) {
    if (error instanceof DomainError && error.code === "NOT_FOUND") {
      throw notFound("machine", ref, "path.machineId");
    }
    throw error;
  }
}

/**
 * The lab host whose executor answers for `machine`: its parent for a virtual machine, itself
 * for a lab host. (Read without assuming the column, which arrives with virtual machines.)
 */
function labHostOf(machine: HostRow): string {
  return "parentHostId" in machine && typeof machine.parentHostId === "string"
    ? machine.parentHostId
    : machine.id;
}

/** The executor's answer, checked for the parts every view has (it crossed Redis as JSON). */
function asKernelView(answer: unknown): KernelView {
  const record = typeof answer === "object" && answer !== null ? (answer as Record<string, unknown>) : {};
  const lists = ["interfaces", "routes", "bridges", "fdb"] as const;
  if (
    !lists.every((key) => Array.isArray(record[key])) ||
    typeof record.iptables !== "object" ||
    typeof record.sysctls !== "object"
  ) {
    throw new Error("the executor's kernel view has an unexpected shape");
  }
  return record as unknown as KernelView;
}
