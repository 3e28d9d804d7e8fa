/**
 * Takes host ports for a node in the ledger, inside the caller's transaction. The database
 * decides every race (exclusion constraint `port_mappings_no_collision`): fixed ports are
 * inserted and a refused row is a collision; random ports are drawn among the free ones
 * and a refused draw (a concurrent winner) is retried with another candidate.
 */
import {
  findCollidingMappings,
  findFreeHostPorts,
  type HostRow,
  hostIpOfBind,
  type NewPortMapping,
  type NodeRow,
  type PortMappingRow,
  type Tx,
  tryInsertPortMapping,
  tryInsertPortMappings,
} from "@labnet/db";
import { formatPortMapping } from "@labnet/netplan";
import { DomainError } from "../errors";
import type { LocatedPortRequest } from "./port-requests";

/** Free ports fetched per draw; each is tried in turn. */
const CANDIDATES_PER_DRAW = 16;
/**
 * Random ports tried one by one before listing the range's free ports: in a range that is
 * not nearly full the first one almost always fits (one insert, checked by the exclusion
 * constraint's index), and eight misses in a row mean the range is worth listing.
 */
const QUICK_DRAWS = 8;
/** Below this many ports a range is listed at once (a random sample would repeat itself). */
const QUICK_DRAW_MIN_RANGE = 64;
/** Draws before giving up on a range that concurrent callers keep emptying. */
const DRAWS = 8;
/** Attempts after Postgres broke a deadlock between two callers taking overlapping ports. */
const DEADLOCK_ATTEMPTS = 3;
const DEADLOCK_DETECTED = "40P01";

/**
 * Records a host port for each request, all or none: fixed ports first (in a canonical
 * order, so concurrent callers queue instead of deadlocking), then ranges (lowest free
 * port) and random ports (random among the free ports of the host's range).
 *
 * @throws DomainError PORT_IN_USE naming the node and mapping a fixed port collides with;
 *   PORT_RANGE_EXHAUSTED when a range has no free port left.
 */
export async function allocatePorts(
  tx: Tx,
  target: { host: HostRow; node: Pick<NodeRow, "id" | "name"> },
  requests: readonly LocatedPortRequest[],
): Promise<PortMappingRow[]> {
  if (requests.length === 0) {
    return [];
  }
  if (requests.length === 1) {
    // One port waits for no other caller's ports in a way that could close a cycle.
    return allocateOnce(tx, target, requests);
  }
  for (let attempt = 1; ; attempt++) {
    try {
      // A savepoint: a deadlock victim rolls back only its own ports and tries again.
      return await tx.transaction((sp) => allocateOnce(sp, target, requests));
    } catch (error) {
      if (attempt >= DEADLOCK_ATTEMPTS || !isDeadlock(error)) {
        throw error;
      }
    }
  }
}

async function allocateOnce(
  tx: Tx,
  { host, node }: { host: HostRow; node: Pick<NodeRow, "id" | "name"> },
  requests: readonly LocatedPortRequest[],
): Promise<PortMappingRow[]> {
  const row = (request: LocatedPortRequest, hostPort: number): NewPortMapping => ({
    hostId: host.id,
    nodeId: node.id,
    protocol: request.protocol,
    hostIp: request.hostIp,
    hostPort,
    containerPort: request.containerPort,
    random: request.hostPorts === undefined,
  });

  const fixed = requests
    .filter((r) => r.hostPorts !== undefined && r.hostPorts.start === r.hostPorts.end)
    .sort(
      (a, b) =>
        compare(a.protocol, b.protocol) ||
        (a.hostPorts?.start ?? 0) - (b.hostPorts?.start ?? 0) ||
        compare(a.hostIp, b.hostIp),
    );
  const recorded = await tryInsertPortMappings(
    tx,
    fixed.map((r) => row(r, r.hostPorts?.start ?? 0)),
  );
  if (recorded.length < fixed.length) {
    // Each recorded row accounts for one request; the first request left over collided.
    const unclaimed = [...recorded];
    const missing = fixed.find((r) => {
      const i = unclaimed.findIndex(
        (m) =>
          m.protocol === r.protocol &&
          m.hostPort === r.hostPorts?.start &&
          m.containerPort === r.containerPort &&
          hostIpOfBind(m.bind) === r.hostIp,
      );
      if (i >= 0) {
        unclaimed.splice(i, 1);
      }
      return i < 0;
    });
    if (missing) {
      throw await portInUse(tx, host, node, missing, missing.hostPorts?.start ?? 0);
    }
    throw new Error("the ledger recorded fewer fixed ports than asked, yet each request has its row");
  }

  for (const request of requests) {
    if (request.hostPorts !== undefined && request.hostPorts.start === request.hostPorts.end) {
      continue;
    }
    recorded.push(await drawPort(tx, host, request, (port) => row(request, port)));
  }
  return recorded;
}

