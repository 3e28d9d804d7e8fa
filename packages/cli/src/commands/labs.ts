import { randomBytes } from "node:crypto";
import type { Schema } from "@labnet/api";
import type { Command } from "commander";
import { type CliContext, type CliIo, pollUntil, withContext } from "../context";
import { CliError } from "../errors";
import { createLabProgress, labSettled, summaryLine } from "../lab-progress";
import type { Column } from "../output";
import { type LabCreateFlags, labCreateRequest } from "../requests";
import { age, collect, integer } from "./shared";

type Lab = Schema<"Lab">;
type LabInstance = Schema<"LabInstance">;
type LabCheckRun = Schema<"LabCheckRun">;

/** The instructor's table: one row per student. */
export const instanceColumns: Column<LabInstance>[] = [
  { header: "student", value: (i) => i.student },
  { header: "state", value: (i) => i.state },
  { header: "machines", value: (i) => i.machines.map((m) => `${m.hostname}=${m.address ?? "-"}`).join(", ") },
  {
    header: "nodes",
    value: (i) =>
      i.nodes
        .map((n) => {
          const addresses = Object.values(n.addresses);
          return addresses.length > 0 ? `${n.name}=${addresses.join("/")}` : n.name;
        })
        .join(", "),
  },
  {
    header: "ports",
    value: (i) =>
      i.ports
        .map((p) => `${p.node}:${p.containerPort}/${p.protocol}->${p.externalPort ?? p.hostPort}`)
        .join(", "),
  },
  {
    header: "checks",
    value: (i) => (i.lastCheck ? `${i.lastCheck.passed}/${i.lastCheck.total}` : ""),
  },
  { header: "problem", value: (i) => i.problem ?? "" },
];

const labColumns: Column<Lab>[] = [
  { header: "name", value: (l) => l.name },
  { header: "template", value: (l) => `${l.template.name}@${l.template.version}` },
  { header: "state", value: (l) => l.state },
  { header: "instances", value: (l) => summaryLine(l) },
  { header: "created", value: (l) => age(l.createdAt) },
];

/**
 * The pass/fail matrix of a check run: a row per student, a column per check (numbered, with
 * the checks' names listed below, so the table stays narrow).
 */
export function renderCheckMatrix(run: LabCheckRun): { rows: string[][]; legend: string[] } {
  const names = run.results[0]?.checks.map((c) => c.name) ?? [];
  const rows = run.results.map((r) => {
    const passed = r.checks.filter((c) => c.passed).length;
    return [
      r.student,
      ...names.map((name) => {
        const check = r.checks.find((c) => c.name === name);
        return check ? (check.passed ? "pass" : "FAIL") : "-";
      }),
      `${passed}/${r.checks.length}`,
    ];
  });
  return { rows, legend: names.map((name, i) => `${i + 1}  ${name}`) };
}

function readLab(ctx: CliContext, labId: string): Promise<Lab> {
  return ctx.read(ctx.client.GET("/v1/labs/{labId}", { params: { path: { labId } } }));
}

/** Follows a lab until no instance is being built, showing progress on stderr. */
async function followLab(ctx: CliContext, lab: Lab, timeoutS: number): Promise<Lab> {
  const progress = ctx.format() === "table" ? createLabProgress(ctx.io.stderr) : undefined;
  const deadline = Date.now() + timeoutS * 1000;
  try {
    for (;;) {
      progress?.update(lab);
      if (labSettled(lab)) {
        return lab;
      }
      if (Date.now() >= deadline) {
        throw new CliError(
          `lab ${lab.name} is not built after ${timeoutS} s (${summaryLine(lab)}); it goes on: labnet lab inspect ${lab.name}.`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, ctx.io.pollMs ?? 500));
      lab = await readLab(ctx, lab.id);
    }
  } finally {
    progress?.stop();
  }
}

function printLab(ctx: CliContext, lab: Lab): void {
  ctx.printData(lab, lab.instances, instanceColumns);
}

