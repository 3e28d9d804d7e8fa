/**
 * The executor's wakeups: an operation committed for a machine it serves asks that machine's
 * converger for a converge at once (the operations trigger's NOTIFY), before any job. Other
 * hosts' operations, and an operation's later states, ask nothing. Against a test database of
 * its own, with convergers that count their requests.
 */

import { createDb, insertOperation, type Sql, schema } from "@labnet/db";
import { createLogger } from "@labnet/log";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { HostConverger } from "../../services/executor/src/host-converger";
import { type OperationWakeups, wakeOnOperations } from "../../services/executor/src/operation-wakeups";
import { registerTestHost, startTestHostDatabase, type TestHostDatabase } from "../helpers/test-host";

let t: TestHostDatabase;
let pg: Sql;
let close: () => Promise<void>;
let wakeups: OperationWakeups;
const requests: { hostId: string; scope: string | undefined }[] = [];
const counting = (hostId: string): HostConverger => ({
  request: async (scope) => {
    requests.push({ hostId, scope });
  },
  close: async () => {},
});

beforeAll(async () => {
  t = await startTestHostDatabase("wakeups", { name: "wk-host", netnsPrefix: "wku-" });
  ({ sql: pg, close } = createDb(t.databaseUrl, { max: 2 }));
  const served = counting(t.host.id);
  wakeups = await wakeOnOperations(
    pg,
    (hostId) => (hostId === t.host.id ? served : undefined),
    createLogger("test"),
  );
});

afterAll(async () => {
  await wakeups?.stop();
  await close?.();
  await t?.stop();
});

const until = async (check: () => boolean, ms = 2_000) => {
  const deadline = Date.now() + ms;
  while (!check() && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 10));
  }
  return check();
};

describe("the executor's wakeups", () => {
  it("asks the served machine's converger for a converge when its operation commits", async () => {
    requests.length = 0;
    await insertOperation(t.db, {
      kind: "node.ensure",
      hostId: t.host.id,
      targetType: "node",
      targetId: "nod_aaaaaaaaaaaaaaaa",
    });
    expect(await until(() => requests.length > 0)).toBe(true);
    expect(requests).toEqual([{ hostId: t.host.id, scope: "changed" }]);
  });

  it("asks nothing for an operation's later states, nor for a host it does not serve", async () => {
    requests.length = 0;
    const op = await insertOperation(t.db, {
      kind: "node.ensure",
      hostId: t.host.id,
      targetType: "node",
      targetId: "nod_bbbbbbbbbbbbbbbb",
    });
    expect(await until(() => requests.length > 0)).toBe(true);
    requests.length = 0;
    await t.db.update(schema.operations).set({ state: "running" }).where(eq(schema.operations.id, op.id));
    await t.db
      .update(schema.operations)
      .set({ state: "succeeded", finishedAt: new Date() })
      .where(eq(schema.operations.id, op.id));
    // Another host's operation: nobody here converges it.
    const other = await registerTestHost(t.db, { name: "wk-other", netnsPrefix: "wko-" });
    await insertOperation(t.db, {
      kind: "node.ensure",
      hostId: other.id,
      targetType: "node",
      targetId: "nod_cccccccccccccccc",
    });
    // A notification that would have asked has had its time.
    await new Promise((r) => setTimeout(r, 300));
    expect(requests).toEqual([]);
  });
});
