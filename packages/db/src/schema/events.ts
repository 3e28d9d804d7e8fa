import { bigserial, index, jsonb, pgTable, text, timestamp } from "drizzle-orm/pg-core";

/**
 * What changed, recorded by triggers (migration 0010) in the same transaction as the change:
 * creations, state changes and removals of machines, networks, nodes, operations, labs, lab
 * instances and check runs. `id` is the Server-Sent Events id of `GET /v1/events`: a client
 * that reconnects with `Last-Event-ID` replays from here. A transaction that records events
 * NOTIFYs `labnet_events` once at commit (an empty payload, migration 0018): the gateway reads
 * the table on it. Kept for a while (the controller prunes old rows).
 */
export const events = pgTable(
  "events",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    at: timestamp("at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    /** `node.state`, `network.created`, `operation.state`, `check_run.done`, ... */
    type: text("type").notNull(),
    /** `machine`, `network`, `node`, `operation`, `lab`, `lab_instance`, `check_run`. */
    resourceType: text("resource_type").notNull(),
    resourceId: text("resource_id").notNull(),
    /** The lab, instance and machine the resource belongs to, when known (labels, columns). */
    labId: text("lab_id"),
    instanceId: text("instance_id"),
    machineId: text("machine_id"),
    /** The account that owns the lab or machine the resource belongs to (who may read it). */
    ownerId: text("owner_id"),
    /** The API request that made the change (its audit entry's), null for an executor's report. */
    requestId: text("request_id"),
    /** The row's id, name and state (and for check runs the instance's outcomes). */
    data: jsonb("data").$type<Record<string, unknown>>().notNull(),
  },
  (t) => [
    index("events_lab_idx").on(t.labId, t.id),
    index("events_instance_idx").on(t.instanceId, t.id),
    index("events_machine_idx").on(t.machineId, t.id),
    index("events_resource_idx").on(t.resourceType, t.id),
    index("events_at_idx").on(t.at),
    index("events_owner_idx").on(t.ownerId, t.id),
  ],
);
