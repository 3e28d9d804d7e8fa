import { notFound, resolveHost, resolveLab, selectInstances } from "@labnet/commands";
import { auditOfRequests, type EventFilter, findLab, listEvents } from "@labnet/db";
import { streamSSE } from "hono/streaming";
import type { Access } from "../access/gate";
import type { GatewayApp } from "../app";
import { registerOperation } from "../http/openapi-router";
import { DEFAULT_EVENT_STREAM_LIMITS, eventView, serveEventStream } from "../services/event-stream";
import { auditEntryView } from "../views/access-view";
import type { AppDeps } from "./deps";

/** Page sizes when the request names none. */
const DEFAULT_PAGE = 100;
const DEFAULT_TIMELINE_PAGE = 1_000;

/**
 * `GET /v1/events` (Server-Sent Events, or a JSON page) and a lab instance's timeline. The
 * stream's response is not JSON: the router validates requests only, so the handler answers
 * `text/event-stream` through Hono's streamSSE as the document declares.
 */
export function registerEventRoutes(app: GatewayApp, deps: AppDeps): void {
  const { db, events: hub } = deps;
  const limits = deps.eventStreamLimits ?? DEFAULT_EVENT_STREAM_LIMITS;

  registerOperation(app, "listEvents", async (c, { query, headers }) => {
    const filter: EventFilter = {
      labIds: query.lab && (await Promise.all(query.lab.map((ref) => labId(ref)))),
      instanceIds: query.instance,
      machineIds:
        query.machine &&
        (await Promise.all(
          query.machine.map(async (ref) => (await resolveHost(db, ref, "query.machine")).id),
        )),
      resourceTypes: query.resourceType,
      types: query.type,
      ...reachOf(c.get("access")),
    };
    const lastEventId = headers["Last-Event-ID"];
    const after = query.after ?? (lastEventId === undefined ? undefined : Number(lastEventId));
    if (query.format === "json") {
      await hub.settle();
      const upTo = hub.horizon();
      const limit = query.limit ?? DEFAULT_PAGE;
      const start = after ?? 0;
      const rows = await listEvents(db, { after: start, upTo, filter, limit });
      const next = rows.length === limit ? (rows.at(-1)?.id ?? start) : Math.max(start, upTo);
      return c.json({ items: rows.map(eventView), next }, 200);
    }
    // The stream starts where the answer is given: a client that has its headers back sees
    // everything recorded after that (a lab it creates next, say), replayed if need be.
    let start = after;
    if (start === undefined) {
      await hub.settle();
      start = hub.horizon();
    }
    return streamSSE(c, (stream) =>
      serveEventStream({ stream, hub, db, log: deps.log, after: start, filter, limits }),
    );
  });

  registerOperation(app, "getLabInstanceTimeline", async (c, { params, query }) => {
    const lab = await resolveLab(deps.commands, params.labId);
    const [instance] = await selectInstances(deps.commands, lab, [params.instanceId], "path.instanceId");
    if (!instance) {
      throw notFound("lab instance", params.instanceId, "path.instanceId");
    }
    const limit = query.limit ?? DEFAULT_TIMELINE_PAGE;
    const start = query.after ?? 0;
    await hub.settle();
    const upTo = hub.horizon();
    const rows = await listEvents(db, { after: start, upTo, filter: { instanceIds: [instance.id] }, limit });
    return c.json(
      {
        labId: lab.id,
        instanceId: instance.id,
        student: instance.student,
        items: rows.map(eventView),
        requests: (
          await auditOfRequests(db, [...new Set(rows.flatMap((r) => (r.requestId ? [r.requestId] : [])))])
        ).map(auditEntryView),
        next: rows.length === limit ? (rows.at(-1)?.id ?? start) : Math.max(start, upTo),
      },
      200,
    );
  });

  async function labId(ref: string): Promise<string> {
    const lab = await findLab(db, ref);
    if (!lab) {
      throw notFound("lab", ref, "query.lab");
    }
    return lab.id;
  }
}

/** What a token's events are: its account's (an instructor's), its instance's (a student's), all (an admin's). */
function reachOf(access: Access): Pick<EventFilter, "reach"> {
  const { scope } = access;
  switch (scope.kind) {
    case "all":
      return {};
    case "account":
      return { reach: { ownerId: scope.accountId } };
    case "instance":
      return { reach: { instanceId: scope.instanceId } };
  }
}
