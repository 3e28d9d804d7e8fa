import {
  type Db,
  failOperation,
  getOperation,
  type OperationRow,
  type StoredProblem,
  schema,
  succeedOperation,
} from "@labnet/db";
import { and, eq, ne } from "drizzle-orm";

/**
 * The executor's report that an operation's kernel work is done: the target becomes
 * `ready`, or, for removals, its records go (freeing its addresses). One transaction, so
 * a waiter never sees the operation done while the resource still says otherwise.
 */
export async function reportOperationSucceeded(
  db: Db,
  operationId: string,
): Promise<OperationRow | undefined> {
  return db.transaction(async (tx) => {
    const op = await getOperation(tx, operationId);
    if (!op || op.state === "succeeded" || op.state === "cancelled") {
      return op;
    }
    switch (op.kind) {
      case "network.ensure":
        await tx
          .update(schema.networks)
          .set({ state: "ready" })
          .where(and(eq(schema.networks.id, op.targetId), ne(schema.networks.state, "deleting")));
        break;
      case "node.ensure":
        await tx
          .update(schema.nodes)
          .set({ state: "ready" })
          .where(and(eq(schema.nodes.id, op.targetId), ne(schema.nodes.state, "deleting")));
        break;
      case "network.remove":
        await tx.delete(schema.networks).where(eq(schema.networks.id, op.targetId));
        break;
      case "node.remove":
        await tx.delete(schema.nodes).where(eq(schema.nodes.id, op.targetId));
        break;
      default:
        throw new Error(`unknown operation kind ${op.kind}`);
    }
    await succeedOperation(tx, op.id);
    return getOperation(tx, op.id);
  });
}

/** A permanent failure: the operation carries the problem; an ensure's target becomes `failed`. */
export async function reportOperationFailed(
  db: Db,
  operationId: string,
  problem: StoredProblem,
): Promise<void> {
  await db.transaction(async (tx) => {
    const op = await getOperation(tx, operationId);
    if (!op || op.state === "succeeded" || op.state === "cancelled") {
      return;
    }
    if (op.kind === "network.ensure") {
      await tx
        .update(schema.networks)
        .set({ state: "failed" })
        .where(and(eq(schema.networks.id, op.targetId), ne(schema.networks.state, "deleting")));
    } else if (op.kind === "node.ensure") {
      await tx
        .update(schema.nodes)
        .set({ state: "failed" })
        .where(and(eq(schema.nodes.id, op.targetId), ne(schema.nodes.state, "deleting")));
    }
    await failOperation(tx, op.id, problem);
  });
}
