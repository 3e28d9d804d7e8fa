import {
  constraintViolation,
  type HostRow,
  ipamConfigsOfNetwork,
  LAB_INSTANCE_LABEL,
  LAB_LABEL,
  type LabInstanceRow,
  type LabRow,
  newId,
  pickLeastLoadedHost,
  schema,
} from "@labnet/db";
import { formatIpv4, requireCidr, requireIpv4, translateAddress } from "@labnet/ipam";
import { expandInstance, type InstanceNaming, type LabTemplate } from "@labnet/labs";
import { eq, sql } from "drizzle-orm";
import type { CommandContext } from "../context";
import { DomainError, invalidField } from "../errors";
import { createMachine, DEFAULT_LAN_POOLS, LAN_LABEL } from "../machines/create-machine";
import { createNetwork } from "../networks/create-network";
import { createNode } from "../nodes/create-node";
import { resolveHost } from "../resolve";
import { resolveLabTemplate } from "./lab-templates";

/** A lab name is part of its machines' names: a short DNS label. */
const LAB_NAME = /^[a-z0-9]([a-z0-9-]{0,22}[a-z0-9])?$/;
/** A student is named in their machines' names too. */
const STUDENT_NAME = /^[a-z0-9]([a-z0-9-]{0,18}[a-z0-9])?$/;
export const MAX_STUDENTS = 200;
/** Instances provisioned at once (each is a handful of short transactions). */
const INSTANCES_AT_ONCE = 4;
/** The subnet a template's machine addresses are written in when it names no LAN. */
const TEMPLATE_LAN = "10.0.0.0/24";

export interface CreateLabInput {
  name: string;
  /** `builtin:<name>`, `<name>` (latest version) or `<name>@<version>`. */
  template: string;
  /** One instance per student (names as in a class list), or `count` students s01, s02, ... */
  students?: string[];
  count?: number;
  /** The lab host to put every instance on (default: the least loaded, per instance). */
  host?: string;
  /** Torn down this long after creation. */
  ttlSeconds?: number;
  labels?: Record<string, string>;
  /** The account that owns the lab and its machines (its instructor's). */
  ownerId?: string | null;
}

/**
 * Records a lab and provisions one instance per student: each gets machines of its own (the
 * template's, on a LAN of its own), then the template's networks and nodes on them, all
 * recorded in this call (the kernel work follows, converged per machine). A student whose
 * instance cannot be recorded is reported on that instance; the others go on.
 */
export async function createLab({
  ctx,
  input,
}: {
  ctx: CommandContext;
  input: CreateLabInput;
}): Promise<LabRow> {
  if (!LAB_NAME.test(input.name)) {
    throw invalidField("body.name", "a lab name is a DNS label of at most 24 characters");
  }
  const students = studentsOf(input);
  const resolved = await resolveLabTemplate(ctx, input.template);
  const host = input.host ? await resolveHost(ctx.db, input.host) : undefined;
  if (host && host.kind !== "lab") {
    throw invalidField("body.host", `${host.name} is a virtual machine: labs go on lab hosts`);
  }
  const firstHost = host ?? (await pickLeastLoadedHost(ctx.db));
  if (!firstHost) {
    throw new DomainError("NO_HOST", "no lab host is online: start an executor first");
  }
  let lab: LabRow;
  let instances: LabInstanceRow[];
  try {
    // The lab and every instance in one transaction: the gateway's quota check at its end
    // refuses a lab past the account's labs or instances whole, before anything is built.
    ({ lab, instances } = await ctx.db.transaction(async (tx) => {
      const [row] = await tx
        .insert(schema.labs)
        .values({
          id: newId("lab"),
          name: input.name,
          templateName: resolved.name,
          templateVersion: resolved.version,
          spec: resolved.template as unknown as Record<string, unknown>,
          hostId: host?.id ?? null,
          ownerId: input.ownerId ?? null,
          expiresAt: input.ttlSeconds ? sql`now() + make_interval(secs => ${input.ttlSeconds})` : null,
          labels: input.labels ?? {},
        })
        .returning();
      if (!row) {
        throw new Error("inserting a lab returned no row");
      }
      const rows = await tx
        .insert(schema.labInstances)
        .values(
          students.map((student) => ({
            id: newId("labInstance"),
            labId: row.id,
            student,
            hostId: firstHost.id,
          })),
        )
        .returning();
      return { lab: row, instances: rows };
    }));
  } catch (error) {
    if (constraintViolation(error)?.constraint === "labs_name_unique") {
      throw new DomainError("NAME_CONFLICT", `a lab named ${input.name} exists`, [
        { location: "body.name", message: "name taken" },
      ]);
    }
    throw error;
  }
  const queue = [...instances];
  const workers = Array.from({ length: Math.min(INSTANCES_AT_ONCE, queue.length) }, async () => {
    for (let instance = queue.shift(); instance !== undefined; instance = queue.shift()) {
      // Placed as it is built, on the host least loaded by then (the instances before it count).
      const placed = host ?? (await pickLeastLoadedHost(ctx.db)) ?? firstHost;
      if (placed.id !== instance.hostId) {
        await ctx.db
          .update(schema.labInstances)
          .set({ hostId: placed.id })
          .where(eq(schema.labInstances.id, instance.id));
      }
      await provisionInstance(ctx, lab, { ...instance, hostId: placed.id }, placed, resolved.template);
    }
  });
  await Promise.all(workers);
  return lab;
}

