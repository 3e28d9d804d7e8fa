import { resolveHost } from "@labnet/commands";
import { listHosts } from "@labnet/db";
import type { GatewayApp } from "../app";
import { registerOperation } from "../http/openapi-router";
import { paginate } from "../http/paginate";
import { hostViews } from "../views/host-view";
import type { AppDeps } from "./deps";

export function registerHostRoutes(app: GatewayApp, deps: AppDeps): void {
  const { db } = deps;
  registerOperation(app, "listHosts", async (c, input) => {
    const page = paginate(await listHosts(db), input.query, (h) => [h.name, h.id]);
    return c.json({ items: await hostViews(db, page.items), next: page.next }, 200);
  });
  registerOperation(app, "getHost", async (c, input) => {
    const host = await resolveHost(db, input.params.hostId, "path.hostId");
    const [view] = await hostViews(db, [host]);
    return c.json(view, 200);
  });
}
