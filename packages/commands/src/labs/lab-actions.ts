import {
  findHost,
  findLab,
  findNetworks,
  findNodes,
  instancesOfLab,
  LAB_INSTANCE_LABEL,
  type LabInstanceRow,
  type LabRow,
  labResources,
  schema,
} from "@labnet/db";
import { expandSolution, type LabTemplate, type SolutionStep } from "@labnet/labs";
import { and, eq, isNotNull, lt, sql } from "drizzle-orm";
import type { CommandContext } from "../context";
import { connectNode } from "../endpoints/connect-node";
import { disconnectNode } from "../endpoints/disconnect-node";
import { DomainError, notFound } from "../errors";
import { deleteMachine } from "../machines/delete-machine";
import { createNetwork } from "../networks/create-network";
import { deleteNetwork } from "../networks/delete-network";
import { createNode } from "../nodes/create-node";
import { deleteNode } from "../nodes/delete-node";
import { publishPorts } from "../ports/publish-ports";
import { namingOf, provisionInstance } from "./create-lab";

/** The lab `ref` names, refused while it is being removed. */
export async function resolveLab(ctx: CommandContext, ref: string, location = "path.labId"): Promise<LabRow> {
  const lab = await findLab(ctx.db, ref);
  if (!lab) {
    throw notFound("lab", ref, location);
  }
  return lab;
}

/** The lab's instances that `refs` name (instance ids or students); all of them when undefined. */
export async function selectInstances(
  ctx: CommandContext,
  lab: LabRow,
  refs: readonly string[] | undefined,
  location = "body.instances",
): Promise<LabInstanceRow[]> {
  const instances = await instancesOfLab(ctx.db, lab.id);
  if (refs === undefined) {
    return instances;
  }
  return refs.map((ref, i) => {
    const found = instances.find((instance) => instance.id === ref || instance.student === ref);
    if (!found) {
      throw notFound("lab instance", ref, `${location}[${i}]`);
    }
    return found;
  });
}

/** Applies the template's solution to each instance: what the instructor's answer key does. */
export async function solveInstances(
  ctx: CommandContext,
  lab: LabRow,
  instances: readonly LabInstanceRow[],
): Promise<Map<string, string | undefined>> {
  const template = lab.spec as unknown as LabTemplate;
  const outcome = new Map<string, string | undefined>();
  for (const instance of instances) {
    try {
      const naming = namingOf(lab, instance);
      for (const step of expandSolution(template, naming)) {
        await applyStep(ctx, step);
      }
      outcome.set(instance.id, undefined);
    } catch (error) {
      const problem = `solution: ${error instanceof Error ? error.message : String(error)}`;
      outcome.set(instance.id, problem);
      await ctx.db
        .update(schema.labInstances)
        .set({ problem, updatedAt: sql`now()` })
        .where(eq(schema.labInstances.id, instance.id));
    }
  }
  return outcome;
}

/**
 * Puts an instance back to the template's start (also how a failed one is retried): its
 * machines are removed with everything on them and a new generation is recorded beside them,
 * so the student gets the template's exact start state while the old one is torn down.
 */
export async function rebuildInstance(
  ctx: CommandContext,
  lab: LabRow,
  instance: LabInstanceRow,
): Promise<LabInstanceRow> {
  await removeInstanceMachines(ctx, instance);
  const [next] = await ctx.db
    .update(schema.labInstances)
    .set({ generation: sql`${schema.labInstances.generation} + 1`, problem: null, updatedAt: sql`now()` })
    .where(eq(schema.labInstances.id, instance.id))
    .returning();
  if (!next) {
    throw notFound("lab instance", instance.id);
  }
  const host = await findHost(ctx.db, next.hostId);
  if (!host) {
    throw new DomainError("NO_HOST", `the lab host of instance ${instance.student} is gone`);
  }
  await provisionInstance(ctx, lab, next, host, lab.spec as unknown as LabTemplate);
  return next;
}

