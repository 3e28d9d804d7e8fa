/**
 * `npm run bench:events` (issue 10): what event subscribers cost provisioning. A lab of
 * `builtin:seed-001-ex2` for 30 students (`LABNET_BENCH_EVENTS_STUDENTS`) is set up (POST until
 * every instance is ready) and torn down through the stack of the provision bench, alternately
 * with no `GET /v1/events` subscriber and with 100 (`LABNET_BENCH_EVENTS_SUBSCRIBERS`) reading
 * every event as it comes, `LABNET_BENCH_EVENTS_ROUNDS` times each (default 3), alternating; it
 * prints the median setup time of each and their ratio (the issue asks for no more than a few
 * percent), and the CPU the gateway spent on each setup: on a 2-core machine shared with
 * Postgres, the executor and the subscribers themselves, wall time varies by tens of percent
 * from round to round, and the gateway's CPU is the steadier measure of what serving the
 * streams costs. The subscribers' answers are checked: each must have seen every instance's events.
 *
 * Needs root. Runs in a throwaway namespace `lbench<pid>-events` like the labs bench; the
 * machine's root namespace is never touched.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { assertInside, machine, median, runBench, seconds as sec, table } from "./harness";
import { waitForVethsGone } from "./kernel-tools";
import { TEMPLATE } from "./labs/config";
import { sweepStaleRuns } from "./provision/run-dir";
import { type LabnetStack, startStack } from "./provision/stack";
import { prepareChains } from "./provision/tools";

interface LabView {
  id: string;
  summary: { total: number; ready: number; failed: number };
}

const POLL_MS = 100;

async function measure(hostNetns: string): Promise<void> {
  await assertInside(hostNetns);
  const students = Number(process.env.LABNET_BENCH_EVENTS_STUDENTS ?? 30);
  const subscribers = Number(process.env.LABNET_BENCH_EVENTS_SUBSCRIBERS ?? 100);
  const rounds = Number(process.env.LABNET_BENCH_EVENTS_ROUNDS ?? 3);
  for (const swept of await sweepStaleRuns(hostNetns)) {
    process.stdout.write(`removed what a killed run left: ${swept}\n`);
  }
  process.stdout.write(
    `events bench: ${TEMPLATE} for ${students} students with 0 and ${subscribers} subscribers, ${rounds} rounds\n` +
      `${machine()} at the start\n`,
  );
  const stack = await startStack(hostNetns);
  let ok = false;
  try {
    await prepareChains();
    progress("warm-up: a lab of 2 students");
    await setUpAndTearDown(stack, 2, "warm", 0);
    const plain: Round[] = [];
    const watched: Round[] = [];
    for (let round = 0; round < rounds; round += 1) {
      plain.push(await measureRound(stack, students, `plain${round}`, 0));
      progress(`round ${round + 1}: 0 subscribers ${describe(plain.at(-1))}`);
      watched.push(await measureRound(stack, students, `watched${round}`, subscribers));
      progress(`round ${round + 1}: ${subscribers} subscribers ${describe(watched.at(-1))}`);
    }
    const row = (label: string, rs: Round[], base: Round[]) => {
      const of = (key: keyof Round) => median(rs.map((r) => r[key]));
      const ratioTo = (key: keyof Round) => (of(key) / median(base.map((r) => r[key]))).toFixed(2);
      return [
        label,
        sec(of("setupMs")),
        ratioTo("setupMs"),
        of("gatewayCpuS").toFixed(2),
        ratioTo("gatewayCpuS"),
        of("stackCpuS").toFixed(2),
        ratioTo("stackCpuS"),
        of("clientCpuS").toFixed(2),
      ];
    };
    process.stdout.write(
      `\n${table(
        [
          "setup of a lab of N students",
          "median s",
          "ratio",
          "gateway CPU s",
          "ratio",
          "gateway+executor+Postgres CPU s",
          "ratio",
          "subscribers' CPU s",
        ],
        [row("0 subscribers", plain, plain), row(`${subscribers} subscribers`, watched, plain)],
      )}\n${machine()} at the end\n`,
    );
    ok = true;
  } finally {
    await stack.stop({ keepLogs: !ok });
  }
}

interface Round {
  setupMs: number;
  /** CPU the gateway used from the POST until every instance was ready. */
  gatewayCpuS: number;
  /** CPU the gateway, the executor and Postgres used meanwhile: what provisioning costs. */
  stackCpuS: number;
  /** CPU this process (the subscribers, and the polling) used meanwhile. */
  clientCpuS: number;
}

