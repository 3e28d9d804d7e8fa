/**
 * Raw (checked) template → LabTemplate: defaults filled in, Compose's forms normalized.
 * Runs only on templates validate.ts accepted, so it does not check again.
 */
import { DEFAULT_MACHINE_KEY } from "./names";
import {
  type RawIpamConfig,
  type RawNetwork,
  type RawService,
  type RawStep,
  type RawTemplate,
  STUDENT_ACTIONS,
} from "./schema";
import type {
  CheckOrigin,
  LabTemplate,
  TemplateAttachment,
  TemplateCheck,
  TemplateIpamConfig,
  TemplateMachine,
  TemplateNetwork,
  TemplateService,
  TemplateStep,
  TemplateStudents,
} from "./template";

/** The machines of a template: its own, or the one default machine. */
export function machinesOf(raw: RawTemplate): Record<string, TemplateMachine> {
  const machines: Record<string, TemplateMachine> = {};
  const given = raw.machines ?? { [DEFAULT_MACHINE_KEY]: null };
  for (const [key, machine] of Object.entries(given)) {
    machines[key] = {
      hostname: machine?.hostname ?? key,
      ...(machine?.address === undefined ? {} : { address: machine.address }),
    };
  }
  return machines;
}

/** A service's attachments in order, with the path of each in the raw template. */
export function attachmentsOf(
  service: RawService | null,
): { attachment: TemplateAttachment; key: PropertyKey }[] {
  const networks = service?.networks;
  if (networks === undefined) {
    return [];
  }
  if (Array.isArray(networks)) {
    return networks.map((network, i) => ({ attachment: { network }, key: i }));
  }
  return Object.entries(networks).map(([network, settings]) => ({
    attachment: {
      network,
      ...(settings?.ipv4_address === undefined ? {} : { ipv4Address: settings.ipv4_address }),
      ...(settings?.aliases === undefined ? {} : { aliases: settings.aliases }),
    },
    key: network,
  }));
}

/** `extra_hosts` entries as [name, address] with their path key; `undefined` address when malformed. */
export function extraHostsOf(
  service: RawService | null,
): { name: string; address: string; key: PropertyKey }[] {
  const hosts = service?.extra_hosts;
  if (hosts === undefined) {
    return [];
  }
  if (Array.isArray(hosts)) {
    return hosts.map((entry, i) => {
      // Compose takes `name:address` and `name=address`; the address may not contain either.
      const at = entry.search(/[:=]/);
      return { name: entry.slice(0, at), address: entry.slice(at + 1), key: i };
    });
  }
  return Object.entries(hosts).map(([name, address]) => ({ name, address, key: name }));
}

function asList<T>(value: T | T[] | undefined): T[] {
  if (value === undefined) {
    return [];
  }
  return Array.isArray(value) ? value : [value];
}

/** The machine a network or service is on: its own, else the only one. */
export function defaultMachine(raw: RawTemplate): string | undefined {
  const keys = Object.keys(raw.machines ?? { [DEFAULT_MACHINE_KEY]: null });
  return keys.length === 1 ? keys[0] : undefined;
}

function normalizeIpam(config: RawIpamConfig): TemplateIpamConfig {
  return {
    subnet: config.subnet,
    ...(config.gateway === undefined ? {} : { gateway: config.gateway }),
    ...(config.ip_range === undefined ? {} : { ipRange: config.ip_range }),
    ...(config.aux_addresses === undefined ? {} : { auxAddresses: { ...config.aux_addresses } }),
  };
}

export function normalizeNetwork(
  raw: RawTemplate,
  key: string,
  network: (Omit<RawNetwork, "name"> & { name?: string | undefined }) | null,
  fallbackMachine: string,
): TemplateNetwork {
  const driverOpts: Record<string, string> = {};
  for (const [key, value] of Object.entries(network?.driver_opts ?? {})) {
    if (value !== undefined) {
      driverOpts[key] = String(value);
    }
  }
  return {
    name: network?.name ?? key,
    machine: network?.machine ?? defaultMachine(raw) ?? fallbackMachine,
    driver: network?.driver ?? "bridge",
    driverOpts,
    internal: network?.internal ?? false,
    attachable: network?.attachable ?? true,
    ipam: (network?.ipam?.config ?? []).map(normalizeIpam),
    labels: { ...(network?.labels ?? {}) },
  };
}

export function normalizeService(
  raw: RawTemplate,
  service: RawService | null,
  fallbackMachine: string,
): TemplateService {
  const extraHosts: Record<string, string> = {};
  for (const { name, address } of extraHostsOf(service)) {
    extraHosts[name] = address;
  }
  return {
    machine: service?.machine ?? defaultMachine(raw) ?? fallbackMachine,
    ...(service?.network_mode === undefined ? {} : { networkMode: service.network_mode }),
    networks: attachmentsOf(service).map(({ attachment }) => attachment),
    ports: (service?.ports ?? []).map(String),
    expose: (service?.expose ?? []).map(String),
    ...(service?.hostname === undefined ? {} : { hostname: service.hostname }),
    dns: asList(service?.dns),
    dnsSearch: asList(service?.dns_search),
    dnsOptions: [...(service?.dns_opt ?? [])],
    extraHosts,
    labels: { ...(service?.labels ?? {}) },
  };
}

