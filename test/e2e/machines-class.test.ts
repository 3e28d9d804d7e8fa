/**
 * Issue 8 acceptance, a class: 30 virtual machines on one lab host, one per student, each on a
 * LAN of its own with `my-net`, centos1 and centos2 at the same addresses on every machine.
 * Names resolve within a machine, nothing of one machine reaches another (by address, name or
 * published port), each nat table holds only its machine's rules, and removing the machines
 * leaves nothing behind. Also seed 001 exercise 1 on a virtual machine, through the API.
 */
import { readdir } from "node:fs/promises";
import type { components } from "@labnet/api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../helpers/kernel-state";
import type { TestLabnet } from "../helpers/labnet";
import { execIn, listNetns, netnsOf, ping, type SimHost } from "../helpers/netns";
import { callPeer, startPeer } from "../helpers/peers";
import { startSimHostLabnet } from "../helpers/sim-host-labnet";
import { USERNS_PIN_DIR } from "../helpers/userns-pins";

type Machine = components["schemas"]["Machine"];
type Node = components["schemas"]["Node"];

const STUDENTS = 30;
/** Requests in flight at once, as a class's scripts would send them. */
const CLIENTS = 8;

let labnet: TestLabnet;
let host: SimHost;

beforeAll(async () => {
  ({ labnet, host } = await startSimHostLabnet("mc", 62));
});

afterAll(async () => {
  await labnet?.stop();
  await host?.destroy();
});

async function inBatches<T, R>(items: readonly T[], work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let i = 0; i < items.length; i += CLIENTS) {
    results.push(...(await Promise.all(items.slice(i, i + CLIENTS).map(work))));
  }
  return results;
}

async function created<T>(res: { response: Response; data?: T; error?: unknown }): Promise<T> {
  if (res.response.status === 202) {
    // Not done within the wait: say how its operation stands (a rare CI failure said no more).
    const operation = res.response.headers.get("operation-location");
    const answer = operation ? await labnet.request("GET", operation) : undefined;
    expect.fail(`202 instead of 201: ${JSON.stringify(res.data)}; operation: ${await answer?.text()}`);
  }
  expect(res.response.status, JSON.stringify(res.error)).toBe(201);
  if (!res.data) {
    throw new Error("no resource in the answer");
  }
  return res.data;
}

function nodeOf(node: Node): Node & { netns: string } {
  return { ...node, netns: netnsOf(node.sandboxKey) };
}

