import { runCommandOrThrow } from "@labnet/devstack";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createSimHost, createSimLan, listNetns, ping } from "../helpers/netns";
import { callPeer, startPeer } from "../helpers/peers";

const runPrefix = inject("runPrefix");

async function rootLinks(): Promise<string[]> {
  const { stdout } = await runCommandOrThrow(["ip", "-o", "link", "show"]);
  return stdout
    .split("\n")
    .map((line) => line.split(": ")[1]?.split("@")[0])
    .filter((name): name is string => Boolean(name))
    .sort();
}

describe("e2e harness", () => {
  let linksBefore: string[] = [];
  beforeAll(async () => {
    linksBefore = await rootLinks();
  });
  afterAll(async () => {
    // The harness builds only inside namespaces; the machine's own links stay as they were.
    expect(await rootLinks()).toEqual(linksBefore);
  });

  it("builds a sim host with an outside world and removes it without leftovers", async () => {
    const host = await createSimHost(runPrefix, "h1", { withOutside: true, index: 1 });
    try {
      expect(host.hostNetns).toBe(`${runPrefix}h1`);
      expect(host.outsideNetns).toBe(`${runPrefix}out1`);
      expect(await listNetns(runPrefix)).toEqual(expect.arrayContaining([host.hostNetns, host.outsideNetns]));

      expect(await ping(host.hostNetns, "198.18.1.2")).toBe(true);
      const route = await host.exec(host.hostNetns, ["ip", "-4", "route", "show", "default"]);
      expect(route.stdout).toContain("via 198.18.1.2 dev uplink0");

      const outside = host.outsideNetns ?? "";
      const peer = await startPeer(outside, { tcpPort: 7000, udpPort: 7001 });
      const tcp = await callPeer(host.hostNetns, "198.18.1.2", { port: 7000, data: "hi" });
      expect(tcp).toMatchObject({ protocol: "tcp", address: "198.18.1.1", data: "hi\n" });
      const udp = await callPeer(host.hostNetns, "198.18.1.2", { protocol: "udp", port: 7001 });
      expect(udp).toMatchObject({ protocol: "udp", address: "198.18.1.1" });

      // Nothing listens there: the helper reports no reply instead of throwing.
      expect(await callPeer(host.hostNetns, "198.18.1.2", { port: 7999, timeoutMs: 1_000 })).toBeUndefined();

      const status = await peer.stop();
      expect(status.code === 0 || status.signal === "SIGTERM").toBe(true);
    } finally {
      await host.destroy();
    }
    expect(await listNetns(runPrefix)).toEqual([]);
  });

  it("joins two sim hosts on one LAN segment", async () => {
    const lan = await createSimLan(runPrefix, "lan");
    const a = await createSimHost(runPrefix, "ha");
    const b = await createSimHost(runPrefix, "hb");
    try {
      await lan.attach(a, { address: "10.99.0.1/24" });
      await lan.attach(b, { address: "10.99.0.2/24" });
      expect(await ping(a.hostNetns, "10.99.0.2")).toBe(true);
      expect(await ping(b.hostNetns, "10.99.0.1")).toBe(true);
    } finally {
      await a.destroy();
      await b.destroy();
      await lan.destroy();
    }
    expect(await listNetns(runPrefix)).toEqual([]);
  });
});
