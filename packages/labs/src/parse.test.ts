import { describe, expect, it } from "vitest";
import { parseTemplate } from "./parse";
import type { LabTemplate, TemplateError } from "./template";

function ok(text: string, format?: "yaml" | "json"): LabTemplate {
  const parsed = parseTemplate(text, format);
  if (!parsed.ok) {
    throw new Error(JSON.stringify(parsed.errors));
  }
  return parsed.template;
}

function errors(text: string, format?: "yaml" | "json"): TemplateError[] {
  const parsed = parseTemplate(text, format);
  if (parsed.ok) {
    throw new Error("expected errors");
  }
  return parsed.errors;
}

const HEAD = "name: t\ntitle: T\n";

describe("parseTemplate: normalization of Compose forms", () => {
  it("fills defaults: one machine named host, bridge mode, empty lists", () => {
    const template = ok(`${HEAD}services:\n  a:\n`);
    expect(template.machines).toEqual({ host: { hostname: "host" } });
    expect(template.services.a).toEqual({
      machine: "host",
      networks: [],
      ports: [],
      expose: [],
      dns: [],
      dnsSearch: [],
      dnsOptions: [],
      extraHosts: {},
      labels: {},
    });
    expect(template.solution).toEqual([]);
    expect(template.checks).toEqual([]);
  });

  it.each([
    ["a list", "networks: [web, app]", [{ network: "web" }, { network: "app" }]],
    [
      "a map with settings",
      "networks: { app: { ipv4_address: 172.19.0.5, aliases: [db] }, web: }",
      [{ network: "app", ipv4Address: "172.19.0.5", aliases: ["db"] }, { network: "web" }],
    ],
  ])("takes networks as %s, in order", (_, networks, want) => {
    const text = `${HEAD}networks:\n  web:\n  app:\n    ipam: { config: [{ subnet: 172.19.0.0/16 }] }\nservices:\n  s: { ${networks} }\n`;
    expect(ok(text).services.s?.networks).toEqual(want);
  });

  it("normalizes dns, dns_search, extra_hosts and ports", () => {
    const template = ok(
      `${HEAD}services:\n  s:\n    dns: 8.8.8.8\n    dns_search: corp.test\n    extra_hosts: ["db:10.0.0.5", "gw=host-gateway"]\n    ports: [8080, "8081:80", "53:53/udp"]\n    expose: [80]\n`,
    );
    expect(template.services.s).toMatchObject({
      dns: ["8.8.8.8"],
      dnsSearch: ["corp.test"],
      extraHosts: { db: "10.0.0.5", gw: "host-gateway" },
      ports: ["8080", "8081:80", "53:53/udp"],
      expose: ["80"],
    });
    const map = ok(`${HEAD}services:\n  s:\n    extra_hosts: { db: 10.0.0.5 }\n`);
    expect(map.services.s?.extraHosts).toEqual({ db: "10.0.0.5" });
  });

  it("normalizes networks: driver_opts as strings, ipam config, Compose's name", () => {
    const template = ok(
      `${HEAD}networks:\n  n:\n    name: real\n    driver_opts: { com.docker.network.driver.mtu: 1450, isolated: false }\n    ipam: { config: [{ subnet: 172.20.0.0/16, gateway: 172.20.0.254, ip_range: 172.20.5.0/24, aux_addresses: { r: 172.20.0.9 } }] }\n`,
    );
    expect(template.networks.n).toEqual({
      name: "real",
      machine: "host",
      driver: "bridge",
      driverOpts: { "com.docker.network.driver.mtu": "1450", isolated: "false" },
      internal: false,
      attachable: true,
      ipam: [
        {
          subnet: "172.20.0.0/16",
          gateway: "172.20.0.254",
          ipRange: "172.20.5.0/24",
          auxAddresses: { r: "172.20.0.9" },
        },
      ],
      labels: {},
    });
  });

  it("normalizes checks with their defaults", () => {
    const template = ok(
      `${HEAD}services:\n  a:\n    ports: ["8080:80"]\nchecks:\n  - { name: p, from: a, to: 172.17.0.1 }\n  - { name: r, from: machine:host, resolve: a.bridge }\n  - { name: o, published: { service: a, port: 80 } }\n`,
    );
    expect(template.checks).toEqual([
      {
        kind: "reach",
        name: "p",
        from: { kind: "service", service: "a" },
        to: "172.17.0.1",
        protocol: "icmp",
        expect: "reachable",
      },
      {
        kind: "resolve",
        name: "r",
        from: { kind: "machine", machine: "host" },
        resolve: "a.bridge",
        expect: "resolves",
      },
      {
        kind: "published",
        name: "o",
        from: { kind: "outside" },
        service: "a",
        port: 80,
        protocol: "tcp",
        expect: "reachable",
      },
    ]);
  });

  it("titles a template by its name when it has no title", () => {
    expect(ok("name: t\n").title).toBe("t");
  });

  it("reads JSON as well, with lines", () => {
    const template = ok(JSON.stringify({ name: "j", title: "J", networks: { web: {} } }));
    expect(Object.keys(template.networks)).toEqual(["web"]);
    const [error] = errors(
      '{\n  "name": "j",\n  "title": "J",\n  "services": { "s": { "networks": ["ap"] } }\n}',
      "json",
    );
    expect(error).toMatchObject({
      path: "services.s.networks[0]",
      message: 'unknown network "ap" (known: bridge)',
      line: 4,
    });
  });
});

