import type { Schema } from "@labnet/api";
import type { Command } from "commander";
import { type CliIo, withContext } from "../context";
import { CliError } from "../errors";
import type { Column } from "../output";
import { type NodeRunFlags, nodeRunRequest } from "../requests";
import { listFilters, operationIdOf } from "./networks";
import { collect, machineNames } from "./shared";

type Node = Schema<"Node">;
type PortMapping = Schema<"PortMapping">;

/** `0.0.0.0:8080->80/tcp, 443/tcp`, as `docker ps` shows a container's ports. */
export function formatNodePorts(node: Pick<Node, "networkSettings">): string {
  const out: string[] = [];
  for (const [port, bindings] of Object.entries(node.networkSettings?.ports ?? {})) {
    if (!bindings || bindings.length === 0) {
      out.push(port);
      continue;
    }
    for (const b of bindings) {
      out.push(`${b.hostIp || "0.0.0.0"}:${b.hostPort}->${port}`);
    }
  }
  return out.join(", ");
}

/** `my-net=172.18.0.2`, one per endpoint. */
export function formatNodeAddresses(node: Pick<Node, "networkSettings">): string {
  return Object.entries(node.networkSettings?.networks ?? {})
    .map(([network, endpoint]) => `${network}=${endpoint.ipAddress}`)
    .join(", ");
}

function nodeColumns(machines: Map<string, string>): Column<Node>[] {
  return [
    { header: "node id", value: (n) => n.id },
    { header: "name", value: (n) => n.name },
    { header: "machine", value: (n) => machines.get(n.hostId) ?? n.hostId },
    { header: "network mode", value: (n) => n.networkMode },
    { header: "addresses", value: formatNodeAddresses },
    { header: "ports", value: formatNodePorts },
    { header: "state", value: (n) => n.state },
  ];
}

/**
 * `docker port NODE [PRIVATE_PORT[/PROTO]]`: the mappings whose container port (and protocol)
 * match, as `80/tcp -> 0.0.0.0:8080`.
 */
export function selectPortLines(items: readonly PortMapping[], filter: string | undefined): string[] {
  if (filter === undefined) {
    return items.map((p) => p.display);
  }
  const match = /^(\d+)(?:\/(tcp|udp))?$/.exec(filter);
  if (!match) {
    throw new CliError(`${JSON.stringify(filter)} is not a port: give PORT or PORT/PROTOCOL (80, 53/udp).`);
  }
  const port = Number(match[1]);
  const protocol = match[2];
  const lines = items
    .filter((p) => p.containerPort === port && (protocol === undefined || p.protocol === protocol))
    .map((p) => p.display);
  if (lines.length === 0) {
    throw new CliError(`no public port ${filter} published.`);
  }
  return lines;
}

