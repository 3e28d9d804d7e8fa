import type { HostSnapshot, NodeRow, OperationRow } from "@labnet/db";
import type { DesiredSandbox, ObservedLink } from "@labnet/netplan";
import { describe, expect, it } from "vitest";
import { createRecordingRunner } from "./kernel/runner";
import { type KnownLinks, relistTouchedLinks, splitTouchedLinks } from "./known-links";

/** Rows with the fields these functions read; the rest of a row does not matter here. */
function row<T>(fields: Partial<T>): T {
  return fields as T;
}

const link = (name: string, kind: string): ObservedLink =>
  row<ObservedLink>({ name, kind, up: true, mtu: 1500, mac: "02:42:ac:11:00:01" });
const sandbox = (id: string): DesiredSandbox =>
  row<DesiredSandbox>({
    nodeId: `nod_${id}`,
    netns: `ln-${id}`,
    endpoints: [row<DesiredSandbox["endpoints"][number]>({ hostVeth: `lnv${id.slice(0, 9)}a` })],
  });
const op = (id: string, kind: OperationRow["kind"], attempts: number): OperationRow =>
  row<OperationRow>({ id: `op_${id}${kind}`, kind, targetId: `nod_${id}`, targetType: "node", attempts });
const node = (id: string, state: NodeRow["state"]): NodeRow => row<NodeRow>({ id: `nod_${id}`, state });

const NEW = "newnewnewnewnewn";
const RETRY = "retryretryretryr";
const GONE = "gonegonegonegone";
const BRIDGE = "lnbr-aaaaaaaa";

describe("splitTouchedLinks", () => {
  const snapshot = row<HostSnapshot>({
    nodes: [node(NEW, "pending"), node(RETRY, "pending"), node(GONE, "deleting")],
    operations: [op(NEW, "node.ensure", 0), op(RETRY, "node.ensure", 1), op(GONE, "node.remove", 0)],
  });
  const known = (): KnownLinks => ({
    byName: new Map([
      [BRIDGE, link(BRIDGE, "bridge")],
      ["lnvgonegonega", link("lnvgonegonega", "veth")],
      ["lnvx-42", link("lnvx-42", "vxlan")],
    ]),
  });

  it("plans with what is known, takes a first build's veths as absent, and lists the rest", async () => {
    const split = await splitTouchedLinks(
      known(),
      [BRIDGE, "lnvnewnewnewa", "lnvretryretra", "lnvgonegonega", "lnbr-bbbbbbbb"],
      { snapshot, sandboxes: [sandbox(NEW), sandbox(RETRY)], existingNetns: new Set() },
    );
    expect(split.known.map((l) => l.name)).toEqual([BRIDGE, "lnvgonegonega"]);
    // A retried attempt may have left its veth: listed. A bridge never listed: listed.
    expect(split.observe).toEqual(["lnvretryretra", "lnbr-bbbbbbbb"]);
  });

  it("lists a first build's veths when its namespace exists, and vxlans always", async () => {
    const split = await splitTouchedLinks(known(), ["lnvnewnewnewa", "lnvx-42"], {
      snapshot,
      sandboxes: [sandbox(NEW)],
      existingNetns: new Set([`ln-${NEW}`]),
    });
    expect(split.known).toEqual([]);
    expect(split.observe).toEqual(["lnvnewnewnewa", "lnvx-42"]);
  });

  it("waits for the listing under way before it reads what is known", async () => {
    const links: KnownLinks = { byName: new Map() };
    links.listing = new Promise((resolve) => setTimeout(resolve, 20)).then(() => {
      links.byName.set(BRIDGE, link(BRIDGE, "bridge"));
    });
    const split = await splitTouchedLinks(links, [BRIDGE], {
      snapshot,
      sandboxes: [],
      existingNetns: new Set(),
    });
    expect(split.known.map((l) => l.name)).toEqual([BRIDGE]);
  });
});

describe("relistTouchedLinks", () => {
  const listing = JSON.stringify([
    {
      ifindex: 7,
      ifname: BRIDGE,
      flags: ["UP"],
      mtu: 1500,
      address: "02:42:ac:11:00:01",
      linkinfo: { info_kind: "bridge" },
    },
  ]);

  it("keeps what one listing of the touched links saw: present ones replace, absent ones leave", async () => {
    const runner = createRecordingRunner(() => ({ stdout: `${listing}\n` }));
    const links: KnownLinks = { byName: new Map([["lnvgonegonega", link("lnvgonegonega", "veth")]]) };
    relistTouchedLinks(runner, links, [BRIDGE, "lnvgonegonega", BRIDGE]);
    await links.listing;
    expect(runner.calls).toEqual([
      {
        argv: ["ip", "-force", "-j", "-d", "-batch", "-"],
        stdin: `addr show dev ${BRIDGE}\naddr show dev lnvgonegonega\n`,
      },
    ]);
    expect([...links.byName.keys()]).toEqual([BRIDGE]);
    expect(links.byName.get(BRIDGE)?.up).toBe(true);
  });

  it("forgets everything when the listing fails, so the next converge lists", async () => {
    const runner = createRecordingRunner(() => ({ code: 1, stderr: "Cannot open netlink socket\n" }));
    const links: KnownLinks = { byName: new Map([[BRIDGE, link(BRIDGE, "bridge")]]) };
    relistTouchedLinks(runner, links, [BRIDGE]);
    await links.listing;
    expect(links.byName.size).toBe(0);
  });
});
