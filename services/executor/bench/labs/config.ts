/**
 * What the labs bench measures, from the environment (optional):
 *
 * | Variable                     | Default  | Meaning                                                       |
 * | ---------------------------- | -------- | ------------------------------------------------------------- |
 * | `LABNET_BENCH_LAB_STUDENTS`  | `30,100` | Class sizes N: one lab of `builtin:seed-001-ex2` per size (1-200) |
 * | `LABNET_BENCH_KEEP_LOGS`     | unset    | `1`: the logs stay after a run that passed too                |
 */

/** The template every lab of the bench is made from. */
export const TEMPLATE = "builtin:seed-001-ex2";
/** Its check the solution turns from failed to passed in every instance. */
export const APP_REACHES_WEB = "app_container reaches web_container.app";
/** Checks of the template per instance (all pass after the solution). */
export const CHECKS_PER_INSTANCE = 5;

export interface LabsBenchConfig {
  students: number[];
  keepLogs: boolean;
}

/** A lab's `count` may be 1-200 (CreateLabRequest). */
const MAX_STUDENTS = 200;

/** Parses the variable above; throws naming it when it is bad. */
export function loadLabsBenchConfig(env: NodeJS.ProcessEnv = process.env): LabsBenchConfig {
  const raw = env.LABNET_BENCH_LAB_STUDENTS?.trim() || "30,100";
  const students = raw.split(",").map((part) => Number(part.trim()));
  if (students.some((n) => !Number.isInteger(n) || n < 1 || n > MAX_STUDENTS)) {
    throw new Error(
      `invalid bench configuration:\n  LABNET_BENCH_LAB_STUDENTS: want comma-separated integers 1-${MAX_STUDENTS}, got ${JSON.stringify(raw)}`,
    );
  }
  return {
    students: [...new Set(students)].sort((a, b) => a - b),
    keepLogs: env.LABNET_BENCH_KEEP_LOGS === "1",
  };
}
