import { schema } from "@labnet/db";
import { inArray } from "drizzle-orm";
import { expect } from "vitest";
import type { TestLabnet } from "./labnet";
import { execIn, listNetns } from "./netns";

/** Polls `probe` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(
  probe: () => Promise<T | undefined>,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) {
      return value;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Waits until the executor of `hostName` has registered and is online. */
export async function waitForHostOnline(labnet: TestLabnet, hostName: string, timeoutMs = 60_000) {
  return eventually(
    async () => {
      const { data } = await labnet.client.GET("/v1/hosts");
      return data?.items.find((h) => h.name === hostName && h.status === "online");
    },
    timeoutMs,
    `host ${hostName} online`,
  );
}

/** Waits until every operation has finished, and asserts they all succeeded. */
export async function waitForOperations(
  labnet: Pick<TestLabnet, "db">,
  ids: string[],
  timeoutMs = 60_000,
): Promise<void> {
  await eventually(
    async () => {
      const rows = await labnet.db
        .select({ id: schema.operations.id, state: schema.operations.state, error: schema.operations.error })
        .from(schema.operations)
        .where(inArray(schema.operations.id, ids));
      const open = rows.filter((r) => r.state === "queued" || r.state === "running");
      if (rows.length === ids.length && open.length === 0) {
        expect(rows.filter((r) => r.state !== "succeeded")).toEqual([]);
        return true;
      }
      return undefined;
    },
    timeoutMs,
    `${ids.length} operations to finish`,
  );
}

/** Labnet-owned links in a namespace (bridges and host-side veths). */
export async function labnetLinks(netns: string): Promise<string[]> {
  const res = await execIn(netns, ["ip", "-j", "link", "show"]);
  const links = JSON.parse(res.stdout || "[]") as { ifname: string }[];
  return links
    .map((l) => l.ifname)
    .filter((n) => /^(lnbr-|lnv)/.test(n))
    .sort();
}

/** The default route of a namespace as `ip route` prints it ("" when there is none). */
export async function defaultRoute(netns: string): Promise<string> {
  return (await execIn(netns, ["ip", "route", "show", "default"])).stdout.trim();
}

/** Rules in Labnet's chains of a namespace (not the chain declarations or hooks). */
export async function labnetRules(netns: string): Promise<string[]> {
  const res = await execIn(netns, ["iptables-save"]);
  return res.stdout.split("\n").filter((l) => /^-A LABNET-/.test(l));
}

/**
 * The kernel of a sim host holds exactly what Postgres says: a sandbox namespace per
 * node, a bridge per network, a host veth per endpoint, and nothing else of Labnet's.
 * Namespace deletion finishes asynchronously in the kernel, so this polls briefly.
 */
export async function expectHostMatchesDatabase(
  labnet: Pick<TestLabnet, "db">,
  hostNetns: string,
): Promise<void> {
  const want = async () => {
    const nodes = await labnet.db.select({ netns: schema.nodes.netns }).from(schema.nodes);
    const networks = await labnet.db.select({ bridge: schema.networks.bridgeName }).from(schema.networks);
    const endpoints = await labnet.db.select({ veth: schema.endpoints.hostVeth }).from(schema.endpoints);
    return {
      // Nodes in mode host or container: have no sandbox of their own.
      netns: nodes.flatMap((n) => (n.netns ? [n.netns] : [])).sort(),
      links: [...networks.map((n) => n.bridge), ...endpoints.map((e) => e.veth)].sort(),
    };
  };
  const have = async () => ({
    netns: (await listNetns(`${hostNetns}-`)).sort(),
    links: await labnetLinks(hostNetns),
  });
  const deadline = Date.now() + 10_000;
  for (;;) {
    const [w, h] = [await want(), await have()];
    if (JSON.stringify(w) === JSON.stringify(h) || Date.now() > deadline) {
      expect(h).toEqual(w);
      return;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}
