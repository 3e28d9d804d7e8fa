import { basename } from "node:path";
import type { components } from "@labnet/api";
import { namingOf } from "@labnet/commands";
import {
  type LabCheckRunRow,
  type LabInstanceRow,
  type LabResources,
  type LabRow,
  labResources,
  machineUplinks,
  newId,
  schema,
} from "@labnet/db";
import {
  type CheckOutcome,
  expandInstance,
  gradeChecks,
  type LabTemplate,
  type ProbePlan,
  type ProbeResult,
  planChecks,
  type ResolvedInstance,
} from "@labnet/labs";
import { eq, sql } from "drizzle-orm";
import type { AppDeps } from "../routes/deps";

type LabCheckRun = components["schemas"]["LabCheckRun"];

/** Probes sent to one executor in one job (the job's limit is 512). */
const PROBES_PER_JOB = 256;
/** How long a grading job may take on its executor (probes run 16 at a time, 10 s at most each). */
const JOB_TIMEOUT_MS = 60_000;

/**
 * Starts a grading run of `instances`: records it, plans every check of the template in every
 * instance as a probe, has each lab host's executor run its instances' probes (all at once, in
 * parallel there), grades the answers and stores the matrix. `done` resolves with the finished
 * run (it never rejects: a run that could not finish is stored `failed` with its problem).
 */
export async function startCheckRun(
  deps: Pick<AppDeps, "db" | "prober" | "log">,
  lab: LabRow,
  instances: readonly LabInstanceRow[],
): Promise<{ run: LabCheckRunRow; done: Promise<LabCheckRunRow> }> {
  const [run] = await deps.db
    .insert(schema.labCheckRuns)
    .values({ id: newId("checkRun"), labId: lab.id, instanceIds: instances.map((i) => i.id) })
    .returning();
  if (!run) {
    throw new Error("inserting a check run returned no row");
  }
  const done = gradeInstances(deps, lab, instances).then(
    (results) => finish(deps, run.id, { state: "done", results }),
    (error: unknown) => {
      deps.log.error("check run failed", { run: run.id, error: String(error) });
      return finish(deps, run.id, {
        state: "failed",
        problem: error instanceof Error ? error.message : String(error),
      });
    },
  );
  return { run, done };
}

/** A run as the API shows it: the matrix, one row per instance. */
export function checkRunView(run: LabCheckRunRow, instances: readonly LabInstanceRow[]): LabCheckRun {
  const students = new Map(instances.map((i) => [i.id, i.student]));
  const results = run.instanceIds.map((instanceId) => ({
    instanceId,
    student: students.get(instanceId) ?? "",
    checks: ((run.results[instanceId] ?? []) as CheckOutcome[]).map((o) => ({
      ...o,
      evidence: o.evidence ?? null,
    })),
  }));
  const all = results.flatMap((r) => r.checks);
  return {
    id: run.id,
    labId: run.labId,
    state: run.state,
    problem: run.problem,
    startedAt: run.startedAt.toISOString(),
    finishedAt: run.finishedAt?.toISOString() ?? null,
    summary: {
      instances: results.length,
      passed: all.filter((c) => c.passed).length,
      failed: all.filter((c) => !c.passed).length,
    },
    results,
  };
}

