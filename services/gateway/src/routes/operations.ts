import { notFound } from "@labnet/commands";
import { getOperation } from "@labnet/db";
import type { GatewayApp } from "../app";
import { registerOperation } from "../http/openapi-router";
import { operationView } from "../views/operation-view";
import type { AppDeps } from "./deps";

export function registerOperationRoutes(app: GatewayApp, deps: AppDeps): void {
  registerOperation(app, "getOperation", async (c, input) => {
    const op = await getOperation(deps.db, input.params.operationId);
    if (!op) {
      throw notFound("operation", input.params.operationId, "path.operationId");
    }
    return c.json(await operationView(deps.db, op), 200);
  });
}
