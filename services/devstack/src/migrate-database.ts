/**
 * Applies the committed migrations (`migrate` of `@labnet/db`), for the stack and the test
 * harness. Imported when called, so loading the harness's helpers does not load the schema.
 */
export async function migrateDatabase(databaseUrl: string): Promise<void> {
  const { migrate } = await import("@labnet/db");
  await migrate(databaseUrl);
}
