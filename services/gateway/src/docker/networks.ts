/** `docker network ls|create|inspect|rm|connect|disconnect|prune` against one machine. */
import {
  connectNode,
  createNetwork,
  DomainError,
  deleteNetwork,
  disconnectNode,
  pruneNetworks,
} from "@labnet/commands";
import { z } from "zod";
import type { AppDeps } from "../routes/deps";
import { admitDockerChange, type DockerEnv, type DockerRoute, param } from "./access";
import { assertContract } from "./contract";
import { DockerError } from "./errors";
import { DockerFilters } from "./filters";
import { findDockerContainer, settle } from "./lookup";
import { createNetworkInputOf } from "./network-create";
import { dockerNetworksOf, dockerNetworkView, type FoundNetwork, findDockerNetwork } from "./network-view";

const PREDEFINED = new Set(["bridge", "host", "none"]);

const ConnectBody = z.looseObject({
  Container: z.string().min(1),
  EndpointConfig: z
    .looseObject({
      IPAMConfig: z.looseObject({ IPv4Address: z.string().optional() }).nullish(),
      Aliases: z.array(z.string()).nullish(),
      MacAddress: z.string().optional(),
    })
    .nullish(),
});
const DisconnectBody = z.looseObject({ Container: z.string().min(1), Force: z.boolean().optional() });

