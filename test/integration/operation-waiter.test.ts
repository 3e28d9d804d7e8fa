/**
 * `Prefer: wait=N`'s waiter: woken by the operations trigger's notification with the state an
 * operation finished in, answering at once for one finished already, and undefined when the
 * time runs out. Against a test database of its own.
 */

import { createDb, insertOperation, type Sql, schema } from "@labnet/db";
import { createOperationWaiter, type OperationWaiter } from "@labnet/gateway";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestHostDatabase, type TestHostDatabase } from "../helpers/test-host";

let t: TestHostDatabase;
let pg: Sql;
let close: () => Promise<void>;
let waiter: OperationWaiter;

beforeAll(async () => {
  t = await startTestHostDatabase("waiter", { name: "wt-host", netnsPrefix: "wtr-" });
});

afterAll(async () => {
  await waiter?.stop();
  await close?.();
  await t?.stop();
});

const op = (targetId: string) =>
  insertOperation(t.db, { kind: "node.ensure", hostId: t.host.id, targetType: "node", targetId });

const finish = (id: string, state: "succeeded" | "failed") =>
  t.db.update(schema.operations).set({ state, finishedAt: new Date() }).where(eq(schema.operations.id, id));

describe("the operation waiter", () => {
  beforeAll(() => {
    ({ sql: pg, close } = createDb(t.databaseUrl, { max: 2 }));
    waiter = createOperationWaiter(t.db, pg);
  });

  it("answers the state an operation finished in when it finishes", async () => {
    const running = await op("nod_aaaaaaaaaaaaaaaa");
    const waiting = waiter.wait(running.id, 10_000);
    await new Promise((r) => setTimeout(r, 100));
    const started = performance.now();
    await finish(running.id, "failed");
    expect(await waiting).toBe("failed");
    // The notification woke it, not the once-a-second look.
    expect(performance.now() - started).toBeLessThan(900);
  });

  it("answers at once for an operation already finished, and undefined when the time is up", async () => {
    const done = await op("nod_bbbbbbbbbbbbbbbb");
    await finish(done.id, "succeeded");
    expect(await waiter.wait(done.id, 10_000)).toBe("succeeded");
    const open = await op("nod_cccccccccccccccc");
    expect(await waiter.wait(open.id, 200)).toBeUndefined();
  });
});
