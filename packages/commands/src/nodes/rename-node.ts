import {
  constraintViolation,
  lockNode,
  type NodeRow,
  nodesSharingNetns,
  type OperationRow,
  schema,
} from "@labnet/db";
import { eq } from "drizzle-orm";
import type { CommandContext } from "../context";
import { defaultHostname } from "../dns-names";
import { DomainError, invalidField, notFound } from "../errors";
import { recordNodeOperation } from "../operations/record-operation";
import { resolveNode } from "../resolve";
import { MACHINE_LABEL } from "./delete-node";

/** A node's name (the contract's ResourceName). */
const NODE_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/;

/**
 * Renames a node, like `docker rename`: its name on its host (unique there, refused by
 * `nodes_host_name_key`), what nodes sharing its namespace record as their mode
 * (`container:<name>`), and a `node.ensure` so the host's name service answers the new name.
 * The hostname stays what it was (Docker keeps it too): a node that had none keeps the default
 * its old name gave it.
 */
export async function renameNode({
  ctx,
  ref,
  name,
  location = "body.name",
}: {
  ctx: CommandContext;
  ref: string;
  name: string;
  location?: string;
}): Promise<{ node: NodeRow; operation: OperationRow }> {
  if (!NODE_NAME.test(name)) {
    throw invalidField(
      location,
      `invalid node name ${name}: a letter or digit, then up to 62 letters, digits, _, . or -`,
    );
  }
  const found = await resolveNode(ctx.db, ref);
  try {
    const result = await ctx.db.transaction(async (tx) => {
      const node = await lockNode(tx, found.id);
      if (!node || node.state === "deleting") {
        throw notFound("node", ref, "path.nodeId");
      }
      if (node.labels[MACHINE_LABEL]) {
        throw new DomainError(
          "CONFLICT",
          `node ${node.name} is the uplink of machine ${node.labels[MACHINE_LABEL]}`,
          [{ location: "path.nodeId", message: "a machine's uplink" }],
        );
      }
      if (node.name === name) {
        return { node, operation: await recordNodeOperation(tx, node) };
      }
      const [renamed] = await tx
        .update(schema.nodes)
        .set({
          name,
          hostname: node.hostname ?? defaultHostname(node),
          updatedAt: node.updatedAt,
        })
        .where(eq(schema.nodes.id, node.id))
        .returning();
      for (const sharer of await nodesSharingNetns(tx, node.id)) {
        await tx
          .update(schema.nodes)
          .set({ networkMode: `container:${name}` })
          .where(eq(schema.nodes.id, sharer.id));
      }
      const current = renamed ?? node;
      return { node: current, operation: await recordNodeOperation(tx, current) };
    });
    ctx.onOperationsWritten?.();
    return result;
  } catch (error) {
    if (constraintViolation(error)?.constraint === "nodes_host_name_key") {
      throw new DomainError("NAME_CONFLICT", `a node named ${name} already exists on the node's host`, [
        { location, message: "name already in use" },
      ]);
    }
    throw error;
  }
}
