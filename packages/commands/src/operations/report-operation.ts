import {
  anyOf,
  type Db,
  failOperation,
  type NodeRow,
  noteOperationError,
  type OperationKind,
  type OperationRow,
  type StoredProblem,
  schema,
  succeedOperations,
} from "@labnet/db";
import { and, eq, ne, notInArray, sql } from "drizzle-orm";

/** An operation whose target could not be converged, with why. */
export interface OperationProblem {
  op: OperationRow;
  problem: StoredProblem;
}

/** What one converge did for the operations its snapshot covered. */
export interface ConvergeOutcome {
  /** Their targets converged: ensures are done, removals' records go. */
  succeeded: readonly OperationRow[];
  /** Out of attempts: the operation fails, an ensure's target becomes `failed`. */
  failed: readonly OperationProblem[];
  /** Will be tried again by a later converge: the problem is noted, the operation stays open. */
  retrying: readonly OperationProblem[];
}

/**
 * What each kind asks of its target: an ensure makes it `ready` (and `failed` when out of
 * attempts), a removal deletes its record. Over every kind of the contract, so a new kind does
 * not compile until it says what it means here.
 */
const SETTLES: Record<OperationKind, { ensures: "networks" | "nodes" } | { removes: "networks" | "nodes" }> =
  {
    "network.ensure": { ensures: "networks" },
    "network.remove": { removes: "networks" },
    "node.ensure": { ensures: "nodes" },
    "node.remove": { removes: "nodes" },
  };

/**
 * Node states an ensure does not change: one being removed, and one not started (`created`: a
 * connect's ensure on it builds nothing, the desired state leaves it out until it starts).
 */
const UNBUILT: NodeRow["state"][] = ["deleting", "created"];

/** The ensured table of `kind`, if it ensures one. */
function ensuredBy(kind: OperationKind): "networks" | "nodes" | undefined {
  const settles = SETTLES[kind];
  return "ensures" in settles ? settles.ensures : undefined;
}

/**
 * The executor's report of one converge, in one transaction, so a waiter never sees an
 * operation done while its resource still says otherwise: ensured targets become `ready`,
 * removed ones lose their records (freeing their addresses and ports), failures are stored.
 * Operations that finished meanwhile (a replay) are left as they are.
 */
export async function settleOperations(db: Db, outcome: ConvergeOutcome): Promise<void> {
  const ids = (kind: OperationKind) =>
    outcome.succeeded.filter((op) => op.kind === kind).map((op) => op.targetId);
  await db.transaction(async (tx) => {
    // Every write is sent at once, and they run in the order they reach the connection: one
    // round trip for all instead of one each. The resources' writes are started alike (each
    // builder's execute(), in the order that matters: nodes before networks); the operations'
    // own updates, through functions of their own, reach it after them.
    const writes: Promise<unknown>[] = [];
    const readyNetworks = outcome.succeeded
      .filter((op) => ensuredBy(op.kind) === "networks")
      .map((op) => op.targetId);
    if (readyNetworks.length > 0) {
      writes.push(
        tx
          .update(schema.networks)
          .set({ state: "ready" })
          .where(and(anyOf(schema.networks.id, readyNetworks), ne(schema.networks.state, "deleting")))
          .execute(),
      );
    }
    const readyNodes = outcome.succeeded
      .filter((op) => ensuredBy(op.kind) === "nodes")
      .map((op) => op.targetId);
    if (readyNodes.length > 0) {
      writes.push(
        tx
          .update(schema.nodes)
          .set({ state: "ready" })
          .where(and(anyOf(schema.nodes.id, readyNodes), notInArray(schema.nodes.state, UNBUILT)))
          .execute(),
      );
    }
    // Nodes before networks: endpoints (cascading with their node) hold their network.
    const goneNodes = ids("node.remove");
    if (goneNodes.length > 0) {
      writes.push(
        tx
          .delete(schema.nodes)
          .where(and(anyOf(schema.nodes.id, goneNodes), eq(schema.nodes.state, "deleting")))
          .execute(),
      );
    }
    const goneNetworks = ids("network.remove");
    if (goneNetworks.length > 0) {
      // An overlay is removed by each machine it was on: the record goes with the last of them.
      const settling = outcome.succeeded.map((op) => op.id);
      writes.push(
        tx
          .delete(schema.networks)
          .where(
            and(
              anyOf(schema.networks.id, goneNetworks),
              eq(schema.networks.state, "deleting"),
              sql`NOT EXISTS (SELECT 1 FROM operations o WHERE o.target_id = ${schema.networks.id}
              AND o.kind = 'network.remove' AND o.state IN ('queued', 'running')
              AND NOT ${anyOf(sql`o.id`, settling)})`,
              // Never against the endpoints' foreign key (the executor holds a removal back
              // while nodes are on the network): one refused row would undo the settlement.
              sql`NOT EXISTS (SELECT 1 FROM endpoints e WHERE e.network_id = ${schema.networks.id})`,
            ),
          )
          .execute(),
      );
    }
    writes.push(
      succeedOperations(
        tx,
        outcome.succeeded.map((op) => op.id),
      ),
    );
    for (const { op, problem } of outcome.failed) {
      writes.push(markTargetFailed(tx, op), failOperation(tx, op.id, problem));
    }
    for (const { op, problem } of outcome.retrying) {
      writes.push(noteOperationError(tx, op.id, problem));
    }
    await Promise.all(writes);
  });
}

async function markTargetFailed(db: Db, op: OperationRow): Promise<void> {
  const ensured = ensuredBy(op.kind);
  if (ensured === "networks") {
    await db
      .update(schema.networks)
      .set({ state: "failed" })
      .where(and(eq(schema.networks.id, op.targetId), ne(schema.networks.state, "deleting")));
  } else if (ensured === "nodes") {
    await db
      .update(schema.nodes)
      .set({ state: "failed" })
      .where(and(eq(schema.nodes.id, op.targetId), notInArray(schema.nodes.state, UNBUILT)));
  }
}
