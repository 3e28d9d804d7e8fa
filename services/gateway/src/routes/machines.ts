import { createMachine, deleteMachine, resolveHost } from "@labnet/commands";
import { findHost, listMachines, onVisibleHost, schema } from "@labnet/db";
import type { GatewayApp } from "../app";
import { dockerAccessOf } from "../docker/access";
import { registerOperation } from "../http/openapi-router";
import { paginate } from "../http/paginate";
import { machineViews } from "../views/machine-view";
import type { AppDeps } from "./deps";
import { respondToOperation, waitUntilGone } from "./respond";

export function registerMachineRoutes(app: GatewayApp, deps: AppDeps): void {
  const { db } = deps;
  const loadMachine = (id: string) => async () => {
    const row = await findHost(db, id);
    return row ? (await machineViews(db, [row]))[0] : undefined;
  };

  registerOperation(app, "listMachines", async (c, input) => {
    const { host, kind, label, limit, cursor } = input.query ?? {};
    const labHostId = host ? (await resolveHost(db, host, "query.host")).id : undefined;
    const rows = await listMachines(db, {
      visible: onVisibleHost(c.get("access").scope, schema.hosts.id),
      ...(labHostId ? { labHostId } : {}),
      ...(kind ? { kind } : {}),
      ...(label ? { labels: Array.isArray(label) ? label : [label] } : {}),
    });
    // By name, as the document says.
    const page = paginate(rows, { limit, cursor }, (m) => [m.name, m.id]);
    return c.json({ items: await machineViews(db, page.items), next: page.next }, 200);
  });

  registerOperation(app, "getMachine", async (c, input) => {
    const row = await resolveHost(db, input.params.machineId, "path.machineId");
    const [view] = await machineViews(db, [row]);
    return c.json(view ? { ...view, docker: dockerAccessOf(c.req.url, row) } : view, 200);
  });

  registerOperation(app, "createMachine", async (c, input) => {
    const { machine, operation } = await createMachine({
      ctx: deps.commands,
      input: { ...input.body, ownerId: c.get("access").token.accountId },
    });
    return respondToOperation(c, deps, {
      operation,
      doneStatus: 201,
      location: `/v1/machines/${machine.id}`,
      load: loadMachine(machine.id),
    });
  });

  registerOperation(app, "deleteMachine", async (c, input) => {
    const { machine } = await deleteMachine({
      ctx: deps.commands,
      ref: input.params.machineId,
      force: input.query?.force === true,
    });
    // Removal is several converges (what is on the machine, then its namespace).
    if (await waitUntilGone(c, async () => !(await findHost(db, machine.id)))) {
      return c.body(null, 204);
    }
    const current = (await findHost(db, machine.id)) ?? machine;
    const [view] = await machineViews(db, [current]);
    return c.json(view, 202);
  });
}
