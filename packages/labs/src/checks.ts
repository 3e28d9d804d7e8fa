/**
 * Checks → probes for one instance (`planChecks`) and probe results → graded outcomes
 * (`gradeCheck`). Pure: the executor runs the probes.
 */
import { isIpv4 } from "@labnet/ipam";
import type { InstanceNaming } from "./expand";
import { instanceLabel } from "./names";
import type { Probe, ProbeResult } from "./probe";
import type { CheckOrigin, LabTemplate, TemplateCheck } from "./template";

/** A probe default: ping -W 2, a connect or a lookup of 2 s. */
export const DEFAULT_PROBE_TIMEOUT_MS = 2000;

/** A service of a built instance, as the records show it. */
export interface ResolvedService {
  /** The netns of its sandbox (for `container:` services, the owner's). */
  netns: string;
  /** Network name → its IPv4 address there, in attach order (eth0 first). */
  addresses: Record<string, string>;
  /** Published container port (`80/tcp`) → the external port on the lab host. */
  published: Record<string, number>;
}

/** A machine of a built instance. */
export interface ResolvedMachine {
  /** The machine's own netns. */
  netns: string;
  /** Its `eth0` address on the instance's LAN. */
  lanAddress: string;
}

/** What an instance is made of, by template key, at the time the checks run. */
export interface ResolvedInstance {
  services: Record<string, ResolvedService>;
  machines: Record<string, ResolvedMachine>;
  /** Where the lab host's outside world reaches its external ports. */
  labHostAddress: string;
}

export interface ProbePlan {
  checkName: string;
  probe: Probe;
  /**
   * Set when the probe cannot be aimed (its service does not exist or has no address yet,
   * a port is not published): the executor does not run it, and {@link gradeCheck} grades
   * the check as not reached / not resolved with this as what was observed.
   */
  skip?: string;
}

export interface CheckOutcome {
  name: string;
  passed: boolean;
  expected: string;
  observed: string;
  evidence: { command: string; output: string; ms: number } | undefined;
}

/** The namespace a probe starts in, or why there is none. */
function originOf(
  template: LabTemplate,
  origin: CheckOrigin,
  resolved: ResolvedInstance,
): { from: Probe["from"] } | { skip: string } {
  if (origin.kind === "outside") {
    return { from: { labHost: true } };
  }
  if (origin.kind === "machine") {
    const machine = resolved.machines[origin.machine];
    return machine ? { from: { netns: machine.netns } } : { skip: `machine ${origin.machine} is not built` };
  }
  const owner = ownerOf(template, origin.service);
  const service = resolved.services[owner] ?? resolved.services[origin.service];
  if (service) {
    return { from: { netns: service.netns } };
  }
  const machine = hostModeMachine(template, origin.service, resolved);
  return machine ? { from: { netns: machine.netns } } : { skip: `service ${origin.service} does not exist` };
}

/** The service whose namespace `name` lives in (`container:` chains followed). */
function ownerOf(template: LabTemplate, name: string): string {
  let current = name;
  for (let i = 0; i <= Object.keys(template.services).length; i++) {
    const mode = template.services[current]?.networkMode;
    if (!mode?.startsWith("container:")) {
      return current;
    }
    current = mode.slice("container:".length);
  }
  return current;
}

/** A `host`-mode service lives in its machine's namespace. */
function hostModeMachine(
  template: LabTemplate,
  name: string,
  resolved: ResolvedInstance,
): ResolvedMachine | undefined {
  const service = template.services[ownerOf(template, name)];
  return service?.networkMode === "host" ? resolved.machines[service.machine] : undefined;
}

