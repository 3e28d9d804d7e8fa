import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { REPO_ROOT } from "./paths";
import { runCommand } from "./run-command";

/** The one list of Debian packages Labnet needs, shared with `infra/local/ensure-deps.sh`. */
export const DEBIAN_PACKAGES_FILE = path.join(REPO_ROOT, "infra", "local", "debian-packages.txt");

const POLICY_RC_D = "/usr/sbin/policy-rc.d";

/** Reads {@link DEBIAN_PACKAGES_FILE} (one package a line, `#` comments). */
export async function readRequiredDebianPackages(): Promise<string[]> {
  const text = await readFile(DEBIAN_PACKAGES_FILE, "utf8");
  return text
    .split("\n")
    .map((line) => line.replace(/#.*/, "").trim())
    .filter((line) => line.length > 0);
}

/** The packages of `names` that dpkg does not report as installed. */
export async function findMissingDebianPackages(names: readonly string[]): Promise<string[]> {
  if (names.length === 0) {
    return [];
  }
  // Exits 1 when some package is unknown; stdout still lists the known ones.
  // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own format placeholders
  const format = "-f=${Package}\\t${db:Status-Status}\\n";
  const result = await runCommand(["dpkg-query", "-W", format, ...names]);
  if (result.code === 127) {
    throw new Error("dpkg-query not found: Labnet's local setup supports Debian and its derivatives");
  }
  const installed = new Set(
    result.stdout
      .split("\n")
      .map((line) => line.split("\t"))
      .filter(([, status]) => status === "installed")
      .map(([name]) => name),
  );
  return names.filter((name) => !installed.has(name));
}

/**
 * Installs whichever of `names` are missing, with `apt-get update` + `apt-get install -y`
 * (non-interactive, no recommends). Does nothing, quickly, when all are present. While it
 * installs, a temporary policy-rc.d (only if the machine has none) keeps the distribution's own
 * postgresql/redis services from starting: Labnet runs private servers on unix sockets instead.
 * Returns the packages it installed.
 */
export async function ensureDebianPackages(
  names: readonly string[],
  options: { log?: (line: string) => void } = {},
): Promise<string[]> {
  const missing = await findMissingDebianPackages(names);
  if (missing.length === 0) {
    return [];
  }
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  if (process.getuid?.() !== 0) {
    throw new Error(
      `missing Debian packages: ${missing.join(" ")}; install them as root: apt-get install -y ${missing.join(" ")}`,
    );
  }
  log(`installing Debian packages: ${missing.join(" ")}`);
  const placedPolicy = !existsSync(POLICY_RC_D);
  if (placedPolicy) {
    await writeFile(POLICY_RC_D, "#!/bin/sh\n# Placed by Labnet while it installs packages.\nexit 101\n", {
      mode: 0o755,
    });
  }
  try {
    const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
    const lockWait = ["-o", "DPkg::Lock::Timeout=300"];
    await runInherited(["apt-get", ...lockWait, "update"], env);
    await runInherited(["apt-get", ...lockWait, "install", "-y", "--no-install-recommends", ...missing], env);
  } finally {
    if (placedPolicy) {
      await rm(POLICY_RC_D, { force: true });
    }
  }
  const stillMissing = await findMissingDebianPackages(missing);
  if (stillMissing.length > 0) {
    throw new Error(`apt-get finished but these packages are still not installed: ${stillMissing.join(" ")}`);
  }
  return missing;
}

/** apt's progress goes to our stderr, so a slow first start shows what it is doing. */
function runInherited(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<void> {
  const [file, ...args] = argv;
  if (file === undefined) {
    return Promise.reject(new Error("empty argv"));
  }
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env, stdio: ["ignore", process.stderr, process.stderr] });
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      if (code === 0) {
        resolve();
      } else {
        reject(new Error(`\`${argv.join(" ")}\` failed (${code ?? signal})`));
      }
    });
  });
}