/**
 * The naming of an instance's current generation: a reset's new machines are named apart from
 * the old ones being removed (`<lab>-g2-<student>-<machine>`).
 */
export function namingOf(
  lab: Pick<LabRow, "name">,
  instance: Pick<LabInstanceRow, "generation" | "student">,
): InstanceNaming {
  return {
    lab: instance.generation > 1 ? `${lab.name}-g${instance.generation}` : lab.name,
    student: instance.student,
  };
}

/**
 * Records one instance's machines, networks and nodes (its generation names them, so a reset
 * builds new machines beside the old ones being removed). A failure is stored on the instance
 * (its `problem`), never thrown: the other students' instances are not held up.
 */
export async function provisionInstance(
  ctx: CommandContext,
  lab: Pick<LabRow, "id" | "name" | "ownerId">,
  instance: LabInstanceRow,
  labHost: HostRow,
  template: LabTemplate,
): Promise<void> {
  const naming = namingOf(lab, instance);
  const labels = { [LAB_LABEL]: lab.id, [LAB_INSTANCE_LABEL]: instance.id };
  try {
    const plan = expandInstance(template, naming);
    // The instance's LAN, from the LAN pool (clear of the subnets its machines will use):
    // machines keep the template's host parts on it.
    const lan = await createNetwork({
      ctx: { ...ctx, addressPools: ctx.lanPools ?? DEFAULT_LAN_POOLS, avoidSubnets: plan.lan.avoid },
      input: { name: plan.lan.name, host: labHost.id, labels: { ...labels, [LAN_LABEL]: "true" } },
    });
    const lanSubnet = (await ipamConfigsOfNetwork(ctx.db, lan.network.id))[0]?.subnet;
    const templateLan = requireCidr(plan.lan.subnet ?? TEMPLATE_LAN);
    for (const { request } of plan.machines) {
      const address =
        request.address && lanSubnet
          ? translateAddress(requireIpv4(request.address), templateLan, requireCidr(lanSubnet))
          : undefined;
      await createMachine({
        ctx,
        input: {
          ...request,
          host: labHost.id,
          lan: lan.network.id,
          ownerId: lab.ownerId,
          ...(address === undefined ? { address: undefined } : { address: formatIpv4(address) }),
          labels: { ...request.labels, ...labels },
        },
      });
    }
    for (const { request } of plan.networks) {
      await createNetwork({ ctx, input: { ...request, labels: { ...request.labels, ...labels } } });
    }
    for (const { request } of plan.services) {
      await createNode({ ctx, input: { ...request, labels: { ...request.labels, ...labels } } });
    }
    if (instance.problem !== null) {
      await ctx.db
        .update(schema.labInstances)
        .set({ problem: null })
        .where(eq(schema.labInstances.id, instance.id));
    }
  } catch (error) {
    const problem = error instanceof Error ? error.message : String(error);
    await ctx.db
      .update(schema.labInstances)
      .set({ problem, updatedAt: sql`now()` })
      .where(eq(schema.labInstances.id, instance.id));
  }
}

function studentsOf(input: CreateLabInput): string[] {
  if (input.students !== undefined && input.count !== undefined) {
    throw invalidField("body.count", "give students or a count, not both");
  }
  const students =
    input.students ??
    Array.from({ length: input.count ?? 1 }, (_, i) => `s${String(i + 1).padStart(2, "0")}`);
  if (students.length === 0 || students.length > MAX_STUDENTS) {
    throw invalidField(
      input.students ? "body.students" : "body.count",
      `between 1 and ${MAX_STUDENTS} students`,
    );
  }
  const seen = new Set<string>();
  for (const [i, student] of students.entries()) {
    if (!STUDENT_NAME.test(student)) {
      throw invalidField(`body.students[${i}]`, "a student is named by a DNS label of at most 20 characters");
    }
    if (seen.has(student)) {
      throw invalidField(`body.students[${i}]`, `${student} is listed twice`);
    }
    seen.add(student);
  }
  return students;
}