describe("parseTemplate: errors with paths and lines", () => {
  it.each<[string, string, Partial<TemplateError>]>([
    [
      "an unknown network",
      `${HEAD}networks:\n  web: {}\n  app: {}\nservices:\n  web:\n    networks: [web, ap]\n`,
      {
        path: "services.web.networks[1]",
        message: 'unknown network "ap" (known: bridge, web, app)',
        line: 8,
      },
    ],
    [
      "an unknown key",
      `${HEAD}services:\n  s:\n    netwrks: [web]\n`,
      { path: "services.s.netwrks", message: 'unknown key "netwrks"', line: 5 },
    ],
    ["a bad template name", "name: Bad Name\ntitle: T\n", { path: "name", line: 1, column: 7 }],
    [
      "an address outside its subnet",
      `${HEAD}networks:\n  n: { ipam: { config: [{ subnet: 172.20.0.0/16 }] } }\nservices:\n  s:\n    networks:\n      n: { ipv4_address: 172.21.0.5 }\n`,
      { path: "services.s.networks.n.ipv4_address", line: 8 },
    ],
    [
      "a static address on a network without subnet",
      `${HEAD}networks:\n  n: {}\nservices:\n  s: { networks: { n: { ipv4_address: 172.20.0.5 } } }\n`,
      {
        path: "services.s.networks.n.ipv4_address",
        message: 'network "n" has no ipam.config subnet: a static address needs one',
      },
    ],
    [
      "an address taken twice",
      `${HEAD}services:\n  a: { networks: { bridge: { ipv4_address: 172.17.0.9 } } }\n  b: { networks: { bridge: { ipv4_address: 172.17.0.9 } } }\n`,
      {
        path: "services.b.networks.bridge.ipv4_address",
        message: '172.17.0.9 is taken on network "bridge" by a',
      },
    ],
    [
      "the gateway as an address",
      `${HEAD}services:\n  a: { networks: { bridge: { ipv4_address: 172.17.0.1 } } }\n`,
      { message: '172.17.0.1 is the gateway of network "bridge"' },
    ],
    [
      "a non-canonical subnet",
      `${HEAD}networks:\n  n: { ipam: { config: [{ subnet: 172.20.0.1/16 }] } }\n`,
      {
        path: "networks.n.ipam.config[0].subnet",
        message: "invalid subnet 172.20.0.1/16: it should be 172.20.0.0/16",
      },
    ],
    [
      "overlapping subnets on one machine",
      `${HEAD}networks:\n  a: { ipam: { config: [{ subnet: 172.20.0.0/16 }] } }\n  b: { ipam: { config: [{ subnet: 172.20.5.0/24 }] } }\n`,
      {
        path: "networks.b.ipam.config[0].subnet",
        message: 'subnet 172.20.5.0/24 overlaps 172.20.0.0/16 of network "a"',
      },
    ],
    [
      "a subnet over the default bridge",
      `${HEAD}networks:\n  a: { ipam: { config: [{ subnet: 172.17.5.0/24 }] } }\n`,
      { message: 'subnet 172.17.5.0/24 overlaps 172.17.0.0/16 of network "bridge"' },
    ],
    ["a predefined network declared", `${HEAD}networks:\n  bridge: {}\n`, { path: "networks.bridge" }],
    [
      "a missing machine among several",
      `${HEAD}machines: { a: {}, b: {} }\nservices:\n  s: {}\n`,
      { path: "services.s", message: 'service "s" needs a machine: the template has several (a, b)' },
    ],
    [
      "an unknown machine",
      `${HEAD}services:\n  s: { machine: bdc9 }\n`,
      { path: "services.s.machine", line: 4 },
    ],
    [
      "a network of another machine",
      `${HEAD}machines: { a: {}, b: {} }\nnetworks:\n  n: { machine: a }\nservices:\n  s: { machine: b, networks: [n] }\n`,
      { path: "services.s.networks[0]", message: 'network "n" is on machine a, not b' },
    ],
    [
      "container: of an unknown service",
      `${HEAD}services:\n  s: { network_mode: "container:nope" }\n`,
      { path: "services.s.network_mode", message: 'unknown service "nope"' },
    ],
    [
      "container: of another machine",
      `${HEAD}machines: { a: {}, b: {} }\nservices:\n  x: { machine: a }\n  s: { machine: b, network_mode: "container:x" }\n`,
      { message: 'service "x" is on machine a, not b' },
    ],
    [
      "a container: cycle",
      `${HEAD}services:\n  a: { network_mode: "container:b" }\n  b: { network_mode: "container:a" }\n`,
      { message: "container: modes form a cycle: a -> b -> a" },
    ],
    [
      "network_mode beside networks",
      `${HEAD}services:\n  s: { network_mode: none, networks: [bridge] }\n`,
      { path: "services.s.network_mode" },
    ],
    ["a bad port", `${HEAD}services:\n  s: { ports: ["80:99999"] }\n`, { path: "services.s.ports[0]" }],
    [
      "ports in none mode",
      `${HEAD}services:\n  s: { network_mode: none, ports: ["80"] }\n`,
      { path: "services.s.ports" },
    ],
    [
      "a bad extra host",
      `${HEAD}services:\n  s: { extra_hosts: ["db:999.1.1.1"] }\n`,
      { path: "services.s.extra_hosts[0]" },
    ],
    [
      "a duplicate check name",
      `${HEAD}services:\n  s: {}\nchecks:\n  - { name: c, from: s, to: 1.2.3.4 }\n  - { name: c, from: s, to: 1.2.3.5 }\n`,
      { path: "checks[1].name", message: 'check name "c" is taken by checks[0]', line: 7 },
    ],
    [
      "a check from nowhere",
      `${HEAD}checks:\n  - { name: c, from: ghost, to: 1.2.3.4 }\n`,
      { path: "checks[0].from" },
    ],
    [
      "a check to service.network with an unknown network",
      `${HEAD}services:\n  s: {}\nchecks:\n  - { name: c, from: s, to: s.nowhere }\n`,
      { path: "checks[0].to", message: 'unknown network "nowhere" in "s.nowhere" (known: bridge)' },
    ],
    [
      "a tcp check without port",
      `${HEAD}services:\n  s: {}\nchecks:\n  - { name: c, from: s, to: s, protocol: tcp }\n`,
      { path: "checks[0].port" },
    ],
    [
      "a check with two forms",
      `${HEAD}services:\n  s: {}\nchecks:\n  - { name: c, from: s, to: s, resolve: s }\n`,
      { path: "checks[0]", message: "a check has exactly one of to, resolve or published" },
    ],
    [
      "an unpublished port checked",
      `${HEAD}services:\n  s: {}\nchecks:\n  - { name: c, published: { service: s, port: 80 } }\n`,
      { path: "checks[0].published.port" },
    ],
    [
      "a solution step on a network that does not exist yet",
      `${HEAD}services:\n  s: {}\nsolution:\n  - connect: { network: extra, service: s }\n  - create_network: { name: extra }\n`,
      {
        path: "solution[0].connect.network",
        message: 'network "extra" does not exist at this point',
        line: 6,
      },
    ],
    [
      "a solution step with a bad field",
      `${HEAD}services:\n  s: {}\nsolution:\n  - connect: { network: bridge, service: "s s" }\n`,
      { path: "solution[0].connect.service" },
    ],
    [
      "an unknown step",
      `${HEAD}solution:\n  - reboot: everything\n`,
      {
        path: "solution[0]",
        message: expect.stringContaining("a step is one of connect") as unknown as string,
      },
    ],
    [
      "a connect of a service already on the network",
      `${HEAD}services:\n  s: {}\nsolution:\n  - connect: { network: bridge, service: s }\n`,
      { message: 'service "s" is on network "bridge" already' },
    ],
    [
      "deleting a network in use",
      `${HEAD}networks: { n: {} }\nservices:\n  s: { networks: [n] }\nsolution:\n  - delete_network: n\n`,
      {
        path: "solution[0].delete_network",
        message: 'network "n" still has services: s (disconnect them first)',
      },
    ],
    [
      "a machine address outside the LAN",
      `${HEAD}machines: { a: { address: 192.168.1.5 } }\n`,
      {
        path: "machines.a.address",
        message: "192.168.1.5 is not a usable address of the LAN 10.0.0.0/24 (the default; set lan.subnet)",
      },
    ],
    [
      "a network over the default LAN",
      `${HEAD}networks:\n  n: { ipam: { config: [{ subnet: 10.0.0.0/24 }] } }\n`,
      { path: "lan", message: expect.stringContaining("overlaps 10.0.0.0/24") as unknown as string },
    ],
    [
      "an option of another driver",
      `${HEAD}networks:\n  n: { driver_opts: { parent: eth0 } }\n`,
      { path: "networks.n.driver_opts.parent", message: "parent is an option of macvlan networks" },
    ],
    [
      "a VXLAN id on a bridge",
      `${HEAD}networks:\n  n: { driver_opts: { com.docker.network.driver.overlay.vxlanid_list: "257" } }\n`,
      { path: 'networks.n.driver_opts["com.docker.network.driver.overlay.vxlanid_list"]' },
    ],
    ["bad YAML", "name: [t\n", { path: "", line: 2 }],
    ["bad JSON", '{"name": }', { path: "" }],
  ])("refuses %s", (_, text, want) => {
    expect(errors(text)).toContainEqual(expect.objectContaining(want));
  });

  it("reports every problem at once, each with its line", () => {
    const found = errors(`${HEAD}services:\n  a: { networks: [nope] }\n  b: { machine: x }\n`);
    expect(found.map((e) => [e.path, e.line])).toEqual([
      ["services.a.networks[0]", 4],
      ["services.b.machine", 5],
    ]);
  });
});

