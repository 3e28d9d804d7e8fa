import { createMachine, deleteMachine, resolveHost } from "@labnet/commands";
import { findHost, listMachines } from "@labnet/db";
import type { GatewayApp } from "../app";
import { registerOperation } from "../http/openapi-router";
import { parsePreferWait, preferenceApplied } from "../http/prefer";
import { requireRole } from "../middleware/auth";
import { machineViews } from "../views/machine-view";
import type { AppDeps } from "./deps";
import { respondToOperation } from "./respond";

/** How often a waiting removal looks whether the machine is gone. */
const REMOVAL_POLL_MS = 100;

export function registerMachineRoutes(app: GatewayApp, deps: AppDeps): void {
  const { db } = deps;
  const loadMachine = (id: string) => async () => {
    const row = await findHost(db, id);
    return row ? (await machineViews(db, [row]))[0] : undefined;
  };

  registerOperation(app, "listMachines", async (c, input) => {
    const { host, kind, label } = input.query ?? {};
    const labHostId = host ? (await resolveHost(db, host, "query.host")).id : undefined;
    const rows = await listMachines(db, {
      ...(labHostId ? { labHostId } : {}),
      ...(kind ? { kind } : {}),
      ...(label ? { labels: Array.isArray(label) ? label : [label] } : {}),
    });
    return c.json({ items: await machineViews(db, rows) }, 200);
  });

  registerOperation(app, "getMachine", async (c, input) => {
    const row = await resolveHost(db, input.params.machineId, "path.machineId");
    const [view] = await machineViews(db, [row]);
    return c.json(view, 200);
  });

  registerOperation(app, "createMachine", async (c, input) => {
    requireRole(c.get("token"), ["admin"]);
    const { machine, operation } = await createMachine({ ctx: deps.commands, input: input.body });
    return respondToOperation(c, deps, {
      operation,
      doneStatus: 201,
      location: `/v1/machines/${machine.id}`,
      load: loadMachine(machine.id),
    });
  });

  registerOperation(app, "deleteMachine", async (c, input) => {
    requireRole(c.get("token"), ["admin"]);
    const { machine } = await deleteMachine({
      ctx: deps.commands,
      ref: input.params.machineId,
      force: input.query?.force === true,
    });
    // Removal is several converges (what is on the machine, then its namespace): with
    // `Prefer: wait=N`, wait for the record to go.
    const wait = parsePreferWait(c.req.header("prefer"));
    if (wait !== undefined && wait > 0) {
      c.header("Preference-Applied", preferenceApplied(wait));
      const deadline = Date.now() + wait * 1000;
      while (Date.now() < deadline) {
        if (!(await findHost(db, machine.id))) {
          return c.body(null, 204);
        }
        await new Promise((r) => setTimeout(r, REMOVAL_POLL_MS));
      }
    }
    const current = (await findHost(db, machine.id)) ?? machine;
    const [view] = await machineViews(db, [current]);
    return c.json(view, 202);
  });
}
