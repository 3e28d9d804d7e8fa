import type { components } from "@labnet/api";
import {
  type Db,
  instancesOfLab,
  LAB_INSTANCE_LABEL,
  type LabCheckRunRow,
  type LabInstanceRow,
  type LabResources,
  type LabRow,
  labResources,
  latestCheckRuns,
  machineUplinks,
} from "@labnet/db";
import { machineStateOf } from "./machine-view";

type Lab = components["schemas"]["Lab"];
type LabInstance = components["schemas"]["LabInstance"];

/**
 * The instructor's view of a lab: per instance its state, machines, nodes, ports, last check.
 * A student's (`onlyInstance`) shows their own instance alone.
 */
export async function labView(db: Db, lab: LabRow, onlyInstance?: string): Promise<Lab> {
  const all = await instancesOfLab(db, lab.id);
  const instances = onlyInstance ? all.filter((i) => i.id === onlyInstance) : all;
  const resources = await labResources(
    db,
    instances.map((i) => i.id),
  );
  const uplinks = await machineUplinks(
    db,
    resources.machines.map((m) => m.id),
  );
  const runs = await latestCheckRuns(db, lab.id);
  const views = instances.map((instance) => instanceView(instance, resources, uplinks, runs));
  const count = (state: LabInstance["state"]) => views.filter((v) => v.state === state).length;
  return {
    id: lab.id,
    name: lab.name,
    template: { name: lab.templateName, version: lab.templateVersion },
    state: lab.state,
    expiresAt: lab.expiresAt?.toISOString() ?? null,
    summary: {
      total: views.length,
      ready: count("ready"),
      provisioning: count("provisioning"),
      failed: count("failed"),
    },
    instances: views,
    labels: lab.labels,
    owner: lab.ownerId,
    createdAt: lab.createdAt.toISOString(),
  };
}

/** True once no instance is still being built (what `Prefer: wait` waits for). */
export function labSettled(view: Lab): boolean {
  return view.summary.provisioning === 0;
}

function instanceView(
  instance: LabInstanceRow,
  resources: LabResources,
  uplinks: Awaited<ReturnType<typeof machineUplinks>>,
  runs: readonly LabCheckRunRow[],
): LabInstance {
  // Machines of earlier generations (being removed by a reset) are not the student's any more.
  const machines = resources.machines.filter(
    (m) => m.labels[LAB_INSTANCE_LABEL] === instance.id && m.state !== "deleting",
  );
  const machineIds = new Set(machines.map((m) => m.id));
  const hostnames = new Map(machines.map((m) => [m.id, m.hostname ?? m.name]));
  const nodes = resources.nodes.filter((n) => machineIds.has(n.hostId));
  const networks = resources.networks.filter((n) => n.hostId !== null && machineIds.has(n.hostId));
  const nodeNames = new Map(nodes.map((n) => [n.id, n.name]));
  const machineStates = machines.map((m) =>
    machineStateOf(m, uplinks.get(m.id)?.nodeState, uplinks.get(m.id)?.bridgeState),
  );
  const states = [...machineStates, ...nodes.map((n) => n.state), ...networks.map((n) => n.state)];
  // Kernel work still open on its machines (a solve, a connect) means it is not built yet.
  const busy = machines.some((m) => (resources.openOperations.get(m.id) ?? 0) > 0);
  const state: LabInstance["state"] =
    instance.problem !== null || states.includes("failed")
      ? "failed"
      : machines.length > 0 && !busy && states.every((s) => s === "ready")
        ? "ready"
        : "provisioning";
  const run = runs.find((r) => r.state === "done" && r.instanceIds.includes(instance.id));
  const outcomes = (run?.results[instance.id] ?? []) as { passed?: boolean }[];
  return {
    id: instance.id,
    student: instance.student,
    state,
    problem: instance.problem ?? failedProblem(nodes, networks),
    generation: instance.generation,
    hostId: instance.hostId,
    machines: machines.map((m, i) => ({
      id: m.id,
      name: m.name,
      hostname: m.hostname ?? m.name,
      state: machineStates[i] ?? "pending",
      address: uplinks.get(m.id)?.address ?? null,
      netnsPath: m.netnsPath,
      drift: m.drift ?? null,
    })),
    nodes: nodes.map((n) => ({
      id: n.id,
      name: n.name,
      machine: hostnames.get(n.hostId) ?? "",
      state: n.state,
      addresses: Object.fromEntries(
        resources.endpoints.filter((e) => e.nodeId === n.id).map((e) => [e.networkName, e.address]),
      ),
    })),
    ports: resources.ports
      .filter((p) => nodeNames.has(p.nodeId))
      .map((p) => ({
        node: nodeNames.get(p.nodeId) ?? "",
        protocol: p.protocol,
        containerPort: p.containerPort,
        hostPort: p.hostPort,
        externalPort: p.externalPort,
      })),
    lastCheck: run
      ? {
          runId: run.id,
          passed: outcomes.filter((o) => o.passed === true).length,
          total: outcomes.length,
          at: (run.finishedAt ?? run.startedAt).toISOString(),
        }
      : null,
  };
}

function failedProblem(nodes: LabResources["nodes"], networks: LabResources["networks"]): string | null {
  const failed = [
    ...nodes.filter((n) => n.state === "failed"),
    ...networks.filter((n) => n.state === "failed"),
  ];
  return failed.length > 0 ? `failed to build: ${failed.map((f) => f.name).join(", ")}` : null;
}
