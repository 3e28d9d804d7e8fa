/**
 * `npm run generate`: lint and bundle openapi/labnet.yaml, then write
 * src/generated/labnet.bundled.json and src/generated/labnet.d.ts.
 * `--check`: render in memory and exit 1 naming every stale file (for CI).
 */
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, relative } from "node:path";
import { findStaleArtifacts, renderArtifacts, repoRoot } from "./render-artifacts";

async function main(argv: string[]): Promise<number> {
  const check = argv.includes("--check");
  const artifacts = await renderArtifacts();
  if (check) {
    const stale = await findStaleArtifacts(artifacts);
    if (stale.length > 0) {
      process.stderr.write(`stale generated file(s): ${stale.join(", ")}; run npm run generate\n`);
      return 1;
    }
    process.stdout.write("generated files are up to date\n");
    return 0;
  }
  for (const artifact of artifacts) {
    await mkdir(dirname(artifact.path), { recursive: true });
    await writeFile(artifact.path, artifact.content);
    process.stdout.write(`wrote ${relative(repoRoot, artifact.path)}\n`);
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
