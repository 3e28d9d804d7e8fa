import { connect, type Socket } from "node:net";
import postgres from "postgres";
import { postgresOptions } from "./database";

/** A postgres.js client whose socket writes are counted: how many round trips work took. */
export interface CountedPostgres {
  sql: postgres.Sql;
  /** Writes `work` made on the client's connections, once nothing else is pending. */
  writesOf(work: () => Promise<unknown>): Promise<number>;
}

/**
 * A client of `url` with `max` connections whose writes are counted, for tests of what goes
 * out in one write (the patches in packages/db/patches).
 */
export function countedPostgres(url: string, max: number): CountedPostgres {
  const options = postgresOptions(url);
  let writes = 0;
  // `socket` (the driver's own connection, here counted) is an option postgres.js has but does
  // not declare.
  const counted = {
    socket: () => {
      const socket: Socket = options.host.startsWith("/")
        ? connect(`${options.host}/.s.PGSQL.${options.port}`)
        : connect(options.port, options.host);
      const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
      socket.write = ((...args: unknown[]) => {
        writes += 1;
        return write(...args);
      }) as Socket["write"];
      return socket;
    },
  };
  const sql = postgres({
    ...options,
    max,
    onnotice: () => {},
    ...(counted as postgres.Options<Record<string, postgres.PostgresType>>),
  });
  return {
    sql,
    async writesOf(work) {
      await sql`SELECT 1`; // connected, nothing pending
      const before = writes;
      await work();
      return writes - before;
    },
  };
}