describe(`a class of ${STUDENTS} machines on one lab host`, () => {
  const students = Array.from({ length: STUDENTS }, (_, i) => `s${String(i + 1).padStart(2, "0")}`);
  const machines = new Map<string, Machine>();
  const centos = new Map<string, { centos1: Node & { netns: string }; centos2: Node & { netns: string } }>();

  it("each student gets a machine on a LAN of their own, with my-net, centos1 and centos2", async () => {
    await inBatches(students, async (student) => {
      const machine = await created(
        await labnet.waitingClient.POST("/v1/machines", {
          body: { name: `mc-${student}`, hostname: "bdc01", lan: `lan-${student}` },
        }),
      );
      expect(machine.state).toBe("ready");
      machines.set(student, machine);
      await created(
        await labnet.waitingClient.POST("/v1/networks", { body: { name: "my-net", host: machine.name } }),
      );
      // One after the other, as `docker run` twice: centos1 gets .2 and centos2 .3 everywhere.
      const nodes: (Node & { netns: string })[] = [];
      for (const name of ["centos1", "centos2"]) {
        const body = {
          name,
          host: machine.name,
          networkMode: "my-net",
          ports: name === "centos2" ? ["8080:80"] : [],
        };
        nodes.push(nodeOf(await created(await labnet.waitingClient.POST("/v1/nodes", { body }))));
      }
      const [centos1, centos2] = nodes;
      if (!centos1 || !centos2) {
        throw new Error("nodes missing");
      }
      centos.set(student, { centos1, centos2 });
    });
    const addresses = new Set(
      [...centos.values()].map(
        ({ centos1, centos2 }) =>
          `${centos1.networkSettings.networks["my-net"]?.ipAddress} ${centos2.networkSettings.networks["my-net"]?.ipAddress}`,
      ),
    );
    expect(addresses.size).toBe(1);
    expect(new Set([...machines.values()].map((m) => m.lan?.subnet)).size).toBe(STUDENTS);
  });

  it("on every machine centos1 pings centos2 by name", async () => {
    await inBatches(students, async (student) => {
      const { centos1, centos2 } = centos.get(student) ?? {};
      const result = await eventually(
        async () => {
          const pinged = await execIn(centos1?.netns ?? "", ["ping", "-c1", "-W1", "centos2"]);
          return pinged.code === 0 ? pinged.stdout : undefined;
        },
        10_000,
        `centos1 of ${student} to ping centos2`,
      );
      expect(result).toContain(centos2?.networkSettings.networks["my-net"]?.ipAddress);
    });
  });

  it("nothing of one machine reaches another: not its address, not its published port", async () => {
    const [a, b] = [machines.get("s01"), machines.get("s02")];
    const from = centos.get("s01")?.centos1.netns ?? "";
    await startPeer(centos.get("s02")?.centos2.netns ?? "", {
      tcpPort: 80,
      label: "s02",
      name: "peer-mc-s02",
    });
    await startPeer(centos.get("s01")?.centos2.netns ?? "", {
      tcpPort: 80,
      label: "s01",
      name: "peer-mc-s01",
    });
    const bAddress = b?.lan?.address ?? "";
    // Its own machine's published port answers (the control), the other's does not.
    expect((await callPeer(from, a?.lan?.address ?? "", { port: 8080 }))?.name).toBe("s01");
    expect(await callPeer(from, bAddress, { port: 8080, timeoutMs: 1_500 })).toBeUndefined();
    expect(await ping(from, bAddress, { timeoutSec: 1 })).toBe(false);
    expect(await ping(netnsOf(a?.netnsPath ?? undefined), bAddress, { timeoutSec: 1 })).toBe(false);
    // The lab host's outside world reaches both, through each one's external port.
    const ledger = await labnet.client.GET("/v1/machines/{machineId}/ports", {
      params: { path: { machineId: b?.name ?? "" } },
    });
    const external = ledger.data?.items[0]?.external?.hostPort ?? 0;
    expect(
      (await callPeer(host.outsideNetns ?? "", host.uplinkAddress ?? "", { port: external }))?.name,
    ).toBe("s02");
  });

  it("each machine's nat table holds only its own rules", async () => {
    const bridgesOf = async (machine: Machine) => {
      const res = await labnet.client.GET("/v1/networks", { params: { query: { host: machine.name } } });
      return (res.data?.items ?? []).map((n) => n.options.bridgeName ?? "").filter((b) => b !== "");
    };
    const all = new Map<string, string[]>();
    for (const machine of machines.values()) {
      all.set(machine.name, await bridgesOf(machine));
    }
    for (const machine of machines.values()) {
      const nat = (await execIn(netnsOf(machine.netnsPath ?? undefined), ["iptables-save", "-t", "nat"]))
        .stdout;
      for (const [other, bridges] of all) {
        for (const bridge of bridges) {
          if (other === machine.name) {
            expect(nat).toContain(bridge);
          } else if (!all.get(machine.name)?.includes(bridge)) {
            // Names every machine has (its docker0) say nothing of whose the rules are.
            expect(nat).not.toContain(bridge);
          }
        }
      }
    }
  });

  it("seed 001 exercise 1: a node in mode none, connected to docker0 with 172.17.42.1", async () => {
    const machine = machines.get("s03")?.name ?? "";
    const none = nodeOf(
      await created(
        await labnet.waitingClient.POST("/v1/nodes", {
          body: { name: "c1", host: machine, networkMode: "none" },
        }),
      ),
    );
    const other = nodeOf(
      await created(await labnet.waitingClient.POST("/v1/nodes", { body: { name: "c2", host: machine } })),
    );
    const connected = await labnet.waitingClient.POST("/v1/networks/{networkId}/connect", {
      params: { path: { networkId: (await bridgeOf(machine)) ?? "" } },
      body: { node: "c1", ipv4Address: "172.17.42.1" },
    });
    expect(connected.response.status, JSON.stringify(connected.error)).toBe(200);
    expect(await ping(none.netns, "172.17.0.1")).toBe(true);
    expect(await ping(none.netns, other.networkSettings.networks.bridge?.ipAddress ?? "")).toBe(true);
  });

  it("removing every machine leaves no namespace, link, rule, pin or LAN behind", async () => {
    await inBatches([...machines.values()], async (machine) => {
      const res = await labnet.client.DELETE("/v1/machines/{machineId}", {
        params: { path: { machineId: machine.id }, query: { force: true } },
      });
      expect(res.response.status).toBe(202);
    });
    await eventually(
      async () => {
        const res = await labnet.client.GET("/v1/machines", { params: { query: { kind: "virtual" } } });
        return res.data?.items.some((m) => m.name.startsWith("mc-")) === false ? true : undefined;
      },
      60_000,
      "every machine to be gone",
    );
    const namespaces = await listNetns(host.hostNetns);
    expect(namespaces.filter((n) => n !== host.hostNetns && n !== host.outsideNetns)).toEqual([]);
    const links = (await execIn(host.hostNetns, ["ip", "-o", "link", "show"])).stdout;
    expect(links).not.toMatch(/lnv[a-z2-7]{10}/);
    const nat = (await execIn(host.hostNetns, ["iptables-save", "-t", "nat"])).stdout;
    expect(nat).not.toContain("-j DNAT");
    for (const machine of machines.values()) {
      expect(nat).not.toContain(machine.lan?.subnet ?? "none");
    }
    // Each LAN was made for its machine and went with it.
    const lans = await labnet.client.GET("/v1/networks", { params: { query: { host: host.hostNetns } } });
    expect((lans.data?.items ?? []).map((n) => n.name)).toEqual(["bridge"]);
    const pins = await readdir(USERNS_PIN_DIR).catch(() => [] as string[]);
    expect(pins.filter((p) => p.startsWith(host.hostNetns))).toEqual([]);
  });
});

async function bridgeOf(machine: string): Promise<string | undefined> {
  const res = await labnet.client.GET("/v1/networks", { params: { query: { host: machine } } });
  return res.data?.items.find((n) => n.name === "bridge")?.id;
}
