import type { Schema } from "@labnet/api";
import type { Command } from "commander";
import { type CliIo, withContext } from "../context";
import { CliError } from "../errors";
import type { Column } from "../output";
import { CONFIG_KEYS, type ConfigKey, configFilePath, readConfigFile, writeConfigFile } from "../settings";
import { age } from "./shared";

type Host = Schema<"Host">;

const hostColumns: Column<Host>[] = [
  { header: "host id", value: (h) => h.id },
  { header: "name", value: (h) => h.name },
  { header: "status", value: (h) => h.status },
  { header: "heartbeat", value: (h) => age(h.lastHeartbeatAt) },
];

/** `labnet host ls`, `labnet operation inspect|wait`, `labnet config set|view`. */
export function registerMiscCommands(program: Command, io: CliIo): void {
  const host = program.command("host").description("Lab hosts (where executors run)");
  host
    .command("ls")
    .alias("list")
    .description("List lab hosts")
    .action(
      withContext(io, async (ctx) => {
        const list = await ctx.read(ctx.client.GET("/v1/hosts"));
        ctx.printData(list, list.items, hostColumns);
      }),
    );

  const operation = program.command("operation").description("Asynchronous kernel work");
  operation
    .command("inspect")
    .description("Show an operation (JSON by default)")
    .argument("<operation>")
    .action(
      withContext(io, async (ctx, operationId: string) => {
        const op = await ctx.read(
          ctx.client.GET("/v1/operations/{operationId}", { params: { path: { operationId } } }),
        );
        ctx.printData(op, [op], operationColumns, "json");
      }),
    );
  operation
    .command("wait")
    .description("Wait (within --wait) until an operation is done, showing its steps; fails when it failed")
    .argument("<operation>")
    .action(
      withContext(io, async (ctx, operationId: string) => {
        // Each new count on stderr, for the person waiting (stdout stays the final answer).
        let shown = "";
        const op = await ctx.settle(operationId, `operation ${operationId}`, (read) => {
          const line = `${read.id}: ${read.state}, ${progressOf(read)}`;
          if (line !== shown) {
            ctx.note(line);
            shown = line;
          }
        });
        if (op) {
          ctx.printData(op, [op], operationColumns);
        }
      }),
    );

  const config = program
    .command("config")
    .description("The CLI's config file (url, token); flags and LABNET_URL / LABNET_TOKEN win over it");
  config
    .command("set")
    .description("Set a key of the config file")
    .argument("<key>", CONFIG_KEYS.join(" or "))
    .argument("<value>")
    .action(async (key: string, value: string, _flags: unknown, command: Command) => {
      if (!(CONFIG_KEYS as readonly string[]).includes(key)) {
        throw new CliError(`${key} is not a config key (known: ${CONFIG_KEYS.join(", ")}).`);
      }
      const file = configFilePath(command.optsWithGlobals<{ config?: string }>().config, io.env, io.home);
      const current = await readConfigFile(file);
      await writeConfigFile(file, { ...current, [key as ConfigKey]: value });
      io.stdout.write(`${file}: ${key} set\n`);
    });
  config
    .command("view")
    .description("Print the config file (the token masked)")
    .action(async (_flags: unknown, command: Command) => {
      const file = configFilePath(command.optsWithGlobals<{ config?: string }>().config, io.env, io.home);
      const current = await readConfigFile(file);
      io.stdout.write(`# ${file}\n`);
      for (const key of CONFIG_KEYS) {
        const value = current[key];
        if (value !== undefined) {
          io.stdout.write(`${key}: ${key === "token" ? `${value.slice(0, 6)}…` : value}\n`);
        }
      }
    });
}

type Operation = Schema<"Operation">;
const operationColumns: Column<Operation>[] = [
  { header: "operation id", value: (o) => o.id },
  { header: "kind", value: (o) => o.kind },
  { header: "target", value: (o) => `${o.target.type} ${o.target.id}` },
  { header: "state", value: (o) => o.state },
  { header: "progress", value: progressOf },
  { header: "attempts", value: (o) => String(o.attempts) },
];

/** `1/2 steps, waiting for namespace`: the count the gateway derives, and the step it is at. */
export function progressOf(o: Pick<Operation, "progress">): string {
  const { done, total, waitingFor } = o.progress;
  return `${done}/${total} steps${waitingFor ? `, waiting for ${waitingFor}` : ""}`;
}