/** One free port of the request's range (or the host's random range), retried on a lost race. */
async function drawPort(
  tx: Tx,
  host: HostRow,
  request: LocatedPortRequest,
  row: (port: number) => NewPortMapping,
): Promise<PortMappingRow> {
  const range = request.hostPorts ?? { start: host.portRangeStart, end: host.portRangeEnd };
  if (request.hostPorts === undefined && range.end - range.start + 1 >= QUICK_DRAW_MIN_RANGE) {
    for (const port of randomPorts(range, QUICK_DRAWS)) {
      const recorded = await tryInsertPortMapping(tx, row(port));
      if (recorded) {
        return recorded;
      }
    }
  }
  for (let draw = 0; draw < DRAWS; draw++) {
    const candidates = await findFreeHostPorts(tx, {
      hostId: host.id,
      protocol: request.protocol,
      hostIp: request.hostIp,
      start: range.start,
      end: range.end,
      limit: CANDIDATES_PER_DRAW,
      order: request.hostPorts === undefined ? "random" : "ascending",
    });
    if (candidates.length === 0) {
      throw exhausted(host, request, range, "every port of it is allocated");
    }
    for (const port of candidates) {
      const [recorded] = await tryInsertPortMappings(tx, [row(port)]);
      if (recorded) {
        return recorded;
      }
    }
  }
  throw exhausted(host, request, range, "concurrent requests took every free port drawn; try again");
}

async function portInUse(
  tx: Tx,
  host: HostRow,
  node: Pick<NodeRow, "id" | "name">,
  request: LocatedPortRequest,
  hostPort: number,
): Promise<DomainError> {
  const [holder] = await findCollidingMappings(tx, {
    hostId: host.id,
    protocol: request.protocol,
    hostIp: request.hostIp,
    hostPort,
  });
  const who = holder
    ? `node ${holder.nodeName}${holder.nodeId === node.id ? " (this node)" : ""} as ${formatPortMapping({
        hostIp: hostIpOfBind(holder.bind),
        hostPort: holder.hostPort,
        containerPort: holder.containerPort,
        protocol: holder.protocol,
      })} (${holder.id})`
    : "another node";
  return new DomainError(
    "PORT_IN_USE",
    `Bind for ${request.hostIp}:${hostPort}/${request.protocol} failed on host ${host.name}: port is already allocated to ${who}`,
    [
      {
        location: request.location,
        message: `host port ${hostPort}/${request.protocol} is allocated to ${who}`,
      },
    ],
  );
}

function exhausted(
  host: HostRow,
  request: LocatedPortRequest,
  range: { start: number; end: number },
  why: string,
): DomainError {
  const which = request.hostPorts === undefined ? "the host's port range" : "the requested range";
  const message = `no free host port for ${request.containerPort}/${request.protocol} on ${request.hostIp} in ${which} ${range.start}-${range.end} of host ${host.name}: ${why}`;
  return new DomainError("PORT_RANGE_EXHAUSTED", message, [{ location: request.location, message }]);
}

/** `count` distinct ports of the range, uniformly at random. */
function randomPorts(range: { start: number; end: number }, count: number): number[] {
  const ports = new Set<number>();
  while (ports.size < count) {
    ports.add(range.start + Math.floor(Math.random() * (range.end - range.start + 1)));
  }
  return [...ports];
}

function isDeadlock(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && typeof current === "object" && current !== null; depth++) {
    const candidate = current as { code?: unknown; cause?: unknown };
    if (candidate.code === DEADLOCK_DETECTED) {
      return true;
    }
    current = candidate.cause;
  }
  return false;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
