/**
 * The outbox's claim (`claimDispatchable`, one statement per dispatch round): open operations
 * oldest first with the queue of their lab host, each claimed once until it is due again, none
 * while another dispatcher holds the advisory lock. Against a test database of its own.
 */
import { claimDispatchable, DatabaseLock, insertOperation, schema, unmarkDispatched } from "@labnet/db";
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestHostDatabase, type TestHostDatabase } from "../helpers/test-host";

let t: TestHostDatabase;

beforeAll(async () => {
  t = await startTestHostDatabase("outbox", { name: "ob-host", netnsPrefix: "obx-" });
});

afterAll(async () => {
  await t?.stop();
});

const op = (targetId: string) =>
  insertOperation(t.db, { kind: "node.ensure", hostId: t.host.id, targetType: "node", targetId });

describe("claiming the outbox", () => {
  it("claims open operations oldest first, once, and again only when due for redispatch", async () => {
    const claimAll = () => claimDispatchable(t.db, { redispatchAfterMs: 30_000, limit: 100 });
    await claimAll(); // what registering the host recorded
    const first = await op("nod_aaaaaaaaaaaaaaaa");
    const second = await op("nod_bbbbbbbbbbbbbbbb");
    const done = await op("nod_cccccccccccccccc");
    await t.db.update(schema.operations).set({ state: "succeeded" }).where(eq(schema.operations.id, done.id));

    const claimed = await claimAll();
    expect(claimed).toEqual([
      { id: first.id, hostId: t.host.id, queueHostId: t.host.id },
      { id: second.id, hostId: t.host.id, queueHostId: t.host.id },
    ]);
    const [row] = await t.db.select().from(schema.operations).where(eq(schema.operations.id, first.id));
    expect(row?.dispatchedAt).toBeInstanceOf(Date);
    expect(await claimAll()).toEqual([]);
    // Dispatched and still open past the window: Redis may have lost it.
    const due = await claimDispatchable(t.db, { redispatchAfterMs: 0, limit: 100 });
    expect(due.map((o) => o.id)).toEqual(expect.arrayContaining([first.id, second.id]));
    expect(due.map((o) => o.id)).not.toContain(done.id);
    // The limit takes the oldest.
    const [oldest] = due;
    expect((await claimDispatchable(t.db, { redispatchAfterMs: 0, limit: 1 })).map((o) => o.id)).toEqual([
      oldest?.id,
    ]);
    // A dispatch that did not reach the queue puts them back.
    await unmarkDispatched(t.db, [second.id]);
    expect((await claimAll()).map((o) => o.id)).toEqual([second.id]);
  });

  it("claims nothing while another dispatcher holds the lock", async () => {
    const pending = await op("nod_dddddddddddddddd");
    await t.db.transaction(async (tx) => {
      await tx.execute(sql`SELECT pg_advisory_xact_lock(${DatabaseLock.OutboxDispatch})`);
      expect(await claimDispatchable(t.db, { redispatchAfterMs: 30_000, limit: 100 })).toEqual([]);
    });
    expect(
      (await claimDispatchable(t.db, { redispatchAfterMs: 30_000, limit: 100 })).map((o) => o.id),
    ).toEqual([pending.id]);
  });
});
