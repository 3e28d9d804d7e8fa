/**
 * A database client under load, in a process of its own so that a crash is seen as an exit:
 * `node --import tsx test/helpers/transaction-load.ts <database url> [loops]` runs
 * transactions (through @labnet/db, as the services do) in parallel loops until SIGTERM, and
 * prints `ok=<n> failed=<n>` every 100 ms and once more when it stops. Exits 0 unless it crashed.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { createDb } from "@labnet/db";
import { sql } from "drizzle-orm";

const [url, loopsArg] = process.argv.slice(2);
if (!url) {
  process.stderr.write("usage: transaction-load.ts <database url> [loops]\n");
  process.exit(2);
}
const { db, close } = createDb(url, { max: 10, applicationName: "transaction-load" });
let ok = 0;
let failed = 0;
let running = true;

async function loop(): Promise<void> {
  while (running) {
    try {
      // Several statements per transaction: a restart mid-way leaves the ROLLBACK to a dead session.
      await db.transaction(async (tx) => {
        await tx.execute(sql`select 1`);
        await tx.execute(sql`select pg_sleep(0.002)`);
        await tx.execute(sql`select 2`);
      });
      ok += 1;
    } catch {
      failed += 1;
      await sleep(10);
    }
  }
}

const report = () => process.stdout.write(`ok=${ok} failed=${failed}\n`);
const timer = setInterval(report, 100);
const loops = Array.from({ length: Number(loopsArg ?? 20) }, loop);
process.once("SIGTERM", () => {
  running = false;
  void Promise.all(loops).then(async () => {
    clearInterval(timer);
    report();
    await close();
    process.exit(0);
  });
});
