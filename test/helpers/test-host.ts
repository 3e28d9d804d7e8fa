import { type CommandContext, registerHostWithDefaults } from "@labnet/commands";
import { createDb, type Database, type HostCapabilities, type HostRow } from "@labnet/db";
import { DEFAULT_ADDRESS_POOLS } from "@labnet/ipam";
import { createTestDatabase } from "./database";

/** What a host without an executor reports: the bridge model's link types and drivers. */
export const TEST_HOST_CAPABILITIES = {
  linkTypes: ["bridge", "veth"],
  drivers: ["bridge"],
  iptables: true,
};

/** The command context tests use over `db`: Docker's pools, MTU 1500. */
export function testCommandContext(db: Database): CommandContext {
  return { db, addressPools: DEFAULT_ADDRESS_POOLS, defaultMtu: 1500 };
}

/**
 * Registers a lab host with no executor behind it (its predefined `bridge` network too), as
 * an executor would at start: for tests of the commands, the API and the converge loop.
 * `capabilities` replaces {@link TEST_HOST_CAPABILITIES} (a host with macvlan, say).
 */
export function registerTestHost(
  db: Database,
  input: { name: string; netnsPrefix: string; netnsPath?: string; capabilities?: HostCapabilities },
): Promise<HostRow> {
  return registerHostWithDefaults({
    ctx: testCommandContext(db),
    input: { capabilities: TEST_HOST_CAPABILITIES, ...input, underlayAddress: null },
  });
}

/** A database of the test file's own with one registered host, and the commands' context over it. */
export interface TestHostDatabase {
  db: Database;
  /** For a client of the test's own (LISTEN). */
  databaseUrl: string;
  ctx: CommandContext;
  host: HostRow;
  stop(): Promise<void>;
}

export async function startTestHostDatabase(
  prefix: string,
  host: { name: string; netnsPrefix: string },
  options: { maxConnections?: number } = {},
): Promise<TestHostDatabase> {
  const database = await createTestDatabase(prefix);
  const { db, close } = createDb(database.url, { max: options.maxConnections ?? 10 });
  try {
    return {
      db,
      databaseUrl: database.url,
      ctx: testCommandContext(db),
      host: await registerTestHost(db, host),
      async stop() {
        await close();
        await database.drop();
      },
    };
  } catch (error) {
    await close();
    await database.drop();
    throw error;
  }
}
