import { resolveHost } from "@labnet/commands";
import { listHosts } from "@labnet/db";
import type { GatewayApp } from "../app";
import { registerOperation } from "../http/openapi-router";
import { numberKey, paginate } from "../http/paginate";
import { addressPoolsView } from "../views/address-pools-view";
import type { AppDeps } from "./deps";

export function registerIpamRoutes(app: GatewayApp, deps: AppDeps): void {
  const { db } = deps;
  registerOperation(app, "listAddressPools", async (c, input) => {
    const hostRef = input.query?.host;
    const hosts = hostRef ? [await resolveHost(db, hostRef, "query.host")] : await listHosts(db);
    const pools = await addressPoolsView(db, deps.commands.addressPools, hosts);
    // In the order they are tried.
    const order = new Map(pools.map((pool, i) => [pool, numberKey(i)]));
    return c.json(
      paginate(pools, input.query, (pool) => [order.get(pool) ?? ""]),
      200,
    );
  });
}
