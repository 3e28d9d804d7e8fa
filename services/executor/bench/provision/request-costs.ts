/**
 * What one request of each kind costs the machine when the gateway is saturated: 8 closed-loop
 * clients send one kind at a time, as fast as it is answered, and the CPU the gateway, Postgres
 * and the bench's client used is divided by the requests answered. At saturation the costs of
 * waking an idle process are gone (at 300 requests/s a bare request costs several times more),
 * so these are the figures that bound a burst: the accept ceiling of a kind on this machine is
 * its cores divided by what one request costs everything on them.
 *
 * Creations are recorded, not built (`start: false`), so no converge runs beside them; their
 * removals are recorded operations the executor settles (its statements count as Postgres's).
 */
import { availableParallelism } from "node:os";
import { waitForQuietMachine } from "../harness";
import { CLIENTS, READ_NODES } from "./config";
import { inParallel, operationIdOf } from "./http";
import { setupBurst, teardownBurst, verifyTeardown, waitForOperations } from "./labnet";
import type { LabnetStack } from "./stack";

/** Creations measured at most (4 networks of 250: a /24 holds 253 besides its gateway). */
const MAX_CREATIONS = 1_000;
const NODES_PER_COST_NETWORK = 250;

export interface RequestCost {
  request: string;
  answered: number;
  perSecond: number;
  /** CPU per request, ms. */
  gateway: number;
  postgres: number;
  client: number;
}

export interface RequestCostsResult {
  seconds: number;
  cores: number;
  costs: RequestCost[];
}

/** Runs `call` from CLIENTS closed-loop clients for `seconds` (or `count` calls) and divides the CPU. */
async function costOf(
  stack: LabnetStack,
  request: string,
  limit: { seconds: number; count?: number },
  call: (index: number) => Promise<unknown>,
): Promise<RequestCost> {
  await waitForQuietMachine();
  const before = await stack.cpuSeconds();
  const clientBefore = process.cpuUsage();
  const started = performance.now();
  const deadline = started + limit.seconds * 1000;
  let next = 0;
  const client = async () => {
    while (performance.now() < deadline && (limit.count === undefined || next < limit.count)) {
      await call(next++);
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, client));
  const elapsed = (performance.now() - started) / 1000;
  const after = await stack.cpuSeconds();
  const used = process.cpuUsage(clientBefore);
  const per = (secondsUsed: number) => (secondsUsed * 1000) / next;
  return {
    request,
    answered: next,
    perSecond: next / elapsed,
    gateway: per(after.gateway - before.gateway),
    postgres: per(after.postgres - before.postgres),
    client: (used.user + used.system) / 1000 / next,
  };
}

/** Measures each kind for `seconds`; everything it made is gone afterwards. */
export async function measureRequestCosts(stack: LabnetStack, seconds: number): Promise<RequestCostsResult> {
  const { api } = stack;
  const targets = await setupBurst(stack, READ_NODES, { tag: "cost", subnetOffset: 210 });
  const [network] = targets.networks;
  if (network === undefined) {
    throw new Error("no network for the request costs");
  }
  const networks = await Promise.all(
    Array.from({ length: MAX_CREATIONS / NODES_PER_COST_NETWORK }, async (_, j) => {
      const response = await api.expect<{ id: string; name: string }>([201], "POST", "/v1/networks", {
        wait: 30,
        body: { name: `cost-rec${j}`, ipam: { configs: [{ subnet: `10.124.${j}.0/24` }] } },
      });
      if (response.body === undefined) {
        throw new Error("a network without a body");
      }
      return response.body;
    }),
  );
  const costs: RequestCost[] = [];
  costs.push(
    await costOf(stack, "GET /v1/healthz", { seconds }, () => api.expect([200], "GET", "/v1/healthz")),
  );
  costs.push(
    await costOf(stack, "GET /v1/nodes/{id}", { seconds }, (i) =>
      api.expect([200], "GET", `/v1/nodes/${targets.nodes[i % targets.nodes.length]?.id}`, { parse: false }),
    ),
  );
  costs.push(
    await costOf(stack, `GET /v1/nodes?network= (${READ_NODES})`, { seconds }, () =>
      api.expect([200], "GET", `/v1/nodes?network=${network.id}`, { parse: false }),
    ),
  );
  const created: string[] = [];
  costs.push(
    await costOf(stack, "POST /v1/nodes (recorded)", { seconds, count: MAX_CREATIONS }, async (i) => {
      const response = await api.expect<{ id: string }>([201], "POST", "/v1/nodes", {
        body: {
          name: `cost-rec-${i}`,
          networkMode: networks[Math.floor(i / NODES_PER_COST_NETWORK)]?.name,
          ports: ["80"],
          start: false,
        },
      });
      created.push(response.body?.id ?? "");
    }),
  );
  const removals: string[] = [];
  costs.push(
    await costOf(stack, "DELETE /v1/nodes/{id}", { seconds: 60, count: created.length }, async (i) => {
      removals.push(operationIdOf(await api.expect([202], "DELETE", `/v1/nodes/${created[i]}`)));
    }),
  );
  await waitForOperations(stack, removals, 60_000);
  const networkRemovals = await inParallel(networks.length, CLIENTS, async (j) =>
    operationIdOf(await api.expect([202], "DELETE", `/v1/networks/${networks[j]?.id}`)),
  );
  await waitForOperations(stack, networkRemovals, 60_000);
  await teardownBurst(stack, targets);
  await verifyTeardown(stack);
  return { seconds, cores: availableParallelism(), costs };
}
