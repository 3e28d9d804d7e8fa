/**
 * An executor's registration: the host takes work (is online) only once its predefined `bridge`
 * network exists, so a creation on the default bridge never finds a host without one. Against a
 * test database, no executor.
 */
import { registerHostWithDefaults } from "@labnet/commands";
import { findNetworks, isHostOnline, registerHost, schema } from "@labnet/db";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestHostDatabase, TEST_HOST_CAPABILITIES, type TestHostDatabase } from "../helpers/test-host";

let t: TestHostDatabase;

beforeAll(async () => {
  t = await startTestHostDatabase("hostreg", { name: "hr-first", netnsPrefix: "hrf-" });
});

afterAll(async () => {
  await t?.stop();
});

const input = (name: string) => ({
  name,
  netnsPrefix: `${name}-`,
  underlayAddress: null,
  capabilities: TEST_HOST_CAPABILITIES,
});

async function heartbeatOf(name: string): Promise<Date | undefined> {
  const [row] = await t.db.select().from(schema.hosts).where(eq(schema.hosts.name, name));
  return row?.lastHeartbeatAt;
}

describe("host registration", () => {
  it("records a new host offline until the rest of its registration is done", async () => {
    const host = await registerHost(
      t.db,
      { id: "hst_hrsecond00000000", ...input("hr-second") },
      { online: false },
    );
    expect(isHostOnline(host)).toBe(false);
    expect(await findNetworks(t.db, "bridge", host.id)).toEqual([]);
  });

  it("with defaults: online with its default bridge, also when an earlier attempt stopped halfway", async () => {
    // hr-second above is that attempt: recorded, no bridge, never online.
    const host = await registerHostWithDefaults({ ctx: t.ctx, input: input("hr-second") });
    expect(host.id).toBe("hst_hrsecond00000000");
    const heartbeat = await heartbeatOf("hr-second");
    expect(heartbeat && isHostOnline({ lastHeartbeatAt: heartbeat })).toBe(true);
    const bridges = await findNetworks(t.db, "bridge", host.id);
    expect(bridges.map((n) => [n.name, n.builtin])).toEqual([["bridge", true]]);
  });

  it("leaves an existing host's heartbeat as it was when refreshed with online: false", async () => {
    const before = await heartbeatOf("hr-first");
    await registerHost(t.db, { id: "hst_unused0000000000", ...input("hr-first") }, { online: false });
    expect(await heartbeatOf("hr-first")).toEqual(before);
    expect(before && isHostOnline({ lastHeartbeatAt: before })).toBe(true);
  });
});
