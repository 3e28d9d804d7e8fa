/**
 * `docker events` of one machine, fed by Labnet's events (recorded in the changing transaction,
 * delivered by the gateway's event hub): networks created and destroyed, nodes connected to and
 * disconnected from them, nodes created, started (their sandbox built) and destroyed, as dockerd's
 * event messages, one JSON document per line.
 * `--since` replays from the events table, `--until` ends the stream; filters `type`, `event`,
 * `container` and `network` (name or id).
 */
import { type EventRow, listEvents } from "@labnet/db";
import type { AppDeps } from "../routes/deps";
import type { DockerRoute } from "./access";
import { DockerError } from "./errors";
import { DockerFilters } from "./filters";

/** At most this many past events are replayed for `--since`. */
const MAX_REPLAY = 10_000;

export interface DockerEvent {
  Type: "network" | "container";
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope: "local";
  time: number;
  timeNano: number;
  /** Pre-1.22 clients read these. */
  status: string;
  id: string;
}

/** dockerd's event for a Labnet event, or undefined when it has none. */
export function dockerEventOf(row: EventRow): DockerEvent | undefined {
  const data = row.data as {
    name?: string;
    state?: string;
    driver?: string;
    networkId?: string;
    networkName?: string;
  };
  const name = data.name ?? "";
  let type: DockerEvent["Type"];
  let action: string | undefined;
  let attributes: Record<string, string> = { name };
  let actor = row.resourceId;
  if (row.type === "node.connected" || row.type === "node.disconnected") {
    // dockerd reports these as the network's, naming the container.
    type = "network";
    action = row.type === "node.connected" ? "connect" : "disconnect";
    actor = data.networkId ?? "";
    attributes = { container: row.resourceId, name: data.networkName ?? "", type: data.driver ?? "" };
  } else if (row.resourceType === "network") {
    type = "network";
    action =
      row.type === "network.created" ? "create" : row.type === "network.deleted" ? "destroy" : undefined;
    attributes = { name, type: data.driver ?? "" };
  } else if (row.resourceType === "node") {
    type = "container";
    action =
      row.type === "node.created"
        ? "create"
        : row.type === "node.deleted"
          ? "destroy"
          : row.type === "node.state" && data.state === "ready"
            ? "start"
            : undefined;
  } else {
    return undefined;
  }
  if (!action) {
    return undefined;
  }
  const ms = row.at.getTime();
  return {
    Type: type,
    Action: action,
    Actor: { ID: actor, Attributes: attributes },
    scope: "local",
    time: Math.floor(ms / 1000),
    timeNano: ms * 1_000_000,
    status: action,
    id: actor,
  };
}

/** A `--since`/`--until` value: unix seconds (with a fraction), as the CLI sends them. */
function parseTime(raw: string | undefined, name: string): number | undefined {
  if (raw === undefined || raw === "") {
    return undefined;
  }
  const seconds = Number(raw);
  if (!Number.isFinite(seconds)) {
    throw new DockerError(400, `invalid value for ${name}: ${raw}`);
  }
  return seconds * 1000;
}

export function registerDockerEventRoutes(route: DockerRoute, deps: AppDeps): void {
  const { db, events: hub } = deps;

  route("GET", "/events", async (c) => {
    const machine = c.get("machine");
    const filters = DockerFilters.parse(c.req.query("filters"), ["type", "event", "container", "network"]);
    const since = parseTime(c.req.query("since"), "since");
    const until = parseTime(c.req.query("until"), "until");
    const wanted = (event: DockerEvent) =>
      filters.exact("type", event.Type) &&
      filters.exact("event", event.Action) &&
      (!filters.has("container") ||
        filters
          .values("container")
          .some((v) =>
            event.Type === "container"
              ? v === event.id || v === event.Actor.Attributes.name
              : v === event.Actor.Attributes.container,
          )) &&
      (!filters.has("network") ||
        (event.Type === "network" &&
          filters.values("network").some((v) => v === event.id || v === event.Actor.Attributes.name)));
    const encoder = new TextEncoder();
    const line = (event: DockerEvent) => encoder.encode(`${JSON.stringify(event)}\n`);

    await hub.settle();
    const horizon = hub.horizon();
    const past =
      since === undefined
        ? []
        : (
            await listEvents(db, {
              after: 0,
              upTo: horizon,
              filter: { machineIds: [machine.id] },
              limit: MAX_REPLAY,
            })
          )
            .filter((row) => row.at.getTime() >= since && (until === undefined || row.at.getTime() <= until))
            .map(dockerEventOf)
            .filter((e): e is DockerEvent => e !== undefined && wanted(e));
    let stop: () => void = () => undefined;
    const body = new ReadableStream<Uint8Array>({
      start: (controller) => {
        for (const event of past) {
          controller.enqueue(line(event));
        }
        if (until !== undefined && until <= Date.now()) {
          controller.close();
          return;
        }
        let cursor = horizon;
        let timer: NodeJS.Timeout | undefined;
        const unsubscribe = hub.subscribe({
          deliver: (rows) => {
            for (const row of rows) {
              if (row.id <= cursor || row.machineId !== machine.id) {
                continue;
              }
              const event = dockerEventOf(row);
              if (event && wanted(event)) {
                controller.enqueue(line(event));
              }
            }
            cursor = Math.max(cursor, rows.at(-1)?.id ?? cursor);
          },
          close: () => stop(),
        });
        stop = () => {
          unsubscribe();
          clearTimeout(timer);
          try {
            controller.close();
          } catch {
            // Already closed by the client.
          }
        };
        if (until !== undefined) {
          timer = setTimeout(stop, until - Date.now());
        }
      },
      cancel: () => stop(),
    });
    return new Response(body, { status: 200, headers: { "content-type": "application/json" } });
  });
}
