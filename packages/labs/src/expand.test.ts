import { describe, expect, it } from "vitest";
import { expandInstance, expandSolution, lanName, machineName } from "./expand";
import { parseTemplate } from "./parse";
import type { LabTemplate } from "./template";

function template(text: string): LabTemplate {
  const parsed = parseTemplate(text);
  if (!parsed.ok) {
    throw new Error(JSON.stringify(parsed.errors));
  }
  return parsed.template;
}

const alice = { lab: "net101", student: "alice" };

describe("machine and LAN names", () => {
  it.each([
    [{ lab: "net101", student: "alice" }, "bdc01", "net101-alice-bdc01"],
    [{ lab: "net101", student: "Alice Smith" }, "bdc01", /^net101-alice-smith-bdc01-[0-9a-f]{8}$/],
    [{ lab: "x".repeat(60), student: "bob" }, "bdc01", /^x{54}-[0-9a-f]{8}$/],
    [{ lab: "a;b", student: "../c" }, "host", /^a-b-c-host-[0-9a-f]{8}$/],
  ])("%j %s → %s", (naming, key, want) => {
    const name = machineName(naming, key);
    expect(name.length).toBeLessThanOrEqual(63);
    expect(name).toMatch(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/);
    if (typeof want === "string") {
      expect(name).toBe(want);
    } else {
      expect(name).toMatch(want);
    }
  });

  it("is deterministic and keeps different students apart", () => {
    const long = { lab: "l".repeat(50), student: "student-number-one" };
    const other = { lab: "l".repeat(50), student: "student-number-two" };
    expect(machineName(long, "bdc01")).toBe(machineName(long, "bdc01"));
    expect(machineName(long, "bdc01")).not.toBe(machineName(other, "bdc01"));
    expect(machineName({ lab: "a_b", student: "c" }, "m")).not.toBe(
      machineName({ lab: "a-b", student: "c" }, "m"),
    );
    expect(lanName(alice)).toBe("net101-alice-lan");
  });
});