/** A service's first address and its namespace. */
function serviceTarget(
  template: LabTemplate,
  name: string,
  resolved: ResolvedInstance,
): { address: string; netns: string } | { skip: string } {
  const machine = hostModeMachine(template, name, resolved);
  if (machine) {
    return { address: machine.lanAddress, netns: machine.netns };
  }
  const service = resolved.services[ownerOf(template, name)] ?? resolved.services[name];
  if (!service) {
    return { skip: `service ${name} does not exist` };
  }
  const address = Object.values(service.addresses)[0];
  return address === undefined
    ? { skip: `service ${name} has no address` }
    : { address, netns: service.netns };
}

/** The namespace that holds `address`, when it is one of the instance's. */
function holderOf(address: string, resolved: ResolvedInstance): string | undefined {
  for (const service of Object.values(resolved.services)) {
    if (Object.values(service.addresses).includes(address)) {
      return service.netns;
    }
  }
  for (const machine of Object.values(resolved.machines)) {
    if (machine.lanAddress === address) {
      return machine.netns;
    }
  }
  return undefined;
}

function knownService(template: LabTemplate, name: string): boolean {
  return (
    template.services[name] !== undefined ||
    template.solution.some((step) => step.kind === "createService" && step.name === name)
  );
}

/** Where a reach check goes: an address or a name, and the namespace to listen in. */
function reachTarget(
  template: LabTemplate,
  to: string,
  resolved: ResolvedInstance,
): { target: string; listenIn?: string } | { skip: string } {
  if (isIpv4(to)) {
    const listenIn = holderOf(to, resolved);
    return listenIn === undefined ? { target: to } : { target: to, listenIn };
  }
  if (knownService(template, to)) {
    const found = serviceTarget(template, to, resolved);
    return "skip" in found ? found : { target: found.address, listenIn: found.netns };
  }
  // `service.network` (Docker's name of a node on a network) or any other name: resolved in `from`.
  const dot = to.indexOf(".");
  const service = dot > 0 ? to.slice(0, dot) : undefined;
  if (service !== undefined && knownService(template, service)) {
    const found = serviceTarget(template, service, resolved);
    return "skip" in found ? { target: to } : { target: to, listenIn: found.netns };
  }
  return { target: to };
}

function probeId(naming: InstanceNaming, index: number): string {
  return `${instanceLabel([naming.lab, naming.student])}.${index}`;
}

/**
 * One probe plan per check of the template, in the template's order, aimed at the
 * instance as it is now (`resolved`).
 *
 * @example
 * planChecks(template, { lab: "net101", student: "alice" }, resolved)[0]
 * // { checkName: "app_container reaches web_container.app",
 * //   probe: { id: "net101-alice.0", kind: "icmp", from: { netns: "ln..." }, target: "web_container.app", timeoutMs: 2000 } }
 */
export function planChecks(
  template: LabTemplate,
  naming: InstanceNaming,
  resolved: ResolvedInstance,
): ProbePlan[] {
  return template.checks.map((check, index) => {
    const id = probeId(naming, index);
    const timeoutMs = check.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
    const placeholder = (kind: Probe["kind"], target: string, skip: string): ProbePlan => ({
      checkName: check.name,
      probe: { id, kind, from: { labHost: true }, target, timeoutMs },
      skip,
    });
    if (check.kind === "published") {
      const owner = ownerOf(template, check.service);
      const service = resolved.services[owner] ?? resolved.services[check.service];
      const key = `${check.port}/${check.protocol}`;
      const external = service?.published[key];
      if (!service || external === undefined) {
        return placeholder(
          check.protocol,
          resolved.labHostAddress,
          service
            ? `container port ${key} of ${check.service} is not published`
            : `service ${check.service} does not exist`,
        );
      }
      return {
        checkName: check.name,
        probe: {
          id,
          kind: check.protocol,
          from: { labHost: true },
          target: resolved.labHostAddress,
          port: external,
          listenIn: service.netns,
          listenPort: check.port,
          timeoutMs,
        },
      };
    }
    const origin = originOf(template, check.from, resolved);
    if (check.kind === "resolve") {
      if ("skip" in origin) {
        return placeholder("resolve", check.resolve, origin.skip);
      }
      return {
        checkName: check.name,
        probe: { id, kind: "resolve", from: origin.from, target: check.resolve, timeoutMs },
      };
    }
    if ("skip" in origin) {
      return placeholder(check.protocol, check.to, origin.skip);
    }
    const target = reachTarget(template, check.to, resolved);
    if ("skip" in target) {
      return {
        checkName: check.name,
        probe: { id, kind: check.protocol, from: origin.from, target: check.to, timeoutMs },
        skip: target.skip,
      };
    }
    const probe: Probe = { id, kind: check.protocol, from: origin.from, target: target.target, timeoutMs };
    if (check.protocol !== "icmp") {
      probe.port = check.port;
      if (target.listenIn !== undefined) {
        probe.listenIn = target.listenIn;
      }
    }
    return { checkName: check.name, probe };
  });
}

