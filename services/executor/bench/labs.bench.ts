/**
 * `npm run bench` (part 4): labs end to end. For a class of N students (30 and 100 by default),
 * a lab of `builtin:seed-001-ex2` through Labnet as it runs on a lab host (HTTP → gateway →
 * Postgres → outbox → Redis → executor → kernel, the stack of the provision bench) against the
 * same kernel state built by batched standard tools, in the same run and namespace, as ratios:
 *
 *   - setup: `POST /v1/labs {"template": "builtin:seed-001-ex2", "count": N}` until the lab's
 *     `summary.ready` is N, against the machines, bridges, nodes and rules built per student
 *     (bench/labs/tools.ts);
 *   - grading: `POST /v1/labs/{id}/checks` (`Prefer: wait=60`) until the run's matrix is there,
 *     against one `ip netns exec <app_container> ping` per student, 16 at once as Labnet's
 *     probes; before and after the solution;
 *   - solve: `POST /v1/labs/{id}/solve` until every operation it recorded has settled, against
 *     a third veth (web_container on app) per student;
 *   - teardown: `DELETE /v1/labs/{id}` (`Prefer: wait=120`) until it answers 404 and its
 *     namespaces are gone, against one `ip -batch` of `netns del`.
 *
 * The answers are checked, since a wrong answer measured fast is worthless: before the solution
 * "app_container reaches web_container.app" fails in every instance (and the baseline's ping in
 * every student), after it every check passes (and every ping answers); otherwise the bench fails.
 * Class sizes come from `LABNET_BENCH_LAB_STUDENTS` (bench/labs/config.ts).
 *
 * Needs root. Everything happens in a throwaway namespace `lbench<pid>-labs` that plays the lab
 * host (its loopback serves the gateway; Postgres and Redis listen on unix sockets in
 * `/tmp/lbench<pid>-labs`); Labnet's machines and nodes are `lbench<pid>-labs-l…`, the
 * baseline's `lbench<pid>-labs-t-…`, and the LANs are bridges inside the bench's namespace; all
 * of it goes afterwards, also on failure or Ctrl-C, and the next run sweeps what a killed one
 * left. The machine's root namespace is never touched.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { assertInside, listNetns, machine, runBench, seconds as sec } from "./harness";
import { NEIGHBOUR_SETTLE_MS, waitForVethsGone } from "./kernel-tools";
import { APP_REACHES_WEB, CHECKS_PER_INSTANCE, loadLabsBenchConfig, TEMPLATE } from "./labs/config";
import { type LabnetClass, labnetClass } from "./labs/labnet";
import { type BatchedClass, type ClassResult, printClasses } from "./labs/report";
import {
  buildClass,
  type ClassLayout,
  classLayout,
  gradeClass,
  solveClass,
  teardownClass,
  verifyClass,
} from "./labs/tools";
import { Api } from "./provision/http";
import { sweepStaleRuns } from "./provision/run-dir";
import { type LabnetStack, startStack } from "./provision/stack";
import { prepareChains } from "./provision/tools";

/** Second octet of the baseline's LANs (Labnet's come from 10.0.0.0/8 from 10.0.0.0/24 on). */
const BATCHED_LAN_OCTET = 201;
const WARM_LAN_OCTET = 202;

async function measure(hostNetns: string): Promise<void> {
  await assertInside(hostNetns);
  const config = loadLabsBenchConfig();
  for (const swept of await sweepStaleRuns(hostNetns)) {
    process.stdout.write(`removed what a killed run left: ${swept}\n`);
  }
  process.stdout.write(
    `labs bench: ${TEMPLATE} for N = ${config.students.join(", ")} students; logs in /tmp/${hostNetns}/logs\n` +
      `${machine()} at the start (other work on the machine skews every ratio)\n`,
  );
  const admin = await startStack(hostNetns);
  let ok = false;
  try {
    // An instructor's token makes the labs, as in a class: their requests take the account's
    // quota checks, which an admin's skip.
    const stack = await asInstructor(admin);
    const runPrefix = `${hostNetns}-`;
    await prepareChains();
    // Warm-up, untimed and unchecked but for errors: the first machines, bridges and rules load
    // kernel modules, the first requests of each kind compile the gateway's routes and validators.
    progress("warm-up: a lab of 2 and 2 students built with batched tools");
    await labnetClass(stack, 2, "warm");
    await waitForVethsGone();
    await batchedClass(classLayout(2, "u", runPrefix, WARM_LAN_OCTET));
    const results: ClassResult[] = [];
    for (const n of config.students) {
      results.push(await measureClass(stack, n, runPrefix));
    }
    printClasses(results);
    process.stdout.write(`\n${machine()} at the end\n`);
    ok = true;
  } finally {
    await admin.stop({ keepLogs: !ok || config.keepLogs });
    if (!ok || config.keepLogs) {
      process.stderr.write(`logs of the gateway and executor kept in ${admin.paths.logs}\n`);
    }
  }
}