/** `labnet lab create|ls|inspect|check|solve|rm`: a class's exercise, one instance per student. */
export function registerLabCommands(program: Command, io: CliIo): void {
  const lab = program.command("lab").description("Manage labs: an exercise provisioned once per student");

  lab
    .command("create")
    .description("Create a lab and follow it until every instance is built")
    .argument("[name]", "the lab's name (default the template's, with a random suffix)")
    .requiredOption("--template <template>", "builtin:<name>, <name> or <name>@<version>")
    .requiredOption(
      "--students <n|names>",
      "how many students (s01, s02, ...) or their names, comma-separated",
    )
    .option("--host <lab-host>", "put every instance on this lab host")
    .option("--ttl <seconds>", "tear it down this long after creation", integer)
    .option("--label <key=value>", "label (repeatable)", collect, [])
    .option("--detach", "answer once the lab is recorded, without following it")
    .option("--timeout <seconds>", "how long to follow the build", integer, 900)
    .action(
      withContext(
        io,
        async (
          ctx,
          name: string | undefined,
          flags: LabCreateFlags & { detach?: boolean; timeout: number },
        ) => {
          const body = labCreateRequest(name, flags, () => randomBytes(3).toString("hex").slice(0, 4));
          let created = await ctx.read(ctx.client.POST("/v1/labs", { body }));
          if (!flags.detach) {
            created = await followLab(ctx, created, flags.timeout);
          }
          printLab(ctx, created);
          if (created.summary.failed > 0) {
            throw new CliError(
              `${created.summary.failed} of ${created.summary.total} instances of lab ${created.name} failed.`,
            );
          }
        },
      ),
    );

  lab
    .command("ls")
    .alias("list")
    .description("List labs")
    .option("-q, --quiet", "only names")
    .action(
      withContext(io, async (ctx, flags: { quiet?: boolean }) => {
        const list = await ctx.read(ctx.client.GET("/v1/labs"));
        if (flags.quiet) {
          ctx.print(list.items.map((l) => l.name).join("\n"));
          return;
        }
        ctx.printData(list, list.items, labColumns);
      }),
    );

  lab
    .command("inspect")
    .description("Show a lab: per student its state, machines, nodes, ports and last checks")
    .argument("<lab>")
    .action(
      withContext(io, async (ctx, labId: string) => {
        printLab(ctx, await readLab(ctx, labId));
      }),
    );

  lab
    .command("check")
    .description("Grade a lab: every check in every instance, as a pass/fail matrix")
    .argument("<lab>")
    .option("--instance <student>", "only this instance (repeatable)", collect, [])
    .action(
      withContext(io, async (ctx, labId: string, flags: { instance: string[] }) => {
        let run = await ctx.read(
          ctx.client.POST("/v1/labs/{labId}/checks", {
            params: { path: { labId } },
            body: flags.instance.length > 0 ? { instances: flags.instance } : {},
            headers: ctx.preferWait(),
          }),
        );
        run = await pollUntil(
          ctx,
          async () =>
            run.state === "running"
              ? ctx.read(
                  ctx.client.GET("/v1/labs/{labId}/check-runs/{runId}", {
                    params: { path: { labId: run.labId, runId: run.id } },
                  }),
                )
              : run,
          (r) => r.state !== "running",
          `the check run ${run.id}`,
        );
        if (ctx.format() !== "table") {
          ctx.printData(run, [], []);
          return;
        }
        if (run.state === "failed") {
          throw new CliError(`the check run failed: ${run.problem ?? "no reason given"}.`);
        }
        const { rows, legend } = renderCheckMatrix(run);
        const names = run.results[0]?.checks ?? [];
        const columns: Column<string[]>[] = [
          { header: "student", value: (r) => r[0] ?? "" },
          ...names.map((_, i) => ({ header: String(i + 1), value: (r: string[]) => r[i + 1] ?? "" })),
          { header: "passed", value: (r) => r.at(-1) ?? "" },
        ];
        ctx.printData(run, rows, columns);
        ctx.print(legend.join("\n"));
        ctx.print(`${run.summary.passed} passed, ${run.summary.failed} failed`);
      }),
    );

  lab
    .command("solve")
    .description("Apply the template's solution (the answer key)")
    .argument("<lab>")
    .option("--instance <student>", "only this instance (repeatable)", collect, [])
    .action(
      withContext(io, async (ctx, labId: string, flags: { instance: string[] }) => {
        let solved = await ctx.read(
          ctx.client.POST("/v1/labs/{labId}/solve", {
            params: { path: { labId } },
            body: flags.instance.length > 0 ? { instances: flags.instance } : {},
            headers: ctx.preferWait(),
          }),
        );
        solved = await followLab(ctx, solved, Math.max(ctx.flags.wait, 1));
        printLab(ctx, solved);
      }),
    );

  lab
    .command("rm")
    .alias("remove")
    .description("Tear labs down with every machine of every instance")
    .argument("<lab...>")
    .action(
      withContext(io, async (ctx, names: string[]) => {
        for (const labId of names) {
          const { response } = await ctx.call(
            ctx.client.DELETE("/v1/labs/{labId}", { params: { path: { labId } }, headers: ctx.preferWait() }),
          );
          if (response.status === 202) {
            await pollUntil(
              ctx,
              () => ctx.client.GET("/v1/labs/{labId}", { params: { path: { labId } } }),
              (answer) => answer.response.status === 404,
              `removing lab ${labId}`,
            );
          }
          ctx.print(labId);
        }
      }),
    );
}