export function registerDockerNetworkRoutes(route: DockerRoute, deps: AppDeps): void {
  const { db } = deps;

  route("GET", "/networks", async (c) => {
    const filters = DockerFilters.parse(c.req.query("filters"), [
      "driver",
      "id",
      "label",
      "name",
      "scope",
      "type",
      "dangling",
    ]);
    const all = await dockerNetworksOf(db, c.get("machine"), deps.commands.defaultMtu);
    const dangling = filters.values("dangling");
    if (dangling.length > 1 || (dangling[0] && !["0", "1", "true", "false"].includes(dangling[0]))) {
      throw new DockerError(
        400,
        `invalid value for filter 'dangling', must be "true" (or "1"), or "false" (or "0")`,
      );
    }
    for (const type of filters.values("type")) {
      if (type !== "builtin" && type !== "custom") {
        throw new DockerError(400, `invalid filter: 'type'='${type}'`);
      }
    }
    return c.json(
      all.filter(
        (n) =>
          filters.exact("driver", n.Driver) &&
          filters.match("name", n.Name) &&
          filters.match("id", n.Id) &&
          filters.kv("label", n.Labels) &&
          filters.exact("scope", n.Scope) &&
          (!filters.has("type") ||
            filters.values("type").includes(PREDEFINED.has(n.Name) ? "builtin" : "custom")) &&
          (!dangling[0] ||
            (["1", "true"].includes(dangling[0])
              ? !PREDEFINED.has(n.Name) && Object.keys(n.Containers).length === 0
              : PREDEFINED.has(n.Name) || Object.keys(n.Containers).length > 0)),
      ),
      200,
    );
  });

  route("GET", "/networks/:network", async (c) => {
    const machine = c.get("machine");
    const found = await findDockerNetwork(db, machine, param(c, "network"));
    return c.json(await dockerNetworkView(db, machine, found, deps.commands.defaultMtu), 200);
  });

  route("POST", "/networks/create", async (c) => {
    const machine = c.get("machine");
    const input = createNetworkInputOf(await c.req.json().catch(() => undefined), machine.id);
    assertContract("CreateNetworkRequest", input);
    await admitDockerChange(db, c, { what: "networkCreate", action: "networks" });
    if (PREDEFINED.has(input.name)) {
      throw new DockerError(403, `operation is not permitted on predefined ${input.name} network`);
    }
    try {
      const { network, operation } = await createNetwork({ ctx: deps.commands, input });
      await settle(deps, operation);
      return c.json({ Id: network.id, Warning: "" }, 201);
    } catch (error) {
      if (error instanceof DomainError && error.code === "NAME_CONFLICT") {
        throw new DockerError(409, `network with name ${input.name} already exists`, { cause: error });
      }
      throw error;
    }
  });

  route("DELETE", "/networks/:network", async (c) => {
    const found = await mutableNetwork(c.get("machine"), param(c, "network"));
    await admitDockerChange(db, c, {
      what: "networkRemove",
      action: "networks",
      target: { type: "network", id: found.id },
    });
    try {
      const { operation } = await deleteNetwork({ ctx: deps.commands, ref: found.id, force: false });
      await settle(deps, operation);
    } catch (error) {
      if (error instanceof DomainError && error.code === "NETWORK_IN_USE") {
        throw new DockerError(403, `error while removing network: ${error.message}`, { cause: error });
      }
      throw error;
    }
    return c.body(null, 204);
  });

  route("POST", "/networks/:network/connect", async (c) => {
    const machine = c.get("machine");
    const body = parseBody(ConnectBody, await c.req.json().catch(() => undefined));
    const network = await findDockerNetwork(db, machine, param(c, "network"));
    const node = await findDockerContainer(db, machine, body.Container);
    await admitDockerChange(db, c, {
      what: "networkConnect",
      action: "connect",
      target: { type: "node", id: node.id },
    });
    const row = networkRowOf(network, "connected to");
    if (body.EndpointConfig?.MacAddress) {
      throw new DockerError(
        400,
        "--mac-address is not supported by Labnet: a node's MAC comes from its address",
      );
    }
    const address = body.EndpointConfig?.IPAMConfig?.IPv4Address;
    const aliases = body.EndpointConfig?.Aliases ?? [];
    assertContract("ConnectNetworkRequest", {
      node: node.id,
      ...(address ? { ipv4Address: address } : {}),
      ...(aliases.length > 0 ? { aliases } : {}),
    });
    const { operation } = await connectNode({
      ctx: deps.commands,
      input: {
        network: row.id,
        node: node.id,
        ...(address ? { ipv4Address: address } : {}),
        ...(aliases.length > 0 ? { aliases } : {}),
      },
    });
    await settle(deps, operation);
    return c.body(null, 200);
  });

  route("POST", "/networks/:network/disconnect", async (c) => {
    const machine = c.get("machine");
    const body = parseBody(DisconnectBody, await c.req.json().catch(() => undefined));
    const network = await findDockerNetwork(db, machine, param(c, "network"));
    const node = await findDockerContainer(db, machine, body.Container);
    await admitDockerChange(db, c, {
      what: "networkDisconnect",
      action: "disconnect",
      target: { type: "node", id: node.id },
    });
    const row = networkRowOf(network, "disconnected from");
    const { operation } = await disconnectNode({
      ctx: deps.commands,
      input: { network: row.id, node: node.id },
    });
    await settle(deps, operation);
    return c.body(null, 200);
  });

  route("POST", "/networks/prune", async (c) => {
    const filters = DockerFilters.parse(c.req.query("filters"), ["label", "until"]);
    if (filters.has("until")) {
      throw new DockerError(400, "the until filter of network prune is not supported by Labnet");
    }
    await admitDockerChange(db, c, { what: "networkPrune", action: "networks" });
    const removed = await pruneNetworks({
      ctx: deps.commands,
      input: { hostId: c.get("machine").id, labels: [...filters.values("label")] },
    });
    await Promise.all(removed.map((r) => settle(deps, r.operation)));
    return c.json({ NetworksDeleted: removed.map((r) => r.network.name) }, 200);
  });

  /** A network the request may change: not one of the predefined three. */
  async function mutableNetwork(machine: DockerEnv["Variables"]["machine"], ref: string) {
    const found = await findDockerNetwork(db, machine, ref);
    if ("mode" in found || found.row.builtin) {
      throw new DockerError(
        403,
        `${"mode" in found ? found.mode : found.row.name} is a pre-defined network and cannot be removed`,
      );
    }
    return found.row;
  }
}

function networkRowOf(found: FoundNetwork, verb: string) {
  if ("mode" in found) {
    throw new DockerError(
      403,
      `container cannot be ${verb} the ${found.mode} network: in Labnet, ${found.mode} is a network mode chosen at docker run (--network ${found.mode})`,
    );
  }
  return found.row;
}

function parseBody<T>(schema: z.ZodType<T>, raw: unknown): T {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const [issue] = parsed.error.issues;
    throw new DockerError(
      400,
      `invalid request body: ${issue?.path.join(".") || "body"}: ${issue?.message ?? ""}`,
    );
  }
  return parsed.data;
}
