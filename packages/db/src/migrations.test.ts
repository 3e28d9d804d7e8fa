import { execFile } from "node:child_process";
import { cp, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";

const run = promisify(execFile);
const PACKAGE_DIR = fileURLToPath(new URL("..", import.meta.url));
const DRIZZLE_KIT = fileURLToPath(new URL("../../../node_modules/.bin/drizzle-kit", import.meta.url));

/**
 * A schema change must come with its migration: drizzle-kit, run over a copy of the committed
 * migrations, must find nothing to generate. It compares src/schema with the last snapshot
 * and never connects to a database.
 */
describe("committed migrations", () => {
  let scratch: string | undefined;
  afterEach(async () => {
    if (scratch) {
      await rm(scratch, { recursive: true, force: true });
    }
  });

  it("cover every change of src/schema (drizzle-kit generate finds nothing to migrate)", async () => {
    scratch = await mkdtemp(join(tmpdir(), "labnet-migrations-"));
    await cp(join(PACKAGE_DIR, "migrations"), scratch, { recursive: true });
    const before = (await readdir(scratch)).sort();
    // drizzle-kit prefixes --out with "./", so it takes a path relative to the package.
    const { stdout } = await run(
      DRIZZLE_KIT,
      [
        "generate",
        "--dialect",
        "postgresql",
        "--schema",
        "./src/schema/index.ts",
        "--out",
        relative(PACKAGE_DIR, scratch),
        "--name",
        "uncommitted_schema_change",
      ],
      // No terminal: a change drizzle-kit would ask about (a rename?) fails rather than waits.
      { cwd: PACKAGE_DIR, timeout: 60_000, env: { ...process.env, CI: "true" } },
    );
    const added = (await readdir(scratch)).filter((name) => !before.includes(name));
    expect(
      added,
      `src/schema changed without a migration: run \`npx drizzle-kit generate --name <x>\` in packages/db and commit it\n${stdout}`,
    ).toEqual([]);
    expect(stdout).toContain("No schema changes");
  }, 90_000);
});