/** The stack with its client authenticated as a new instructor (default quotas). */
async function asInstructor(stack: LabnetStack): Promise<LabnetStack> {
  const created = await stack.api.expect<{ secret: string }>([201], "POST", "/v1/tokens", {
    body: { name: "bench instructor", role: "instructor" },
  });
  const secret = created.body?.secret;
  if (!secret) {
    throw new Error("the instructor token was answered without its secret");
  }
  return { ...stack, api: new Api(stack.api.baseUrl, secret) };
}

async function measureClass(stack: LabnetStack, n: number, runPrefix: string): Promise<ClassResult> {
  progress(`N=${n}: labnet`);
  const labnet = await labnetClass(stack, n, `class${n}`);
  assertLabnetAnswers(labnet);
  await waitForVethsGone();
  progress(
    `N=${n}: labnet setup ${sec(labnet.setupMs)}, grading ${sec(labnet.before.ms)}, solve ${sec(labnet.solveMs)}, ` +
      `grading ${sec(labnet.after.ms)}, teardown ${sec(labnet.teardownMs)} s; batched tools`,
  );
  const batched = await batchedClass(classLayout(n, "t", runPrefix, BATCHED_LAN_OCTET));
  if (batched.before.answered !== 0 || batched.after.answered !== n) {
    throw new Error(
      `batched: want 0 of ${n} pings answered before the solution and ${n} after, got ${batched.before.answered} and ${batched.after.answered}`,
    );
  }
  progress(
    `N=${n}: batched setup ${sec(batched.setupMs)}, grading ${sec(batched.before.ms)}, solve ${sec(batched.solveMs)}, ` +
      `grading ${sec(batched.after.ms)}, teardown ${sec(batched.teardownMs)} s`,
  );
  return { n, labnet, batched };
}

/** Fails the bench when Labnet's grading is not what the template's state must give. */
function assertLabnetAnswers(labnet: LabnetClass): void {
  const { n, before, after } = labnet;
  const problems: string[] = [];
  if (before.instances !== n || before.reaching !== 0) {
    problems.push(
      `before the solution "${APP_REACHES_WEB}" must fail in all ${n} instances: it passed in ${before.reaching} of ${before.instances}`,
    );
  }
  if (after.instances !== n || after.failed !== 0 || after.passed !== CHECKS_PER_INSTANCE * n) {
    problems.push(
      `after the solution all ${CHECKS_PER_INSTANCE * n} checks of ${n} instances must pass: ${after.passed} passed, ` +
        `${after.failed} failed in ${after.instances} instances (e.g. ${after.example})`,
    );
  }
  if (problems.length > 0) {
    throw new Error(`labnet graded N=${n} wrong:\n  ${problems.join("\n  ")}`);
  }
}

/** The class's whole cycle with batched tools, each step timed; checks nothing is left. */
async function batchedClass(layout: ClassLayout): Promise<BatchedClass> {
  const started = performance.now();
  await buildClass(layout);
  const setupMs = performance.now() - started;
  await verifyClass(layout);
  const before = await timed(() => gradeClass(layout));
  // Untimed, as for Labnet: the failed pings' ARP resolutions end first (otherwise a ping right
  // after the solution is queued behind one and fails with it).
  await sleep(NEIGHBOUR_SETTLE_MS);
  const solving = performance.now();
  await solveClass(layout);
  const solveMs = performance.now() - solving;
  const after = await timed(() => gradeClass(layout));
  const tearing = performance.now();
  await teardownClass(layout);
  const teardownMs = performance.now() - tearing;
  const left = await listNetns(layout.netnsPrefix);
  if (left.length > 0) {
    throw new Error(`batched: ${left.length} namespaces left after teardown`);
  }
  await waitForVethsGone();
  return {
    setupMs,
    before: { ms: before.ms, answered: before.value },
    solveMs,
    after: { ms: after.ms, answered: after.value },
    teardownMs,
  };
}

async function timed<T>(task: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await task();
  return { value, ms: performance.now() - started };
}

function progress(message: string): void {
  process.stdout.write(`  ${message}\n`);
}

runBench({
  name: "labs",
  needs: "network namespaces, user namespaces, veths, iptables, and a private Postgres and Redis",
  url: import.meta.url,
  measure,
});
