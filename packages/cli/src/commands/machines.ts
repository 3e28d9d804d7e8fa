import type { Schema } from "@labnet/api";
import type { Command } from "commander";
import { type CliContext, type CliIo, pollUntil, withContext } from "../context";
import type { Column } from "../output";
import { parseKeyValues } from "../requests";
import { operationIdOf } from "./networks";
import { collect } from "./shared";

type Machine = Schema<"Machine">;
type CreateMachineRequest = Schema<"CreateMachineRequest">;

const machineColumns: Column<Machine>[] = [
  { header: "name", value: (m) => m.name },
  { header: "kind", value: (m) => m.kind },
  { header: "hostname", value: (m) => m.hostname },
  { header: "lab host", value: (m) => m.host?.name ?? "" },
  { header: "lan", value: (m) => (m.lan ? `${m.lan.name} ${m.lan.subnet}` : "") },
  { header: "address", value: (m) => m.lan?.address ?? "" },
  { header: "state", value: (m) => m.state },
];

interface MachineCreateFlags {
  hostname?: string;
  lan?: string;
  address?: string;
  host?: string;
  label: string[];
}

function readMachine(ctx: CliContext, machineId: string): Promise<Machine> {
  return ctx.read(ctx.client.GET("/v1/machines/{machineId}", { params: { path: { machineId } } }));
}

/** `labnet machine create|ls|inspect|rm`: a Docker host of its own per student. */
export function registerMachineCommands(program: Command, io: CliIo): void {
  const machine = program.command("machine").description("Manage machines: a Docker host of its own each");

  machine
    .command("create")
    .description("Create a virtual machine on a lab host")
    .argument("<name>")
    .option("--hostname <name>", "what the machine calls itself (default its name)")
    .option("--lan <name>", "the LAN its eth0 is on (made when it does not exist)")
    .option("--address <ip>", "its eth0 address on the LAN")
    .option("--host <lab-host>", "the lab host to build it on")
    .option("--label <key=value>", "label (repeatable)", collect, [])
    .action(
      withContext(io, async (ctx, name: string, flags: MachineCreateFlags) => {
        const labels = parseKeyValues(flags.label, "--label");
        const body: CreateMachineRequest = {
          name,
          ...(flags.hostname ? { hostname: flags.hostname } : {}),
          ...(flags.lan ? { lan: flags.lan } : {}),
          ...(flags.address ? { address: flags.address } : {}),
          ...(flags.host ? { host: flags.host } : {}),
          ...(Object.keys(labels).length > 0 ? { labels } : {}),
        };
        const { data, response } = await ctx.call(
          ctx.client.POST("/v1/machines", { body, headers: ctx.preferWait() }),
        );
        let created = data as Machine;
        if (
          created.state !== "ready" &&
          (await ctx.settle(operationIdOf(created, response), `machine ${name}`))
        ) {
          created = await readMachine(ctx, created.id);
        }
        ctx.format() === "table" ? ctx.print(created.name) : ctx.printData(created, [], []);
      }),
    );

  machine
    .command("ls")
    .alias("list")
    .description("List machines")
    .option("-q, --quiet", "only names")
    .action(
      withContext(io, async (ctx, flags: { quiet?: boolean }) => {
        const list = await ctx.read(ctx.client.GET("/v1/machines"));
        if (flags.quiet) {
          ctx.print(list.items.map((m) => m.name).join("\n"));
          return;
        }
        ctx.printData(list, list.items, machineColumns);
      }),
    );

  machine
    .command("inspect")
    .description("Show machines in detail (JSON by default)")
    .argument("<machine...>")
    .action(
      withContext(io, async (ctx, names: string[]) => {
        const machines = [];
        for (const machineId of names) {
          machines.push(await readMachine(ctx, machineId));
        }
        ctx.printData(machines, machines, machineColumns, "json");
      }),
    );

  machine
    .command("rm")
    .alias("remove")
    .description("Remove machines")
    .argument("<machine...>")
    .option("-f, --force", "also when networks or nodes are on it (they go with it)")
    .action(
      withContext(io, async (ctx, names: string[], flags: { force?: boolean }) => {
        for (const machineId of names) {
          const { data, response } = await ctx.call(
            ctx.client.DELETE("/v1/machines/{machineId}", {
              params: { path: { machineId }, query: flags.force ? { force: true } : {} },
              headers: ctx.preferWait(),
            }),
          );
          // A machine goes once everything on it is gone (several converges): follow the machine.
          if (response.status === 202 && data) {
            await pollUntil(
              ctx,
              () => ctx.client.GET("/v1/machines/{machineId}", { params: { path: { machineId: data.id } } }),
              (answer) => answer.response.status === 404,
              `removing machine ${machineId}`,
            );
          }
          ctx.print(machineId);
        }
      }),
    );
}
