/** Applies migrations to the database at a URL. */
export type MigrateFn = (databaseUrl: string) => Promise<void>;

/**
 * Applies the committed migrations with `migrate(url)` from `@labnet/db`. Loaded lazily so the
 * stack and the test harness do not depend on the schema package at load time. Returns false
 * (and applies nothing) when `@labnet/db` does not export `migrate`.
 */
export async function migrateDatabase(databaseUrl: string, migrate?: MigrateFn): Promise<boolean> {
  const run = migrate ?? (await loadMigrate());
  if (!run) {
    return false;
  }
  await run(databaseUrl);
  return true;
}

async function loadMigrate(): Promise<MigrateFn | undefined> {
  const specifier = "@labnet/db";
  let mod: unknown;
  try {
    mod = await import(specifier);
  } catch (error) {
    if (
      (error as NodeJS.ErrnoException).code === "ERR_MODULE_NOT_FOUND" &&
      String(error).includes(specifier)
    ) {
      return undefined;
    }
    throw error;
  }
  if (typeof mod === "object" && mod !== null && "migrate" in mod && typeof mod.migrate === "function") {
    const migrate = mod.migrate as MigrateFn;
    return (url) => migrate(url);
  }
  return undefined;
}
