import { describe, expect, it } from "vitest";
import { builtinTemplate } from "./builtin";
import { gradeCheck, gradeChecks, planChecks, type ResolvedInstance } from "./checks";
import type { ProbeResult } from "./probe";
import type { LabTemplate, TemplateCheck } from "./template";

const naming = { lab: "net101", student: "alice" };

function ex2(): LabTemplate {
  const template = builtinTemplate("seed-001-ex2");
  if (!template) {
    throw new Error("missing");
  }
  return template;
}

const before: ResolvedInstance = {
  services: {
    web_container: { netns: "ln-web", addresses: { web: "172.18.0.2" }, published: {} },
    app_container: { netns: "ln-app", addresses: { app: "172.19.0.2" }, published: {} },
  },
  machines: { host: { netns: "ln-m", lanAddress: "10.0.0.2" } },
  labHostAddress: "192.0.2.1",
};

describe("planChecks", () => {
  it("aims each check of seed 001 ex2 at the instance", () => {
    const plans = planChecks(ex2(), naming, before);
    expect(plans.map((p) => [p.checkName, p.probe])).toEqual([
      [
        "app_container reaches web_container.app",
        {
          id: "net101-alice.0",
          kind: "icmp",
          from: { netns: "ln-app" },
          target: "web_container.app",
          timeoutMs: 2000,
        },
      ],
      [
        "web_container.app resolves in app_container",
        {
          id: "net101-alice.1",
          kind: "resolve",
          from: { netns: "ln-app" },
          target: "web_container.app",
          timeoutMs: 2000,
        },
      ],
      [
        "web_container reaches app_container",
        {
          id: "net101-alice.2",
          kind: "icmp",
          from: { netns: "ln-web" },
          target: "172.19.0.2",
          timeoutMs: 2000,
        },
      ],
      [
        "app_container cannot reach web_container's address on web",
        {
          id: "net101-alice.3",
          kind: "icmp",
          from: { netns: "ln-app" },
          target: "172.18.0.2",
          timeoutMs: 2000,
        },
      ],
      [
        "app_container.web does not resolve in web_container",
        {
          id: "net101-alice.4",
          kind: "resolve",
          from: { netns: "ln-web" },
          target: "app_container.web",
          timeoutMs: 2000,
        },
      ],
    ]);
    expect(plans.every((p) => p.skip === undefined)).toBe(true);
  });

  it("starts listeners in the target's namespace for tcp/udp, and probes published ports on the lab host", () => {
    const template = builtinTemplate("seed-004") as LabTemplate;
    const resolved: ResolvedInstance = {
      services: {
        web: { netns: "ln-web", addresses: { bridge: "172.17.0.2" }, published: {} },
        container_mode: { netns: "ln-web", addresses: { bridge: "172.17.0.2" }, published: {} },
        none_mode: { netns: "ln-none", addresses: {}, published: {} },
      },
      machines: { host: { netns: "ln-m", lanAddress: "10.0.0.2" } },
      labHostAddress: "192.0.2.1",
    };
    const plans = planChecks(template, naming, resolved);
    expect(plans[1]?.probe.from).toEqual({ netns: "ln-m" });
    expect(plans[2]?.probe).toMatchObject({
      kind: "tcp",
      from: { netns: "ln-web" },
      target: "172.17.0.2",
      port: 80,
      listenIn: "ln-web",
    });
    expect(plans[4]).toMatchObject({ skip: "service none_mode has no address" });

    const seed0 = builtinTemplate("seed-000") as LabTemplate;
    const published = planChecks(seed0, naming, {
      services: {
        web: { netns: "ln-w", addresses: { bridge: "172.17.0.2" }, published: { "80/tcp": 40001 } },
      },
      machines: {},
      labHostAddress: "192.0.2.1",
    });
    const check = published.find((p) => p.checkName === "published port 8080 answers from outside");
    expect(check?.probe).toEqual({
      id: "net101-alice.3",
      kind: "tcp",
      from: { labHost: true },
      target: "192.0.2.1",
      port: 40001,
      listenIn: "ln-w",
      listenPort: 80,
      timeoutMs: 2000,
    });
    // Only web is resolved here: every probe from or to another service is skipped.
    expect(published.filter((p) => p.skip !== undefined).map((p) => p.skip)).toEqual([
      "service centos1 does not exist",
      "service centos1 does not exist",
      "service centos2 does not exist",
      "service centos1 does not exist",
    ]);
    const unpublished = planChecks(seed0, naming, {
      services: { web: { netns: "ln-w", addresses: { bridge: "172.17.0.2" }, published: {} } },
      machines: {},
      labHostAddress: "192.0.2.1",
    });
    expect(unpublished[3]?.skip).toBe("container port 80/tcp of web is not published");
  });
});