/** `labnet node run|create|start|ls|inspect|rm|port`, like `docker run` / `docker ps` for network namespaces. */
export function registerNodeCommands(program: Command, io: CliIo): void {
  const node = program.command("node").description("Manage nodes: network namespaces playing containers");

  const withNodeOptions = (command: Command): Command =>
    command
      .argument("[name]")
      .option("--name <name>", "the node's name")
      .option(
        "--network <network>",
        "bridge, none, host, container:<node> or a network (repeatable)",
        collect,
        [],
      )
      .option("--ip <address>", "static IPv4 address on the first --network")
      .option("--network-alias <name>", "another name on the first --network (repeatable)", collect, [])
      .option(
        "-p, --publish <spec>",
        "publish a port: [ip:][hostPort:]containerPort[/proto] (repeatable)",
        collect,
        [],
      )
      .option("-P, --publish-all", "publish every exposed port on a random host port")
      .option("--expose <port>", "expose a port or a range (repeatable)", collect, [])
      .option("--dns <ip>", "name server (repeatable)", collect, [])
      .option("--dns-search <domain>", "search domain (repeatable)", collect, [])
      .option("--hostname <name>", "the node's hostname")
      .option("--add-host <name:ip>", "a line for the node's hosts file (repeatable)", collect, [])
      .option("--label <key=value>", "label (repeatable)", collect, [])
      .option("--host <machine>", "the machine to create it on");

  withNodeOptions(
    node.command("run").description("Create and start a node (like docker run, without the image)"),
  ).action(
    withContext(io, async (ctx, name: string | undefined, flags: NodeRunFlags) => {
      const { data } = await ctx.call(
        ctx.client.POST("/v1/nodes", { body: nodeRunRequest(name, flags), headers: ctx.preferWait() }),
      );
      let created = data as Node;
      if (created.state !== "ready" && (await ctx.settle(created.operation?.id, `node ${created.name}`))) {
        created = await ctx.read(
          ctx.client.GET("/v1/nodes/{nodeId}", { params: { path: { nodeId: created.id } } }),
        );
      }
      ctx.format() === "table" ? ctx.print(created.id) : ctx.printData(created, [], []);
    }),
  );

  withNodeOptions(
    node
      .command("create")
      .description("Record a node without building it (like docker create); start builds it"),
  ).action(
    withContext(io, async (ctx, name: string | undefined, flags: NodeRunFlags) => {
      const { data } = await ctx.call(
        ctx.client.POST("/v1/nodes", { body: { ...nodeRunRequest(name, flags), start: false } }),
      );
      const created = data as Node;
      ctx.format() === "table" ? ctx.print(created.id) : ctx.printData(created, [], []);
    }),
  );

  node
    .command("start")
    .description("Build nodes that were created without starting (like docker start)")
    .argument("<node...>")
    .action(
      withContext(io, async (ctx, names: string[]) => {
        for (const nodeId of names) {
          const { data, response } = await ctx.call(
            ctx.client.POST("/v1/nodes/{nodeId}/start", {
              params: { path: { nodeId } },
              headers: ctx.preferWait(),
            }),
          );
          if (response.status === 202) {
            await ctx.settle(operationIdOf(data, response), `starting node ${nodeId}`);
          }
          ctx.print(nodeId);
        }
      }),
    );

  node
    .command("ls")
    .alias("ps")
    .description("List nodes")
    .option("-f, --filter <key=value>", "name=, host=, network=, label=k=v (repeatable)", collect, [])
    .option("-q, --quiet", "only ids")
    .action(
      withContext(io, async (ctx, flags: { filter: string[]; quiet?: boolean }) => {
        const query = listFilters(flags.filter, ["name", "host", "network", "label"]);
        const list = await ctx.read(ctx.client.GET("/v1/nodes", { params: { query: query as never } }));
        if (flags.quiet) {
          ctx.print(list.items.map((n) => n.id).join("\n"));
          return;
        }
        ctx.printData(list, list.items, nodeColumns(await machineNames(ctx)));
      }),
    );

  node
    .command("inspect")
    .description("Show nodes in detail (JSON by default)")
    .argument("<node...>")
    .action(
      withContext(io, async (ctx, names: string[]) => {
        const nodes = [];
        for (const nodeId of names) {
          nodes.push(await ctx.read(ctx.client.GET("/v1/nodes/{nodeId}", { params: { path: { nodeId } } })));
        }
        ctx.printData(nodes, nodes, nodeColumns(await machineNames(ctx)), "json");
      }),
    );

  node
    .command("rm")
    .alias("remove")
    .description("Remove nodes (their sandboxes, endpoints and published ports)")
    .argument("<node...>")
    .action(
      withContext(io, async (ctx, names: string[]) => {
        for (const nodeId of names) {
          const { data, response } = await ctx.call(
            ctx.client.DELETE("/v1/nodes/{nodeId}", {
              params: { path: { nodeId } },
              headers: ctx.preferWait(),
            }),
          );
          if (response.status === 202) {
            await ctx.settle(operationIdOf(data), `removing node ${nodeId}`);
          }
          ctx.print(nodeId);
        }
      }),
    );

  node
    .command("port")
    .description("List a node's published ports (like docker port)")
    .argument("<node>")
    .argument("[port]", "PORT or PORT/PROTOCOL")
    .action(
      withContext(io, async (ctx, nodeId: string, port: string | undefined) => {
        const ports = await ctx.read(
          ctx.client.GET("/v1/nodes/{nodeId}/ports", { params: { path: { nodeId } } }),
        );
        if (ctx.format() !== "table") {
          ctx.printData(ports, [], []);
          return;
        }
        ctx.print(selectPortLines(ports.items, port).join("\n"));
      }),
    );
}
