import { describe, expect, it } from "vitest";
import { BUILTIN_TEMPLATES, builtinTemplate } from "./builtin";
import { planChecks, type ResolvedInstance } from "./checks";
import { expandInstance, expandSolution } from "./expand";
import { parseTemplate } from "./parse";

const NAMES = [
  "seed-000",
  "seed-001-ex1",
  "seed-001-ex2",
  "seed-001-ex3",
  "seed-002-macvlan",
  "seed-002-overlay",
  "seed-003",
  "seed-004",
];

describe("built-in templates", () => {
  it("are the course's exercises", () => {
    expect([...BUILTIN_TEMPLATES.keys()]).toEqual(NAMES);
    expect(builtinTemplate("nope")).toBeUndefined();
    expect(builtinTemplate("builtin:seed-001-ex2")?.name).toBe("seed-001-ex2");
  });

  it.each(NAMES)("%s parses, is named after its file, expands and plans its checks", (name) => {
    const parsed = parseTemplate(BUILTIN_TEMPLATES.get(name) ?? "");
    expect(parsed.ok ? [] : parsed.errors).toEqual([]);
    const template = builtinTemplate(name);
    if (!template) {
      throw new Error("missing");
    }
    expect(template.name).toBe(name);
    expect(template.checks.length).toBeGreaterThan(0);
    const plan = expandInstance(template, { lab: "net101", student: "alice" });
    expect(plan.machines.length).toBe(Object.keys(template.machines).length);
    expect(plan.services.length).toBe(Object.keys(template.services).length);
    for (const { request } of [...plan.networks, ...plan.services]) {
      expect(request.host).toMatch(/^net101-alice-/);
    }
    expect(
      expandSolution(template, { lab: "net101", student: "bob" }).every((s) =>
        s.machine.startsWith("net101-bob-"),
      ),
    ).toBe(true);
    // Nothing built yet: every check is planned, those that need the instance are skipped.
    const empty: ResolvedInstance = { services: {}, machines: {}, labHostAddress: "192.0.2.1" };
    expect(planChecks(template, { lab: "net101", student: "alice" }, empty)).toHaveLength(
      template.checks.length,
    );
  });

  it("follow the seeds' names and addresses", () => {
    const ex1 = builtinTemplate("seed-001-ex1");
    expect(ex1?.solution).toEqual([
      { kind: "connect", network: "bridge", service: "ex1", ipv4Address: "172.17.42.1" },
    ]);
    const ex2 = builtinTemplate("seed-001-ex2");
    expect(ex2?.checks[0]?.name).toBe("app_container reaches web_container.app");
    expect(ex2?.solution).toEqual([{ kind: "connect", network: "app", service: "web_container" }]);
    const ex3 = builtinTemplate("seed-001-ex3");
    expect(ex3?.networks.net_overlay).toMatchObject({
      driver: "overlay",
      driverOpts: { "com.docker.network.driver.overlay.vxlanid_list": "257" },
      ipam: [{ subnet: "10.0.0.0/24" }],
    });
    expect(ex3?.lan.subnet).toBe("192.168.56.0/24");
    const macvlan = expandInstance(builtinTemplate("seed-002-macvlan") ?? ({} as never), {
      lab: "l",
      student: "s",
    });
    expect(macvlan.networks.map((n) => [n.request.name, n.request.host, n.request.ipam?.configs[0]])).toEqual(
      [
        ["macvlan_1", "l-s-bdc01", { subnet: "100.0.0.0/24", gateway: "100.0.0.254" }],
        ["macvlan_1", "l-s-bdc02", { subnet: "100.0.0.0/24", gateway: "100.0.0.254" }],
      ],
    );
    const overlay = builtinTemplate("seed-002-overlay");
    expect(overlay?.networks.overlay?.ipam).toEqual([{ subnet: "172.16.0.0/24", gateway: "172.16.0.254" }]);
    const seed3 = builtinTemplate("seed-003");
    expect(seed3?.networks.MyDocker0?.ipam).toEqual([{ subnet: "172.16.0.0/16", gateway: "172.16.0.1" }]);
    const seed4 = builtinTemplate("seed-004");
    expect(Object.values(seed4?.services ?? {}).map((s) => s.networkMode)).toEqual([
      "bridge",
      "host",
      "container:web",
      "none",
    ]);
  });

  it("have a check that fails before the solution wherever there is a solution", () => {
    for (const name of NAMES) {
      const template = builtinTemplate(name);
      if (!template || template.solution.length === 0) {
        continue;
      }
      expect(
        template.checks.some((c) => c.expect === "reachable" || c.expect === "resolves"),
        name,
      ).toBe(true);
    }
  });
});