describe("expandInstance", () => {
  const text = `name: t
title: T
machines:
  bdc01: {}
  bdc02: { hostname: other }
networks:
  ov:
    driver: overlay
    ipam: { config: [{ subnet: 10.1.0.0/24 }] }
  web: { machine: bdc02, internal: true, driver_opts: { isolated: "false", com.docker.network.driver.mtu: "1400" }, labels: { a: b } }
services:
  side: { machine: bdc02, network_mode: "container:main" }
  main:
    machine: bdc02
    networks: { web: { ipv4_address: null }, ov: { aliases: [m] } }
    hostname: mainhost
    dns: 8.8.8.8
    dns_search: corp.test
    extra_hosts: { db: 10.0.0.5 }
    ports: [8080]
    expose: ["80/tcp"]
  solo: { machine: bdc01, network_mode: none }
`;

  it("refuses a null address the schema does not take", () => {
    expect(parseTemplate(text).ok).toBe(false);
  });

  const t = template(text.replace("web: { ipv4_address: null }", "web:"));
  const plan = expandInstance(t, alice);

  it("names machines per student with the template's hostnames, on the instance's LAN", () => {
    expect(plan.machines).toEqual([
      { key: "bdc01", request: { name: "net101-alice-bdc01", hostname: "bdc01", lan: "net101-alice-lan" } },
      { key: "bdc02", request: { name: "net101-alice-bdc02", hostname: "other", lan: "net101-alice-lan" } },
    ]);
    expect(plan.lan).toEqual({ name: "net101-alice-lan", avoid: ["172.17.0.0/16", "10.1.0.0/24"] });
  });

  it("creates an overlay through the first machine with a service on it", () => {
    expect(plan.networks[0]).toEqual({
      key: "ov",
      machineKey: "bdc02",
      request: {
        name: "ov",
        host: "net101-alice-bdc02",
        driver: "overlay",
        ipam: { configs: [{ subnet: "10.1.0.0/24" }] },
      },
    });
    expect(plan.networks[1]?.request).toEqual({
      name: "web",
      host: "net101-alice-bdc02",
      driver: "bridge",
      internal: true,
      options: { isolated: false, "com.docker.network.driver.mtu": "1400" },
      labels: { a: "b" },
    });
  });

  it("orders a container: target before its sharers and shapes node requests", () => {
    expect(plan.services.map((s) => s.key)).toEqual(["main", "side", "solo"]);
    expect(plan.services[0]?.request).toEqual({
      name: "main",
      host: "net101-alice-bdc02",
      networks: [{ network: "web" }, { network: "ov", aliases: ["m"] }],
      hostname: "mainhost",
      dns: { servers: ["8.8.8.8"], search: ["corp.test"] },
      extraHosts: ["db:10.0.0.5"],
      ports: ["8080"],
      exposedPorts: ["80/tcp"],
    });
    expect(plan.services[1]?.request).toEqual({
      name: "side",
      host: "net101-alice-bdc02",
      networkMode: "container:main",
    });
    expect(plan.services[2]?.request).toEqual({
      name: "solo",
      host: "net101-alice-bdc01",
      networkMode: "none",
    });
  });

  it("gives the default machine and bridge mode when the template says nothing", () => {
    const simple = expandInstance(template("name: s\ntitle: S\nservices:\n  a:\n"), {
      lab: "l",
      student: "s",
    });
    expect(simple.machines).toEqual([
      { key: "host", request: { name: "l-s-host", hostname: "host", lan: "l-s-lan" } },
    ]);
    expect(simple.services[0]?.request).toEqual({ name: "a", host: "l-s-host", networkMode: "bridge" });
  });

  it("uses Compose's name for the network and for the services on it", () => {
    const named = template(
      "name: s\ntitle: S\nmachines: { a: {}, b: {} }\nnetworks:\n  n-a: { name: n, machine: a }\n  n-b: { name: n, machine: b }\nservices:\n  x: { machine: b, network_mode: n-b }\n",
    );
    const out = expandInstance(named, alice);
    expect(out.networks.map((n) => [n.key, n.request.name, n.request.host])).toEqual([
      ["n-a", "n", "net101-alice-a"],
      ["n-b", "n", "net101-alice-b"],
    ]);
    expect(out.services[0]?.request.networkMode).toBe("n");
  });

  it("refuses one real name twice on a machine", () => {
    const parsed = parseTemplate("name: s\ntitle: S\nnetworks:\n  a: {}\n  b: { name: a }\n");
    expect(parsed.ok ? [] : parsed.errors).toContainEqual(
      expect.objectContaining({
        path: "networks.b.name",
        message: 'network name "a" is taken by "a" on machine host',
      }),
    );
  });
});

describe("expandSolution", () => {
  it("turns every step into a request on the instance's machines", () => {
    const t = template(`name: s
title: S
machines: { m1: {}, m2: {} }
networks:
  app: { machine: m2, ipam: { config: [{ subnet: 172.19.0.0/16 }] } }
services:
  web: { machine: m2, networks: [bridge] }
solution:
  - connect: { network: app, service: web, ipv4_address: 172.19.0.3, aliases: [w] }
  - disconnect: { network: bridge, service: web }
  - create_network: { name: extra, machine: m1 }
  - create_service: { name: probe, machine: m1, networks: [extra] }
  - publish: { service: web, ports: ["8081:80", 9090] }
  - delete_service: probe
  - delete_network: extra
`);
    expect(expandSolution(t, alice)).toEqual([
      {
        kind: "connect",
        machine: "net101-alice-m2",
        network: "app",
        request: { node: "web", ipv4Address: "172.19.0.3", aliases: ["w"] },
      },
      { kind: "disconnect", machine: "net101-alice-m2", network: "bridge", request: { node: "web" } },
      {
        kind: "createNetwork",
        machine: "net101-alice-m1",
        request: { name: "extra", host: "net101-alice-m1", driver: "bridge" },
      },
      {
        kind: "createNode",
        machine: "net101-alice-m1",
        request: { name: "probe", host: "net101-alice-m1", networks: [{ network: "extra" }] },
      },
      { kind: "publish", machine: "net101-alice-m2", node: "web", ports: ["8081:80", "9090"] },
      { kind: "deleteNode", machine: "net101-alice-m1", name: "probe" },
      { kind: "deleteNetwork", machine: "net101-alice-m1", name: "extra" },
    ]);
  });
});
