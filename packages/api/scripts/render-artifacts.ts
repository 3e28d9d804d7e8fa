import { readFile } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { bundle, lint, loadConfig, type NormalizedProblem } from "@redocly/openapi-core";
import openapiTS, { astToString, COMMENT_HEADER, type OpenAPI3 } from "openapi-typescript";

const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** The repository root (two levels above this package). */
export const repoRoot = resolve(packageDir, "../..");

/** Where the contract lives and where its generated artifacts go. */
export const paths = {
  spec: join(repoRoot, "openapi/labnet.yaml"),
  redoclyConfig: join(repoRoot, "openapi/redocly.yaml"),
  bundled: join(packageDir, "src/generated/labnet.bundled.json"),
  types: join(packageDir, "src/generated/labnet.d.ts"),
} as const;

/** The note at the root of the bundled JSON (JSON has no comments). */
export const GENERATED_NOTE = "by npm run generate from openapi/labnet.yaml; do not edit";

/** One generated file: where it goes and what it holds. */
export interface Artifact {
  path: string;
  content: string;
}

function formatProblem(problem: NormalizedProblem): string {
  const where = problem.location[0];
  const at = where ? `${relative(repoRoot, where.source.absoluteRef)}${where.pointer ?? ""}` : "?";
  return `${problem.severity} ${problem.ruleId}: ${problem.message} (${at})`;
}

/**
 * Lints `openapi/labnet.yaml`, bundles it into one document (external files become
 * `#/components/...` refs, refs are kept, not dereferenced) and renders the TypeScript types.
 * Writes nothing: `generate.ts` writes or compares, the staleness test compares.
 *
 * @throws when the document has lint problems or unresolved refs.
 */
export async function renderArtifacts(): Promise<Artifact[]> {
  const config = await loadConfig({ configPath: paths.redoclyConfig });
  const lintProblems = await lint({ ref: paths.spec, config });
  const bundled = await bundle({ ref: paths.spec, config, dereference: false });
  const problems = [...lintProblems, ...bundled.problems];
  if (problems.length > 0) {
    throw new Error(
      `openapi/labnet.yaml has ${problems.length} problem(s):\n${problems.map(formatProblem).join("\n")}`,
    );
  }

  const parsed: unknown = bundled.bundle.parsed;
  if (typeof parsed !== "object" || parsed === null) {
    throw new Error("openapi/labnet.yaml did not bundle into an object");
  }
  const document = { "x-generated": GENERATED_NOTE, ...parsed };
  const bundledJson = `${JSON.stringify(document, null, 2)}\n`;

  // Types come from the bundled document itself, so the two artifacts cannot drift apart.
  const ast = await openapiTS(JSON.parse(bundledJson) as OpenAPI3, {
    silent: true,
    // A `default` is applied by the server; clients may omit the field, so keep it optional.
    defaultNonNullable: false,
  });
  const types = COMMENT_HEADER + astToString(ast);

  return [
    { path: paths.bundled, content: bundledJson },
    { path: paths.types, content: types },
  ];
}

/** The artifacts whose committed content differs from a fresh render, as repo-relative paths. */
export async function findStaleArtifacts(artifacts: Artifact[]): Promise<string[]> {
  const stale: string[] = [];
  for (const artifact of artifacts) {
    const current = await readFile(artifact.path, "utf8").catch(() => undefined);
    if (current !== artifact.content) {
      stale.push(relative(repoRoot, artifact.path));
    }
  }
  return stale;
}