describe("parseTemplate: hostile input is refused with a path", () => {
  it.each<[string, string, string]>([
    ["a name with a space", `${HEAD}services:\n  "web app": {}\n`, "services"],
    ["a name with a newline", `${HEAD}services:\n  "web\\napp": {}\n`, "services"],
    ["a name with ;", `${HEAD}networks:\n  "n;rm -rf": {}\n`, "networks"],
    ["a name with ..", `${HEAD}services:\n  s:\n    hostname: "a..b"\n`, "services.s.hostname"],
    [
      "a DNS name with ..",
      `${HEAD}services:\n  s: { dns_search: ["corp..test"] }\n`,
      "services.s.dns_search",
    ],
    ["a path in a name", `${HEAD}networks:\n  "../etc": {}\n`, "networks"],
    ["a very long name", `${HEAD}services:\n  ${"a".repeat(100)}: {}\n`, "services"],
    ["a very long title", `name: t\ntitle: ${"x".repeat(300)}\n`, "title"],
    ["a title with a newline", 'name: t\ntitle: "a\\nb"\n', "title"],
    [
      "a huge port",
      `${HEAD}checks:\n  - { name: c, from: outside, to: 1.2.3.4, protocol: tcp, port: 1e400 }\n`,
      "checks[0].port",
    ],
    [
      "a negative port",
      `${HEAD}checks:\n  - { name: c, from: outside, to: 1.2.3.4, protocol: tcp, port: -1 }\n`,
      "checks[0].port",
    ],
    ["__proto__", `${HEAD}services:\n  __proto__: { machine: x }\n`, "services.__proto__"],
    [
      "constructor deep down",
      `${HEAD}networks:\n  n: { labels: { constructor: x } }\n`,
      "networks.n.labels.constructor",
    ],
    ["a JSON __proto__", '{"name":"t","title":"T","__proto__":{"x":1}}', "__proto__"],
    [
      "an option in a parent name",
      `${HEAD}networks:\n  n: { driver: macvlan, driver_opts: { parent: "eth0; reboot" } }\n`,
      "networks.n.driver_opts.parent",
    ],
    [
      "a shell in a target",
      `${HEAD}services:\n  s: {}\nchecks:\n  - { name: c, from: s, to: "$(reboot)" }\n`,
      "checks[0].to",
    ],
    [
      "an option-like target",
      `${HEAD}services:\n  s: {}\nchecks:\n  - { name: c, from: s, to: "-f" }\n`,
      "checks[0].to",
    ],
    [
      "a number-like name",
      `${HEAD}services:\n  s: {}\nchecks:\n  - { name: c, from: s, to: "010.1" }\n`,
      "checks[0].to",
    ],
    ["an all-digit service", `${HEAD}services:\n  "123": {}\n`, "services"],
    ["a YAML tag", `${HEAD}description: !!binary aGVsbG8=\n`, "description"],
    ["a NUL escape in a label", `${HEAD}networks:\n  n: { labels: { a: "x\\0y" } }\n`, "networks.n.labels.a"],
    ["a JSON NUL escape", '{"name":"t","title":"T","description":"a\\u0000b"}', "description"],
    ["a lone surrogate", `${HEAD}services:\n  s: { image: "\\ud800" }\n`, "services.s.image"],
    [
      "an escape sequence in a key",
      `${HEAD}networks:\n  n: { labels: { "\\e[2J": x } }\n`,
      "networks.n.labels",
    ],
    [
      "a loopback subnet",
      `${HEAD}networks:\n  n: { ipam: { config: [{ subnet: 127.0.0.0/8 }] } }\n`,
      "networks.n.ipam.config[0].subnet",
    ],
    ["a multicast LAN", `${HEAD}lan: { subnet: 224.0.0.0/24 }\n`, "lan.subnet"],
    [
      "a 0/8 subnet",
      `${HEAD}networks:\n  n: { ipam: { config: [{ subnet: 0.0.0.0/8 }] } }\n`,
      "networks.n.ipam.config[0].subnet",
    ],
  ])("%s", (_, text, path) => {
    const found = errors(text);
    expect(found.length).toBeGreaterThan(0);
    expect(found.map((e) => e.path)).toContainEqual(expect.stringContaining(path));
  });

  it("refuses alias bombs and oversized text", () => {
    const bomb = `a: &a [x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c]\n${HEAD}`;
    expect(errors(bomb)[0]?.path).toBe("");
    expect(errors(`${HEAD}description: ${"x".repeat(600 * 1024)}\n`)[0]?.message).toMatch(/at most/);
  });

  it("lets the description and a pasted command span lines, nothing else", () => {
    expect(
      parseTemplate(`${HEAD}description: "line 1\\nline 2\\tx"\nservices:\n  s: { command: "a\\nb" }\n`),
    ).toMatchObject({
      ok: true,
    });
    expect(errors(`${HEAD}services:\n  s: { image: "a\\nb" }\n`).map((e) => e.message)).toEqual([
      "must not contain control characters (U+000A at index 1)",
    ]);
  });

  it("never passes a refused value on: the result has no template", () => {
    const parsed = parseTemplate(`${HEAD}services:\n  "a;b": {}\n`);
    expect(parsed).not.toHaveProperty("template");
  });
});
