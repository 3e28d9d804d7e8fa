import type { Schema } from "@labnet/api";
import { type Command, Option } from "commander";
import { type CliIo, withContext } from "../context";
import { CliError } from "../errors";
import type { Column } from "../output";
import { type NetworkCreateFlags, networkCreateRequest, parseKeyValues } from "../requests";
import { collect, machineNames } from "./shared";

type Network = Schema<"Network">;

function networkColumns(machines: Map<string, string>): Column<Network>[] {
  return [
    { header: "network id", value: (n) => n.id },
    { header: "name", value: (n) => n.name },
    { header: "driver", value: (n) => n.driver },
    { header: "machine", value: (n) => machines.get(n.hostId) ?? n.hostId },
    { header: "subnet", value: (n) => n.ipam.configs.map((c) => c.subnet).join(",") },
    { header: "state", value: (n) => n.state },
  ];
}

/** `labnet network create|ls|inspect|rm|connect|disconnect`, like `docker network`. */
export function registerNetworkCommands(program: Command, io: CliIo): void {
  const network = program.command("network").description("Manage networks (like docker network)");

  network
    .command("create")
    .description("Create a network")
    .argument("<name>")
    .addOption(new Option("-d, --driver <driver>", "driver").choices(["bridge", "macvlan", "overlay"]))
    .option("--subnet <cidr>", "subnet in CIDR notation (repeatable)", collect, [])
    .option("--gateway <ip>", "gateway of the matching --subnet (repeatable)", collect, [])
    .option("--ip-range <cidr>", "allocate addresses from this range of the matching --subnet", collect, [])
    .option("--aux-address <name=ip>", "address kept from allocation (repeatable)", collect, [])
    .option("--internal", "no traffic to or from outside the network")
    .option("--no-attachable", "nodes may join only when they are created")
    .option(
      "--opt <key=value>",
      "driver option: mtu, icc, isolated, bridgeName, parent, ... (repeatable)",
      collect,
      [],
    )
    .option("--label <key=value>", "label (repeatable)", collect, [])
    .option("--host <machine>", "the machine to create it on")
    .action(
      withContext(io, async (ctx, name: string, flags: NetworkCreateFlags) => {
        const { data } = await ctx.call(
          ctx.client.POST("/v1/networks", {
            body: networkCreateRequest(name, flags),
            headers: ctx.preferWait(),
          }),
        );
        let created = data as Network;
        if (created.state !== "ready" && (await ctx.settle(created.operation?.id, `network ${name}`))) {
          created = await ctx.read(
            ctx.client.GET("/v1/networks/{networkId}", { params: { path: { networkId: created.id } } }),
          );
        }
        ctx.format() === "table" ? ctx.print(created.id) : ctx.printData(created, [], []);
      }),
    );

  network
    .command("ls")
    .alias("list")
    .description("List networks")
    .option("-f, --filter <key=value>", "name=, driver=, host=, label=k=v (repeatable)", collect, [])
    .option("-q, --quiet", "only ids")
    .action(
      withContext(io, async (ctx, flags: { filter: string[]; quiet?: boolean }) => {
        const query = listFilters(flags.filter, ["name", "driver", "host", "label"]);
        const list = await ctx.read(ctx.client.GET("/v1/networks", { params: { query: query as never } }));
        if (flags.quiet) {
          ctx.print(list.items.map((n) => n.id).join("\n"));
          return;
        }
        ctx.printData(list, list.items, networkColumns(await machineNames(ctx)));
      }),
    );

  network
    .command("inspect")
    .description("Show networks in detail (JSON by default)")
    .argument("<network...>")
    .action(
      withContext(io, async (ctx, names: string[]) => {
        const networks = [];
        for (const networkId of names) {
          networks.push(
            await ctx.read(ctx.client.GET("/v1/networks/{networkId}", { params: { path: { networkId } } })),
          );
        }
        ctx.printData(networks, networks, networkColumns(await machineNames(ctx)), "json");
      }),
    );

  network
    .command("rm")
    .alias("remove")
    .description("Remove networks")
    .argument("<network...>")
    .option("-f, --force", "disconnect the nodes on it first")
    .action(
      withContext(io, async (ctx, names: string[], flags: { force?: boolean }) => {
        for (const networkId of names) {
          const { data, response } = await ctx.call(
            ctx.client.DELETE("/v1/networks/{networkId}", {
              params: { path: { networkId }, query: flags.force ? { force: true } : {} },
              headers: ctx.preferWait(),
            }),
          );
          if (response.status === 202) {
            await ctx.settle(operationIdOf(data), `removing network ${networkId}`);
          }
          ctx.print(networkId);
        }
      }),
    );

  network
    .command("connect")
    .description("Connect a node to a network")
    .argument("<network>")
    .argument("<node>")
    .option("--ip <address>", "static IPv4 address")
    .option("--alias <name>", "another name on this network (repeatable)", collect, [])
    .action(
      withContext(
        io,
        async (ctx, networkId: string, node: string, flags: { ip?: string; alias: string[] }) => {
          const { data } = await ctx.call(
            ctx.client.POST("/v1/networks/{networkId}/connect", {
              params: { path: { networkId } },
              body: {
                node,
                ...(flags.ip ? { ipv4Address: flags.ip } : {}),
                ...(flags.alias.length > 0 ? { aliases: flags.alias } : {}),
              },
              headers: ctx.preferWait(),
            }),
          );
          await ctx.settle(operationIdOf(data), `connecting ${node} to ${networkId}`);
        },
      ),
    );

  network
    .command("disconnect")
    .description("Disconnect a node from a network")
    .argument("<network>")
    .argument("<node>")
    .action(
      withContext(io, async (ctx, networkId: string, node: string) => {
        const { data } = await ctx.call(
          ctx.client.POST("/v1/networks/{networkId}/disconnect", {
            params: { path: { networkId } },
            body: { node },
            headers: ctx.preferWait(),
          }),
        );
        await ctx.settle(operationIdOf(data), `disconnecting ${node} from ${networkId}`);
      }),
    );
}

/**
 * The operation of a mutation's answer: a resource's `operation` ref, an Operation itself, or
 * `{ operation: id }`, or the `Operation-Location` header; the shapes differ per endpoint.
 */
export function operationIdOf(body: unknown, response?: Response): string | undefined {
  const location = response?.headers.get("operation-location");
  if (location) {
    return location.slice(location.lastIndexOf("/") + 1);
  }
  if (typeof body !== "object" || body === null) {
    return undefined;
  }
  const record = body as { id?: unknown; kind?: unknown; operation?: unknown };
  if (typeof record.operation === "string") {
    return record.operation;
  }
  if (typeof record.operation === "object" && record.operation !== null) {
    const ref = record.operation as { id?: unknown };
    return typeof ref.id === "string" ? ref.id : undefined;
  }
  return typeof record.id === "string" && typeof record.kind === "string" && record.id.startsWith("op_")
    ? record.id
    : undefined;
}

/** `-f name=web -f label=course=net101` as the list's query, refusing keys it does not take. */
export function listFilters(
  filters: readonly string[],
  known: readonly string[],
): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {};
  for (const filter of filters) {
    const [key, value] = Object.entries(parseKeyValues([filter], "--filter"))[0] ?? [];
    if (key === undefined || value === undefined || !known.includes(key)) {
      throw new CliError(`--filter ${filter}: filter by ${known.map((k) => `${k}=`).join(", ")}.`);
    }
    if (key === "label") {
      query.label = [...((query.label as string[] | undefined) ?? []), value];
    } else {
      query[key] = value;
    }
  }
  return query;
}
