/**
 * `npm run build --workspace @labnet/api [-- --out DIR]`: the typed client as a package another
 * project can install (`npm install <repo>/packages/api/dist`): ES modules with declarations,
 * compiled under NodeNext resolution so `moduleResolution: nodenext` consumers resolve every
 * import; the generated contract types beside them; a package.json of its own.
 */
import { execFile } from "node:child_process";
import { copyFile, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const packageDir = fileURLToPath(new URL("..", import.meta.url));
const run = promisify(execFile);

/** Builds into `outDir` (default `packages/api/dist`) and returns it. */
export async function buildApiPackage(outDir = path.join(packageDir, "dist")): Promise<string> {
  await rm(outDir, { recursive: true, force: true });
  const tsc = path.join(packageDir, "..", "..", "node_modules", "typescript", "bin", "tsc");
  await run(process.execPath, [tsc, "-p", path.join(packageDir, "tsconfig.build.json"), "--outDir", outDir]);
  // tsc emits no .d.ts it did not compile: the generated contract types go along as they are.
  await mkdir(path.join(outDir, "generated"), { recursive: true });
  await copyFile(
    path.join(packageDir, "src", "generated", "labnet.d.ts"),
    path.join(outDir, "generated", "labnet.d.ts"),
  );
  const source = JSON.parse(await readFile(path.join(packageDir, "package.json"), "utf8")) as {
    name: string;
    version: string;
    dependencies: Record<string, string>;
  };
  const manifest = {
    name: source.name,
    version: source.version,
    description: "Typed client of the Labnet API (openapi-fetch), with the contract's types",
    type: "module",
    exports: { ".": { types: "./index.d.ts", import: "./index.js", default: "./index.js" } },
    types: "./index.d.ts",
    dependencies: source.dependencies,
  };
  await writeFile(path.join(outDir, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  return outDir;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const at = process.argv.indexOf("--out");
  const out = at === -1 ? undefined : process.argv[at + 1];
  buildApiPackage(out ? path.resolve(out) : undefined).then(
    (dir) => process.stdout.write(`built ${dir}\n`),
    (error: unknown) => {
      const e = error as { stdout?: string; message?: string };
      process.stderr.write(`${e.stdout || e.message || String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