/**
 * Removes a lab: every instance's machines (with everything on them) go; the lab's record goes
 * once they are gone (sweepLabs).
 */
export async function deleteLab(ctx: CommandContext, lab: LabRow): Promise<LabRow> {
  const [marked] = await ctx.db
    .update(schema.labs)
    .set({ state: "deleting", updatedAt: sql`now()` })
    .where(eq(schema.labs.id, lab.id))
    .returning();
  for (const instance of await instancesOfLab(ctx.db, lab.id)) {
    await removeInstanceMachines(ctx, instance);
  }
  return marked ?? lab;
}

/**
 * The controller's round for labs: expired labs are deleted, and labs being deleted whose
 * machines are all gone lose their record. Returns the ids of labs it removed.
 */
export async function sweepLabs(ctx: CommandContext): Promise<string[]> {
  const expired = await ctx.db
    .select()
    .from(schema.labs)
    .where(
      and(
        eq(schema.labs.state, "active"),
        isNotNull(schema.labs.expiresAt),
        lt(schema.labs.expiresAt, sql`now()`),
      ),
    );
  for (const lab of expired) {
    await deleteLab(ctx, lab);
  }
  const deleting = await ctx.db.select().from(schema.labs).where(eq(schema.labs.state, "deleting"));
  const removed: string[] = [];
  for (const lab of deleting) {
    const instances = await instancesOfLab(ctx.db, lab.id);
    const { machines } = await labResources(
      ctx.db,
      instances.map((i) => i.id),
    );
    if (machines.length === 0) {
      await ctx.db.delete(schema.labs).where(eq(schema.labs.id, lab.id));
      removed.push(lab.id);
    } else {
      // A machine whose removal was interrupted (or recorded before a restart) is asked again.
      for (const machine of machines.filter((m) => m.state !== "deleting")) {
        await deleteMachine({ ctx, ref: machine.id, force: true }).catch(() => undefined);
      }
    }
  }
  return removed;
}

async function removeInstanceMachines(ctx: CommandContext, instance: LabInstanceRow): Promise<void> {
  const machines = await ctx.db
    .select({ id: schema.hosts.id, state: schema.hosts.state })
    .from(schema.hosts)
    .where(eq(sql<string>`${schema.hosts.labels} ->> ${LAB_INSTANCE_LABEL}`, instance.id));
  for (const machine of machines) {
    if (machine.state !== "deleting") {
      await deleteMachine({ ctx, ref: machine.id, force: true });
    }
  }
}

/** One solution step through the commands, names resolved on the step's machine. */
async function applyStep(ctx: CommandContext, step: SolutionStep): Promise<void> {
  const machine = await findHost(ctx.db, step.machine);
  if (!machine) {
    throw new Error(`machine ${step.machine} of the instance is gone`);
  }
  const networkId = async (name: string) => (await findNetworks(ctx.db, name, machine.id))[0]?.id ?? name;
  const nodeId = async (name: string) => (await findNodes(ctx.db, name, machine.id))[0]?.id ?? name;
  switch (step.kind) {
    case "connect":
      await connectNode({
        ctx,
        input: {
          ...step.request,
          network: await networkId(step.network),
          node: await nodeId(step.request.node),
        },
      });
      return;
    case "disconnect":
      await disconnectNode({
        ctx,
        input: { network: await networkId(step.network), node: await nodeId(step.request.node) },
      });
      return;
    case "createNetwork":
      await createNetwork({ ctx, input: step.request });
      return;
    case "deleteNetwork":
      await deleteNetwork({ ctx, ref: await networkId(step.name), force: true });
      return;
    case "createNode":
      await createNode({ ctx, input: step.request });
      return;
    case "deleteNode":
      await deleteNode({ ctx, ref: await nodeId(step.name) });
      return;
    case "publish":
      await publishPorts({ ctx, ref: await nodeId(step.node), input: { ports: step.ports } });
      return;
  }
}
