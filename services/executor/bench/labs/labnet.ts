/**
 * Labnet's side of the labs bench, through its HTTP API (and, for the solution, the operations
 * table): a lab of `builtin:seed-001-ex2` for N students, provisioned, graded, solved, graded
 * again and torn down, each step timed.
 */
import { readdir } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import type { Schema } from "@labnet/api";
import { USERNS_DIR } from "../../src/kernel";
import { listNetns } from "../harness";
import { NEIGHBOUR_SETTLE_MS } from "../kernel-tools";
import type { Api } from "../provision/http";
import { waitForOperations } from "../provision/labnet";
import type { LabnetStack } from "../provision/stack";
import { APP_REACHES_WEB, TEMPLATE } from "./config";

type Lab = Schema<"Lab">;
type CheckRun = Schema<"LabCheckRun">;

/** `GET /v1/labs/{id}` while waiting: a 100-instance lab is a large answer, so not too often. */
const POLL_MS = 200;

export interface Grading {
  /** From the POST of `.../checks` (`Prefer: wait=60`) until the run is done. */
  ms: number;
  instances: number;
  /** Every check of every instance. */
  passed: number;
  failed: number;
  /** Instances whose "app_container reaches web_container.app" passed. */
  reaching: number;
  /** A failed check's evidence, for the message when the counts are wrong. */
  example: string;
}

export interface LabnetClass {
  n: number;
  /** From the POST of the lab until `summary.ready` is N. */
  setupMs: number;
  before: Grading;
  /** From the POST of `.../solve` until every operation it recorded has settled. */
  solveMs: number;
  after: Grading;
  /** From the DELETE (`Prefer: wait=120`) until the lab answers 404 and its namespaces are gone. */
  teardownMs: number;
}

/** The whole cycle for `n` students; throws when a step fails or does not finish in time. */
export async function labnetClass(stack: LabnetStack, n: number, name: string): Promise<LabnetClass> {
  const { api } = stack;
  // The lab host's sandboxes `<host>-l-…` and its machines' nodes `<host>-lm<id>-…`.
  const labnetNetns = stack.sandboxPrefix.slice(0, -1);
  const timeoutMs = 120_000 + 3_000 * n;

  const started = performance.now();
  const created = await api.expect<Lab>([201, 202], "POST", "/v1/labs", {
    body: { name, template: TEMPLATE, count: n },
  });
  const id = required(created.body, "lab").id;
  await waitForLab(stack, id, n, timeoutMs);
  const setupMs = performance.now() - started;

  const before = await grade(api, id);
  // Untimed, as in the baseline: the failed probes' ARP resolutions end first, so that the second
  // run does not depend on how fast the solution was.
  await sleep(NEIGHBOUR_SETTLE_MS);

  const solving = performance.now();
  const [clock] = await stack.sql<{ now: Date }[]>`select clock_timestamp() as now`;
  await api.expect([202], "POST", `/v1/labs/${id}/solve`, { body: {} });
  // A connected node stays `ready` while its connect is carried out, so the lab's summary does
  // not show the solution's progress: its operations do.
  const operations = await stack.sql<{ id: string }[]>`
    select id from operations where created_at >= ${clock?.now ?? new Date(0)}`;
  if (operations.length < n) {
    throw new Error(`the solution of ${n} instances recorded ${operations.length} operations`);
  }
  await waitForOperations(
    stack,
    operations.map((op) => op.id),
    timeoutMs,
  );
  await waitForLab(stack, id, n, timeoutMs);
  const solveMs = performance.now() - solving;

  const after = await grade(api, id);

  const tearing = performance.now();
  await api.expect([202, 204], "DELETE", `/v1/labs/${id}`, { wait: 120, timeoutMs: 150_000 });
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    stack.assertRunning();
    const gone = (await api.request("GET", `/v1/labs/${id}`, { parse: false })).status === 404;
    if (gone && (await listNetns(labnetNetns)).length === 0) {
      break;
    }
    if (performance.now() > deadline) {
      throw new Error(`lab ${name} not gone after ${Math.round(timeoutMs / 1000)} s`);
    }
    await sleep(POLL_MS);
  }
  const teardownMs = performance.now() - tearing;
  await assertNoPinsLeft(labnetNetns);
  return { n, setupMs, before, solveMs, after, teardownMs };
}

/** Waits until all `n` instances are ready; throws on a failed one (with its problem). */
async function waitForLab(stack: LabnetStack, id: string, n: number, timeoutMs: number): Promise<Lab> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    stack.assertRunning();
    const lab = required((await stack.api.expect<Lab>([200], "GET", `/v1/labs/${id}`)).body, "lab");
    const { summary } = lab;
    if (summary.failed > 0) {
      const failed = lab.instances.find((i) => i.state === "failed");
      throw new Error(
        `${summary.failed} of ${n} instances failed, e.g. ${failed?.student}: ${failed?.problem}`,
      );
    }
    if (summary.total === n && summary.ready === n) {
      return lab;
    }
    if (performance.now() > deadline) {
      throw new Error(
        `timed out after ${Math.round(timeoutMs / 1000)} s: ${summary.ready} of ${n} instances ready`,
      );
    }
    await sleep(POLL_MS);
  }
}

/** One check run of the whole lab, timed until it is done; counts from its matrix. */
async function grade(api: Api, id: string): Promise<Grading> {
  const started = performance.now();
  const answer = await api.expect<CheckRun>([200, 202], "POST", `/v1/labs/${id}/checks`, {
    body: {},
    wait: 60,
    timeoutMs: 90_000,
  });
  let run = required(answer.body, "check run");
  while (run.state === "running") {
    if (performance.now() - started > 300_000) {
      throw new Error(`check run ${run.id} still running after 5 minutes`);
    }
    await sleep(POLL_MS);
    run = required(
      (await api.expect<CheckRun>([200], "GET", `/v1/labs/${id}/check-runs/${run.id}`)).body,
      "check run",
    );
  }
  const ms = performance.now() - started;
  if (run.state !== "done") {
    throw new Error(`check run ${run.id} ${run.state}: ${run.problem}`);
  }
  const outcomes = run.results.flatMap((row) => row.checks.map((check) => ({ student: row.student, check })));
  const failed = outcomes.find((o) => !o.check.passed);
  return {
    ms,
    instances: run.results.length,
    passed: outcomes.filter((o) => o.check.passed).length,
    failed: outcomes.filter((o) => !o.check.passed).length,
    reaching: run.results.filter((row) => row.checks.some((c) => c.name === APP_REACHES_WEB && c.passed))
      .length,
    example:
      failed === undefined
        ? ""
        : `${failed.student} "${failed.check.name}": ${failed.check.observed} (${failed.check.evidence?.command}: ${failed.check.evidence?.output.trim().slice(0, 200)})`,
  };
}

/** The executor releases a machine's user-namespace pin with its namespace (waits up to 10 s). */
async function assertNoPinsLeft(prefix: string): Promise<void> {
  const deadline = performance.now() + 10_000;
  for (;;) {
    const left = (await readdir(USERNS_DIR).catch(() => [] as string[])).filter((p) => p.startsWith(prefix));
    if (left.length === 0) {
      return;
    }
    if (performance.now() > deadline) {
      throw new Error(`${left.length} user namespace pins left after the teardown: ${left[0]}`);
    }
    await sleep(POLL_MS);
  }
}

function required<T>(value: T | undefined, what: string): T {
  if (value === undefined) {
    throw new Error(`the answer carries no ${what}`);
  }
  return value;
}
