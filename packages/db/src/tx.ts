import type { Database } from "./client";

/** A transaction handle, as drizzle passes it to `db.transaction(cb)`. */
export type Tx = Parameters<Parameters<Database["transaction"]>[0]>[0];

/** Anything queries can run on: the pool or an open transaction. */
export type Db = Database | Tx;
