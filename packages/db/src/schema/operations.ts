import type { Schema } from "@labnet/api";
import { index, integer, jsonb, pgTable, text, timestamp } from "drizzle-orm/pg-core";
import { hosts } from "./hosts";

/**
 * What an operation does to its target (`node.ensure`, ...). Its one home is the contract's
 * OperationKind: a kind is added there, and what it means on success and failure in
 * @labnet/commands' settleOperations, whose table over every kind does not compile until then.
 */
export type OperationKind = Schema<"OperationKind">;

/** An operation's state: the contract's OperationState. */
export type OperationState = Schema<"OperationState">;
/** What an operation works on: the contract's OperationTarget type. */
export type OperationTargetType = Schema<"OperationTarget">["type"];

/** RFC 9457 problem stored with a failed operation. */
export interface StoredProblem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
}

/**
 * The outbox: written in the same transaction as the intent it carries out. The
 * dispatcher puts queued rows on their host's queue; the executor reports back here.
 * A trigger (custom migration) NOTIFYs `labnet_operations` on every state change.
 */
export const operations = pgTable(
  "operations",
  {
    id: text("id").primaryKey(),
    kind: text("kind").$type<OperationKind>().notNull(),
    hostId: text("host_id")
      .notNull()
      .references(() => hosts.id, { onDelete: "cascade" }),
    targetType: text("target_type").$type<OperationTargetType>().notNull(),
    targetId: text("target_id").notNull(),
    state: text("state").$type<OperationState>().notNull().default("queued"),
    attempts: integer("attempts").notNull().default(0),
    error: jsonb("error").$type<StoredProblem>(),
    dispatchedAt: timestamp("dispatched_at", { withTimezone: true, mode: "date" }),
    startedAt: timestamp("started_at", { withTimezone: true, mode: "date" }),
    finishedAt: timestamp("finished_at", { withTimezone: true, mode: "date" }),
    createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (t) => [
    index("operations_open_idx").on(t.state, t.createdAt),
    index("operations_target_idx").on(t.targetId),
  ],
);