function describe(round: Round | undefined): string {
  return round
    ? `${sec(round.setupMs)} s, gateway ${round.gatewayCpuS.toFixed(2)} CPU s, stack ${round.stackCpuS.toFixed(2)} CPU s, subscribers ${round.clientCpuS.toFixed(2)} CPU s`
    : "";
}

async function measureRound(
  stack: LabnetStack,
  n: number,
  name: string,
  subscribers: number,
): Promise<Round> {
  const cpu = await stack.cpuSeconds();
  const client = process.cpuUsage();
  let gatewayCpuS = 0;
  let stackCpuS = 0;
  let clientCpuS = 0;
  const setupMs = await setUpAndTearDown(stack, n, name, subscribers, async () => {
    const now = await stack.cpuSeconds();
    gatewayCpuS = now.gateway - cpu.gateway;
    stackCpuS = gatewayCpuS + now.executor - cpu.executor + now.postgres - cpu.postgres;
    const used = process.cpuUsage(client);
    clientCpuS = (used.user + used.system) / 1e6;
  });
  return { setupMs, gatewayCpuS, stackCpuS, clientCpuS };
}

/** Setup time (POST until every instance is ready) of a lab of `n`, with `subscribers` streams open. */
async function setUpAndTearDown(
  stack: LabnetStack,
  n: number,
  name: string,
  subscribers: number,
  onReady: () => Promise<void> = async () => {},
): Promise<number> {
  const { api } = stack;
  const streams = await Promise.all(Array.from({ length: subscribers }, () => subscribe(stack)));
  try {
    const started = performance.now();
    const created = await api.expect<LabView>([201, 202], "POST", "/v1/labs", {
      body: { name, template: TEMPLATE, count: n },
    });
    const id = created.body?.id ?? "";
    for (;;) {
      stack.assertRunning();
      const lab = (await api.request<LabView>("GET", `/v1/labs/${id}`)).body;
      if (lab && lab.summary.failed > 0) {
        throw new Error(`${lab.summary.failed} instances of ${name} failed`);
      }
      if (lab && lab.summary.ready === n) {
        break;
      }
      await sleep(POLL_MS);
    }
    const setupMs = performance.now() - started;
    await onReady();
    // Every subscriber saw the lab's instances being created (the stream works while measured).
    await sleep(500);
    for (const s of streams) {
      if (s.instancesCreated() < n) {
        throw new Error(`a subscriber saw ${s.instancesCreated()} of ${n} instances created`);
      }
    }
    await api.expect([202, 204], "DELETE", `/v1/labs/${id}`, { wait: 120, timeoutMs: 150_000 });
    for (;;) {
      if ((await api.request("GET", `/v1/labs/${id}`, { parse: false })).status === 404) {
        break;
      }
      await sleep(POLL_MS);
    }
    await waitForVethsGone();
    return setupMs;
  } finally {
    for (const s of streams) {
      s.close();
    }
  }
}

/** One `GET /v1/events` reader, counting `lab_instance.created` as it reads. */
async function subscribe(stack: LabnetStack): Promise<{ instancesCreated(): number; close(): void }> {
  const controller = new AbortController();
  const res = await fetch(`${stack.api.baseUrl}/v1/events`, {
    headers: { authorization: `Bearer ${stack.api.token}` },
    signal: controller.signal,
  });
  if (res.status !== 200 || !res.body) {
    throw new Error(`GET /v1/events answered ${res.status}`);
  }
  let created = 0;
  let tail = "";
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  void (async () => {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) {
          break;
        }
        const text = tail + value;
        const lines = text.split("\n");
        tail = lines.pop() ?? "";
        created += lines.filter((l) => l === "event: lab_instance.created").length;
      }
    } catch {
      // Aborted by close().
    }
  })();
  return { instancesCreated: () => created, close: () => controller.abort() };
}

function progress(message: string): void {
  process.stdout.write(`  ${message}\n`);
}

runBench({
  name: "events",
  needs: "network namespaces, user namespaces, veths, iptables, and a private Postgres and Redis",
  url: import.meta.url,
  measure,
});
