/**
 * Applies the committed migrations and exits: what a deployment runs before rolling out a new
 * version (compose's `migrate`, the Kubernetes Job). The gateway also migrates when it starts;
 * the advisory lock in `migrate()` lets them all run at once.
 *
 *   DATABASE_URL=postgres://... node --import tsx services/gateway/src/migrate-main.ts
 */
import { parseEnv } from "@labnet/config";
import { migrate } from "@labnet/db";
import { MigrateConfig } from "./config";

async function main(): Promise<void> {
  const config = parseEnv(MigrateConfig, process.env, "migrate");
  await migrate(config.DATABASE_URL);
  process.stdout.write("migrations applied\n");
}

main().catch((error: unknown) => {
  process.stderr.write(`migrate failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
