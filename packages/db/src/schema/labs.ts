import { index, integer, jsonb, pgTable, text, timestamp, unique } from "drizzle-orm/pg-core";
import { accounts } from "./accounts";
import { labels, timestamps } from "./columns";
import { hosts } from "./hosts";

/**
 * Lab templates an instructor wrote: one row per version (a new version is a new row; labs
 * keep the version they were made from). `source` is what was sent (YAML or JSON), `spec`
 * the validated, normalized template (@labnet/labs LabTemplate).
 */
export const labTemplates = pgTable(
  "lab_templates",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    version: integer("version").notNull(),
    title: text("title"),
    format: text("format").$type<"yaml" | "json">().notNull(),
    source: text("source").notNull(),
    spec: jsonb("spec").$type<Record<string, unknown>>().notNull(),
    /** The instructor's account that wrote it (null: an admin's, visible to every instructor). */
    ownerId: text("owner_id").references(() => accounts.id, { onDelete: "restrict" }),
    createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (t) => [unique("lab_templates_name_version_key").on(t.name, t.version)],
);

/** Lifecycle of a lab as a whole. */
export type LabState = "active" | "deleting";

/**
 * A lab: one template version provisioned once per student. The template's spec is copied in,
 * so a built-in template (`builtin:<name>`) or a later version never changes a running lab.
 */
export const labs = pgTable("labs", {
  id: text("id").primaryKey(),
  /** Unique across owners: it is part of the machines' names, which are global. */
  name: text("name").notNull().unique(),
  /** The account that owns it (its instructor; null: made by an admin without an account). */
  ownerId: text("owner_id").references(() => accounts.id, { onDelete: "restrict" }),
  /** `<name>` of a stored template or `builtin:<name>`. */
  templateName: text("template_name").notNull(),
  templateVersion: integer("template_version").notNull(),
  spec: jsonb("spec").$type<Record<string, unknown>>().notNull(),
  /** The lab host its instances go to, when the request named one. */
  hostId: text("host_id"),
  state: text("state").$type<LabState>().notNull().default("active"),
  /** Torn down by the controller once past (TTL). */
  expiresAt: timestamp("expires_at", { withTimezone: true, mode: "date" }),
  labels: labels(),
  ...timestamps,
});

/**
 * One student's copy of a lab: its machines are hosts rows labelled `labnet.lab-instance` with
 * this id; its state is read from theirs (and their networks' and nodes').
 */
export const labInstances = pgTable(
  "lab_instances",
  {
    id: text("id").primaryKey(),
    labId: text("lab_id")
      .notNull()
      .references(() => labs.id, { onDelete: "cascade" }),
    student: text("student").notNull(),
    /** The lab host it was placed on. */
    hostId: text("host_id")
      .notNull()
      .references(() => hosts.id, { onDelete: "restrict" }),
    /** Why its last provisioning step failed, if it did (shown until a retry succeeds). */
    problem: text("problem"),
    /** How many times it was (re)built: reset and retry count up. */
    generation: integer("generation").notNull().default(1),
    ...timestamps,
  },
  (t) => [unique("lab_instances_lab_student_key").on(t.labId, t.student)],
);

/** A run of a lab's checks: the matrix instance × check, with evidence. */
export const labCheckRuns = pgTable(
  "lab_check_runs",
  {
    id: text("id").primaryKey(),
    labId: text("lab_id")
      .notNull()
      .references(() => labs.id, { onDelete: "cascade" }),
    /** The instances it covered. */
    instanceIds: text("instance_ids").array().notNull(),
    state: text("state").$type<"running" | "done" | "failed">().notNull().default("running"),
    /** Per instance id: the check outcomes (@labnet/labs CheckOutcome[]), once done. */
    results: jsonb("results").$type<Record<string, unknown[]>>().notNull().default({}),
    problem: text("problem"),
    startedAt: timestamp("started_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    finishedAt: timestamp("finished_at", { withTimezone: true, mode: "date" }),
  },
  (t) => [index("lab_check_runs_lab_idx").on(t.labId, t.startedAt)],
);
