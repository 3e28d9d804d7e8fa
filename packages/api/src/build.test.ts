/**
 * The client as another project uses it (issue 14): built to JavaScript + declarations, installed
 * into a fixture project with `moduleResolution: nodenext` and `skipLibCheck: false`, typechecked
 * there (a path the contract lacks must be an error), and imported by plain Node.
 */
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApiPackage } from "../scripts/build";

const run = promisify(execFile);
const repo = fileURLToPath(new URL("../../..", import.meta.url));
const tsc = path.join(repo, "node_modules", "typescript", "bin", "tsc");

let project: string;

const CONSUMER = `
import {
  createLabnetClient,
  describeProblem,
  isProblem,
  type Operation,
  phaseOf,
  type Schema,
  waitForOperation,
} from "@labnet/api";

const client = createLabnetClient({ baseUrl: "http://127.0.0.1:8080", token: "lnt_x" });

export async function networkName(networkId: string): Promise<string | undefined> {
  const { data, error } = await client.GET("/v1/networks/{networkId}", { params: { path: { networkId } } });
  if (isProblem(error)) {
    throw new Error(describeProblem(error));
  }
  const network: Schema<"Network"> | undefined = data;
  return network?.name;
}

export async function settled(id: string): Promise<Operation["state"]> {
  const op = await waitForOperation(client, id, { timeoutMs: 1_000 });
  const phase: "pending" | "ready" | "failed" | "deleting" = phaseOf(op.state);
  return phase === "ready" ? op.state : "failed";
}

export function wrong() {
  // @ts-expect-error: the contract has no such path
  return client.GET("/v1/no-such-path");
}
`;

beforeAll(async () => {
  project = await mkdtemp(path.join(tmpdir(), "labnet-api-consumer-"));
  const modules = path.join(project, "node_modules");
  await mkdir(path.join(modules, "@labnet"), { recursive: true });
  await buildApiPackage(path.join(project, "labnet-api"));
  // As `npm install <repo>/packages/api/dist` lays it out: the package and its dependency.
  await symlink(path.join(project, "labnet-api"), path.join(modules, "@labnet", "api"));
  for (const dep of ["openapi-fetch", "openapi-typescript-helpers"]) {
    await symlink(path.join(repo, "node_modules", dep), path.join(modules, dep));
  }
  await writeFile(path.join(project, "package.json"), JSON.stringify({ name: "consumer", type: "module" }));
  await writeFile(
    path.join(project, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        target: "ES2022",
        module: "nodenext",
        moduleResolution: "nodenext",
        lib: ["ES2023", "DOM"],
        types: [],
        strict: true,
        skipLibCheck: false,
        noEmit: true,
      },
      include: ["consumer.ts"],
    }),
  );
  await writeFile(path.join(project, "consumer.ts"), CONSUMER);
}, 60_000);

afterAll(async () => {
  if (project) {
    await rm(project, { recursive: true, force: true });
  }
});

describe("@labnet/api built for other projects", () => {
  it("typechecks in a project with moduleResolution nodenext, declarations included", async () => {
    const result = await run(process.execPath, [tsc, "-p", path.join(project, "tsconfig.json")]).catch(
      (error: { stdout: string; code: number }) => error,
    );
    expect("stdout" in result ? result.stdout : "").toBe("");
  }, 60_000);

  it("finds a wrong use: a typed path that does not exist is an error there", async () => {
    await writeFile(
      path.join(project, "consumer.ts"),
      CONSUMER.replace("// @ts-expect-error: the contract has no such path\n", ""),
    );
    const result = await run(process.execPath, [tsc, "-p", path.join(project, "tsconfig.json")]).then(
      () => ({ stdout: "" }),
      (error: { stdout: string }) => error,
    );
    await writeFile(path.join(project, "consumer.ts"), CONSUMER);
    // One error, on the line of the unknown path.
    const lines = CONSUMER.replace("// @ts-expect-error: the contract has no such path\n", "").split("\n");
    const line = lines.findIndex((l) => l.includes("/v1/no-such-path")) + 1;
    expect(result.stdout.trim().split("\n")).toEqual([
      expect.stringMatching(new RegExp(`consumer\\.ts\\(${line},\\d+\\): error TS`)),
    ]);
  }, 60_000);

  it("imports as plain ES modules in Node", async () => {
    const script = [
      'import * as api from "@labnet/api";',
      "console.log(JSON.stringify({",
      '  phase: api.phaseOf("provisioning"),',
      "  openapi: api.openapiDocument.openapi,",
      '  sentence: api.describeProblem({ title: "Conflict", detail: "network with name my-net already exists" }),',
      '  client: typeof api.createLabnetClient({ baseUrl: "http://127.0.0.1:1" }).GET,',
      "}));",
    ].join("\n");
    await writeFile(path.join(project, "run.mjs"), script);
    const { stdout } = await run(process.execPath, [path.join(project, "run.mjs")], { cwd: project });
    expect(JSON.parse(stdout)).toEqual({
      phase: "pending",
      openapi: "3.1.0",
      sentence: "network with name my-net already exists.",
      client: "function",
    });
  });
});