/** The first machine of the template (where things without a machine land when the template names several). */
function firstMachine(raw: RawTemplate): string {
  return Object.keys(machinesOf(raw))[0] ?? DEFAULT_MACHINE_KEY;
}

function normalizeStep(raw: RawTemplate, step: RawStep): TemplateStep {
  const fallback = firstMachine(raw);
  if ("connect" in step) {
    const { network, service, ipv4_address, aliases } = step.connect;
    return {
      kind: "connect",
      network,
      service,
      ...(ipv4_address === undefined ? {} : { ipv4Address: ipv4_address }),
      ...(aliases === undefined ? {} : { aliases }),
    };
  }
  if ("disconnect" in step) {
    return { kind: "disconnect", network: step.disconnect.network, service: step.disconnect.service };
  }
  if ("create_network" in step) {
    const { name, ...network } = step.create_network;
    return { kind: "createNetwork", name, network: normalizeNetwork(raw, name, network, fallback) };
  }
  if ("delete_network" in step) {
    return { kind: "deleteNetwork", name: step.delete_network };
  }
  if ("create_service" in step) {
    const { name, ...service } = step.create_service;
    return { kind: "createService", name, service: normalizeService(raw, service, fallback) };
  }
  if ("delete_service" in step) {
    return { kind: "deleteService", name: step.delete_service };
  }
  return { kind: "publish", service: step.publish.service, ports: step.publish.ports.map(String) };
}

export function originOf(from: string | undefined): CheckOrigin {
  if (from === undefined || from === "outside") {
    return { kind: "outside" };
  }
  if (from.startsWith("machine:")) {
    return { kind: "machine", machine: from.slice("machine:".length) };
  }
  return { kind: "service", service: from };
}

function normalizeCheck(check: NonNullable<RawTemplate["checks"]>[number]): TemplateCheck {
  const timeout = check.timeout_ms === undefined ? {} : { timeoutMs: check.timeout_ms };
  const from = originOf(check.from);
  if (check.published !== undefined) {
    return {
      kind: "published",
      name: check.name,
      from,
      service: check.published.service,
      port: check.published.port,
      protocol: check.published.protocol ?? "tcp",
      expect: check.expect === "unreachable" ? "unreachable" : "reachable",
      ...timeout,
    };
  }
  if (check.resolve !== undefined) {
    return {
      kind: "resolve",
      name: check.name,
      from,
      resolve: check.resolve,
      expect: check.expect === "does_not_resolve" ? "does_not_resolve" : "resolves",
      ...(check.address === undefined ? {} : { address: check.address }),
      ...timeout,
    };
  }
  return {
    kind: "reach",
    name: check.name,
    from,
    to: check.to ?? "",
    protocol: check.protocol ?? "icmp",
    ...(check.port === undefined ? {} : { port: check.port }),
    expect: check.expect === "unreachable" ? "unreachable" : "reachable",
    ...timeout,
  };
}

export function normalizeTemplate(raw: RawTemplate): LabTemplate {
  const fallback = firstMachine(raw);
  const networks: Record<string, TemplateNetwork> = {};
  for (const [name, network] of Object.entries(raw.networks ?? {})) {
    networks[name] = normalizeNetwork(raw, name, network, fallback);
  }
  const services: Record<string, TemplateService> = {};
  for (const [name, service] of Object.entries(raw.services ?? {})) {
    services[name] = normalizeService(raw, service, fallback);
  }
  const machines = machinesOf(raw);
  return {
    name: raw.name,
    title: raw.title ?? raw.name,
    ...(raw.description === undefined ? {} : { description: raw.description }),
    machines,
    lan: raw.lan?.subnet === undefined ? {} : { subnet: raw.lan.subnet },
    networks,
    services,
    solution: (raw.solution ?? []).map((step) => normalizeStep(raw, step)),
    checks: (raw.checks ?? []).map(normalizeCheck),
    students: studentsOf({ machines, networks, services }, raw.students),
  };
}

/** A student may add this many of each per machine beyond what the template builds, unless it says otherwise. */
export const DEFAULT_STUDENT_HEADROOM = { networks: 10, nodes: 10, ports: 20 } as const;

/**
 * What students may do: by default everything an exercise of the course does (connect,
 * disconnect, create and remove networks and nodes, publish ports) on their own machines,
 * with room for a few more of each than the template builds. Also what a lab stored before
 * templates had `students` is given.
 */
export function studentsOf(
  template: Pick<LabTemplate, "machines" | "networks" | "services">,
  declared?: RawTemplate["students"],
): TemplateStudents {
  const machines = Math.max(1, Object.keys(template.machines).length);
  // Every machine has its predefined networks; they are not counted.
  const services = Object.values(template.services);
  const built = {
    networks: Object.keys(template.networks).length,
    nodes: services.length,
    ports: services.reduce((n, s) => n + s.ports.length, 0),
  };
  const limits = declared?.limits;
  return {
    may: [...(declared?.may ?? STUDENT_ACTIONS)],
    limits: {
      networks: limits?.networks ?? built.networks + DEFAULT_STUDENT_HEADROOM.networks * machines,
      nodes: limits?.nodes ?? built.nodes + DEFAULT_STUDENT_HEADROOM.nodes * machines,
      ports: limits?.ports ?? built.ports + DEFAULT_STUDENT_HEADROOM.ports * machines,
    },
  };
}