describe("gradeCheck", () => {
  const template = ex2();
  const plans = planChecks(template, naming, before);
  const result = (id: string, ok: boolean, extra: Partial<ProbeResult> = {}): ProbeResult => ({
    id,
    ok,
    command: "ping -c 1 -W 2 web_container.app",
    output: ok ? "1 received" : "bad address",
    ms: 12.4,
    ...extra,
  });
  const at = (i: number) => [plans[i], template.checks[i]] as const;

  it.each<[number, ProbeResult | undefined, boolean, string]>([
    [0, result("net101-alice.0", false), false, "not reached"],
    [0, result("net101-alice.0", true), true, "reached in 12 ms"],
    [1, result("net101-alice.1", true, { address: "172.19.0.3" }), true, "resolves to 172.19.0.3"],
    [1, result("net101-alice.1", false), false, "does not resolve"],
    [3, result("net101-alice.3", false), true, "not reached"],
    [3, result("net101-alice.3", true), false, "reached in 12 ms"],
    [4, result("net101-alice.4", false), true, "does not resolve"],
    [0, undefined, false, "no answer from the probe"],
    [0, result("someone-else.0", true), false, "no answer from the probe"],
  ])("check %i with %j → passed %s (%s)", (i, probeResult, passed, observed) => {
    const [plan, check] = at(i);
    const outcome = gradeCheck(plan as (typeof plans)[number], check as TemplateCheck, probeResult);
    expect(outcome).toMatchObject({ name: check?.name, passed, observed });
    expect(outcome.evidence).toEqual(
      probeResult && observed !== "no answer from the probe"
        ? { command: probeResult.command, output: probeResult.output, ms: probeResult.ms }
        : undefined,
    );
  });

  it("says what was expected", () => {
    const outcomes = gradeChecks(template, plans, []);
    expect(outcomes.map((o) => o.expected)).toEqual([
      "app_container reaches web_container.app by ping",
      "web_container.app resolves in app_container",
      "web_container reaches app_container by ping",
      "app_container cannot reach web_container by ping",
      "app_container.web does not resolve in web_container",
    ]);
    expect(outcomes.every((o) => !o.passed)).toBe(true);
  });

  it("checks the address a name must resolve to", () => {
    const check: TemplateCheck = {
      kind: "resolve",
      name: "r",
      from: { kind: "service", service: "app_container" },
      resolve: "web_container.app",
      expect: "resolves",
      address: "172.19.0.3",
    };
    const plan = {
      checkName: "r",
      probe: {
        id: "x",
        kind: "resolve" as const,
        from: { netns: "n" },
        target: "web_container.app",
        timeoutMs: 2000,
      },
    };
    expect(gradeCheck(plan, check, result("x", true, { address: "172.19.0.9" })).passed).toBe(false);
    expect(gradeCheck(plan, check, result("x", true, { address: "172.19.0.3" })).passed).toBe(true);
  });

  it("grades a skipped probe as not reached", () => {
    const skipped = { ...(plans[0] as (typeof plans)[number]), skip: "service app_container does not exist" };
    expect(gradeCheck(skipped, template.checks[0] as TemplateCheck, undefined)).toEqual({
      name: "app_container reaches web_container.app",
      passed: false,
      expected: "app_container reaches web_container.app by ping",
      observed: "service app_container does not exist",
      evidence: undefined,
    });
  });
});
