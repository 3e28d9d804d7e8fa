import { describe, expect, it } from "vitest";
import { type ExpectedEndpoint, nodeKernelDrift } from "./node-kernel-drift";

const eth = (index: number, address: string, mac: string) => ({
  name: `eth${index}`,
  index: 10 + index,
  kind: "veth",
  up: true,
  operState: "up",
  mtu: 1500,
  mac,
  addresses: [{ family: "inet" as const, address, prefixLength: 24, scope: "global" }],
});

const endpoints: ExpectedEndpoint[] = [
  {
    ifIndex: 0,
    address: "172.18.0.2/24",
    mac: "02:42:ac:12:00:02",
    gateway: "172.18.0.1",
    internal: false,
    driver: "bridge",
  },
  {
    ifIndex: 1,
    address: "172.19.0.2/24",
    mac: "02:42:ac:13:00:02",
    gateway: "172.19.0.1",
    internal: false,
    driver: "bridge",
  },
];

describe("nodeKernelDrift", () => {
  it("is empty when the kernel is what Postgres says", () => {
    const kernel = {
      interfaces: [eth(0, "172.18.0.2", "02:42:ac:12:00:02"), eth(1, "172.19.0.2", "02:42:ac:13:00:02")],
      routes: [{ dst: "default", gateway: "172.18.0.1", dev: "eth0" }],
    };
    expect(nodeKernelDrift(endpoints, kernel)).toEqual([]);
  });

  it("names a missing veth, a wrong address, a wrong MAC and a wrong default route", () => {
    const kernel = {
      interfaces: [eth(0, "172.18.0.9", "02:42:ac:12:00:09")],
      routes: [{ dst: "default", gateway: "172.18.0.254", dev: "eth0" }],
    };
    const drift = nodeKernelDrift(endpoints, kernel);
    expect(drift.map((d) => d.message)).toEqual([
      "eth0 lacks 172.18.0.2/24 (has 172.18.0.9/24)",
      "eth0 has MAC 02:42:ac:12:00:09, not 02:42:ac:12:00:02",
      "eth1 missing",
      "default route via 172.18.0.254, not 172.18.0.1",
    ]);
    expect(nodeKernelDrift(endpoints, { interfaces: kernel.interfaces, routes: [] }).at(-1)).toMatchObject({
      kind: "default-route",
      actual: null,
    });
  });

  it("expects no default route through internal or overlay networks", () => {
    const quiet = endpoints.map((e) => ({
      ...e,
      internal: e.ifIndex === 0,
      driver: e.ifIndex === 1 ? "overlay" : "bridge",
    }));
    const kernel = {
      interfaces: [eth(0, "172.18.0.2", "02:42:ac:12:00:02"), eth(1, "172.19.0.2", "02:42:ac:13:00:02")],
      routes: [],
    };
    expect(nodeKernelDrift(quiet, kernel)).toEqual([]);
  });
});