function describeOrigin(origin: CheckOrigin): string {
  switch (origin.kind) {
    case "outside":
      return "the outside world";
    case "machine":
      return `machine ${origin.machine}`;
    case "service":
      return origin.service;
  }
}

/** What a check expects, in words. */
export function describeExpectation(check: TemplateCheck): string {
  const from = describeOrigin(check.from);
  if (check.kind === "resolve") {
    return check.expect === "resolves"
      ? `${check.resolve} resolves in ${from}${check.address === undefined ? "" : ` to ${check.address}`}`
      : `${check.resolve} does not resolve in ${from}`;
  }
  if (check.kind === "published") {
    const what = `published port ${check.port}/${check.protocol} of ${check.service}`;
    return check.expect === "reachable"
      ? `${what} answers from outside`
      : `${what} does not answer from outside`;
  }
  const how = check.protocol === "icmp" ? "by ping" : `on ${check.protocol} port ${check.port}`;
  return check.expect === "reachable"
    ? `${from} reaches ${check.to} ${how}`
    : `${from} cannot reach ${check.to} ${how}`;
}

/**
 * Grades one check from its probe's result. A missing result (or one for another probe)
 * fails with "no answer from the probe"; a skipped probe counts as not reached / not
 * resolved, so `unreachable` and `does_not_resolve` checks pass on it.
 */
export function gradeCheck(
  plan: ProbePlan,
  check: TemplateCheck,
  result: ProbeResult | undefined,
): CheckOutcome {
  const expected = describeExpectation(check);
  const positive = check.expect === "reachable" || check.expect === "resolves";
  if (plan.skip !== undefined) {
    return { name: check.name, passed: !positive, expected, observed: plan.skip, evidence: undefined };
  }
  if (!result || result.id !== plan.probe.id) {
    return {
      name: check.name,
      passed: false,
      expected,
      observed: "no answer from the probe",
      evidence: undefined,
    };
  }
  const evidence = { command: result.command, output: result.output, ms: result.ms };
  if (check.kind === "resolve") {
    const observed = result.ok ? `resolves to ${result.address ?? "an address"}` : "does not resolve";
    const passed =
      check.expect === "resolves"
        ? result.ok && (check.address === undefined || result.address === check.address)
        : !result.ok;
    return { name: check.name, passed, expected, observed, evidence };
  }
  const observed = result.ok ? `reached in ${Math.round(result.ms)} ms` : "not reached";
  return { name: check.name, passed: result.ok === positive, expected, observed, evidence };
}

/**
 * Grades every check of a template from a run's results (matched by probe id).
 */
export function gradeChecks(
  template: LabTemplate,
  plans: ProbePlan[],
  results: readonly ProbeResult[],
): CheckOutcome[] {
  const byId = new Map(results.map((result) => [result.id, result]));
  return plans.map((plan, i) => {
    const check = template.checks[i] as TemplateCheck;
    return gradeCheck(plan, check, byId.get(plan.probe.id));
  });
}