async function gradeInstances(
  deps: Pick<AppDeps, "db" | "prober">,
  lab: LabRow,
  instances: readonly LabInstanceRow[],
): Promise<Record<string, CheckOutcome[]>> {
  const template = lab.spec as unknown as LabTemplate;
  const resources = await labResources(
    deps.db,
    instances.map((i) => i.id),
  );
  const uplinks = await machineUplinks(
    deps.db,
    resources.machines.map((m) => m.id),
  );
  const planned = instances.map((instance) => {
    const naming = namingOf(lab, instance);
    const resolved = resolveInstance(template, naming, resources, uplinks);
    return { instance, plans: planChecks(template, naming, resolved) };
  });
  // One batch of jobs per lab host: its executor runs its instances' probes side by side.
  const byHost = new Map<string, ProbePlan[]>();
  for (const { instance, plans } of planned) {
    byHost.set(instance.hostId, [...(byHost.get(instance.hostId) ?? []), ...plans.filter((p) => !p.skip)]);
  }
  const results: ProbeResult[] = [];
  await Promise.all(
    [...byHost].map(async ([hostId, plans]) => {
      for (let i = 0; i < plans.length; i += PROBES_PER_JOB) {
        const chunk = plans.slice(i, i + PROBES_PER_JOB).map((p) => p.probe);
        results.push(...(await deps.prober.probe({ id: hostId }, chunk, JOB_TIMEOUT_MS)));
      }
    }),
  );
  return Object.fromEntries(
    planned.map(({ instance, plans }) => [instance.id, gradeChecks(template, plans, results)]),
  );
}

/** What an instance is made of, by the template's keys, as Postgres records it now. */
function resolveInstance(
  template: LabTemplate,
  naming: { lab: string; student: string },
  resources: LabResources,
  uplinks: Awaited<ReturnType<typeof machineUplinks>>,
): ResolvedInstance {
  const plan = expandInstance(template, naming);
  const machinesByName = new Map(resources.machines.map((m) => [m.name, m]));
  const machineIds = new Map<string, string>();
  const resolved: ResolvedInstance = { services: {}, machines: {}, labHostAddress: "" };
  for (const { key, request } of plan.machines) {
    const machine = machinesByName.get(request.name);
    const uplink = machine ? uplinks.get(machine.id) : undefined;
    if (machine?.netnsPath && uplink?.address) {
      machineIds.set(key, machine.id);
      resolved.machines[key] = { netns: basename(machine.netnsPath), lanAddress: uplink.address };
      // The lab host's own address on the LAN: its outside world reaches the external ports there too.
      resolved.labHostAddress ||= uplink.gateway;
    }
  }
  const nodesById = new Map(resources.nodes.map((n) => [n.id, n]));
  const machineKeys = new Map([...machineIds].map(([key, id]) => [id, key]));
  // The template's services where the plan put them; those its solution created (or a student
  // did), by name on the instance's machines.
  const placed = new Map(plan.services.map((s) => [s.key, machineIds.get(s.machineKey)]));
  for (const node of resources.nodes) {
    const machineKey = machineKeys.get(node.hostId);
    const wanted = placed.get(node.name);
    if (machineKey === undefined || (wanted !== undefined && wanted !== node.hostId)) {
      continue;
    }
    const owner = node.netnsOwnerId ? nodesById.get(node.netnsOwnerId) : node;
    const netns = owner?.netns ?? resolved.machines[machineKey]?.netns;
    if (!netns || !owner) {
      continue;
    }
    resolved.services[node.name] = {
      netns,
      addresses: Object.fromEntries(
        resources.endpoints.filter((e) => e.nodeId === owner.id).map((e) => [e.networkName, e.address]),
      ),
      published: Object.fromEntries(
        resources.ports
          .filter((p) => p.nodeId === owner.id && p.externalPort !== null)
          .map((p) => [`${p.containerPort}/${p.protocol}`, p.externalPort ?? 0]),
      ),
    };
  }
  return resolved;
}

async function finish(
  deps: Pick<AppDeps, "db">,
  runId: string,
  outcome: { state: "done"; results: Record<string, CheckOutcome[]> } | { state: "failed"; problem: string },
): Promise<LabCheckRunRow> {
  const [row] = await deps.db
    .update(schema.labCheckRuns)
    .set({
      state: outcome.state,
      ...(outcome.state === "done" ? { results: outcome.results } : { problem: outcome.problem }),
      finishedAt: sql`now()`,
    })
    .where(eq(schema.labCheckRuns.id, runId))
    .returning();
  if (!row) {
    throw new Error(`check run ${runId} vanished`);
  }
  return row;
}
