/**
 * A template for one student: the requests that build the instance (machines, then
 * networks, then services, `container:` targets before their sharers), and the solution as
 * requests, with the instance's machine names. Pure: the caller runs the requests with the
 * commands of @labnet/commands in the order given.
 */
import { DEFAULT_BRIDGE, instanceLabel } from "./names";
import type {
  ConnectNodeRequestShape,
  CreateMachineInputShape,
  CreateNetworkInputShape,
  CreateNodeInputShape,
  NetworkOptionsShape,
} from "./shapes";
import type { LabTemplate, TemplateNetwork, TemplateService } from "./template";

/** Who an instance is for: the lab's and the student's names (any text; folded into DNS labels). */
export interface InstanceNaming {
  lab: string;
  student: string;
}

export interface InstancePlan {
  /**
   * The LAN of the lab host the instance's machines plug into (`${lab}-${student}-lan`).
   * `subnet` is the template's view of it (`lan.subnet`; machine addresses are in it, 10.0.0.0/24
   * when the template names none): one instance per lab host could have it as is, so the
   * caller draws the real one from the LAN pool and keeps the addresses' host parts. Whatever
   * it draws must overlap none of `avoid` (the subnets of the template's networks and every
   * machine's `bridge`: an overlay's 10.0.0.0/24 cannot ride a LAN of the same subnet).
   */
  lan: { name: string; subnet?: string; avoid: string[] };
  machines: { key: string; request: CreateMachineInputShape }[];
  networks: { key: string; machineKey: string; request: CreateNetworkInputShape }[];
  services: { key: string; machineKey: string; request: CreateNodeInputShape }[];
}

export type SolutionStep =
  | { kind: "connect"; machine: string; network: string; request: ConnectNodeRequestShape }
  | { kind: "disconnect"; machine: string; network: string; request: { node: string } }
  | { kind: "createNetwork"; machine: string; request: CreateNetworkInputShape }
  | { kind: "deleteNetwork"; machine: string; name: string }
  | { kind: "createNode"; machine: string; request: CreateNodeInputShape }
  | { kind: "deleteNode"; machine: string; name: string }
  | { kind: "publish"; machine: string; node: string; ports: string[] };

/**
 * The machine name of a template machine in one instance: `${lab}-${student}-${key}` as a DNS
 * label of at most 63 characters (folded and given a hash suffix when it is not one).
 *
 * @example machineName({ lab: "net101", student: "alice" }, "bdc01") // "net101-alice-bdc01"
 */
export function machineName(naming: InstanceNaming, machineKey: string): string {
  return instanceLabel([naming.lab, naming.student, machineKey]);
}

/** The LAN of one instance: `${lab}-${student}-lan`, folded like {@link machineName}. */
export function lanName(naming: InstanceNaming): string {
  return instanceLabel([naming.lab, naming.student, "lan"]);
}

/** The machine an overlay network is created through: the first machine with a service on it. */
export function overlayCreator(template: LabTemplate, networkName: string): string {
  for (const service of Object.values(template.services)) {
    if (service.networkMode === networkName || service.networks.some((a) => a.network === networkName)) {
      return service.machine;
    }
  }
  return template.networks[networkName]?.machine ?? Object.keys(template.machines)[0] ?? "host";
}

function networkOptions(network: TemplateNetwork): NetworkOptionsShape | undefined {
  const options: NetworkOptionsShape = {};
  for (const [key, value] of Object.entries(network.driverOpts)) {
    if (key === "isolated") {
      options.isolated = value === "true";
    } else {
      // The remaining keys are the commands' own (Docker's names, parent, macvlan_mode).
      (options as Record<string, string>)[key] = value;
    }
  }
  return Object.keys(options).length > 0 ? options : undefined;
}

/** The `createNetwork` input of a template network, on machine `host`. */
export function networkRequest(network: TemplateNetwork, host: string): CreateNetworkInputShape {
  const options = networkOptions(network);
  const request: CreateNetworkInputShape = { name: network.name, host, driver: network.driver };
  if (network.internal) {
    request.internal = true;
  }
  if (!network.attachable) {
    request.attachable = false;
  }
  if (network.ipam.length > 0) {
    request.ipam = { configs: network.ipam.map((config) => ({ ...config })) };
  }
  if (options) {
    request.options = options;
  }
  if (Object.keys(network.labels).length > 0) {
    request.labels = { ...network.labels };
  }
  return request;
}

/** A network key → its real name (Compose's `name`); predefined and solution-made networks are their keys. */
type NetworkNames = (key: string) => string;

function networkNames(template: LabTemplate): NetworkNames {
  const names = new Map(Object.entries(template.networks).map(([key, network]) => [key, network.name]));
  return (key) => names.get(key) ?? key;
}

/** The `createNode` input of a template service, on machine `host`. */
export function nodeRequest(
  name: string,
  service: TemplateService,
  host: string,
  names: NetworkNames = (key) => key,
): CreateNodeInputShape {
  const request: CreateNodeInputShape = { name, host };
  if (service.networks.length > 0) {
    request.networks = service.networks.map((a) => ({
      network: names(a.network),
      ...(a.ipv4Address === undefined ? {} : { ipv4Address: a.ipv4Address }),
      ...(a.aliases === undefined ? {} : { aliases: [...a.aliases] }),
    }));
  } else {
    const mode = service.networkMode ?? DEFAULT_BRIDGE.name;
    const builtin = mode === "none" || mode === "host" || mode.startsWith("container:");
    request.networkMode = builtin ? mode : names(mode);
  }
  if (service.hostname !== undefined) {
    request.hostname = service.hostname;
  }
  if (service.dns.length > 0 || service.dnsSearch.length > 0 || service.dnsOptions.length > 0) {
    request.dns = {
      ...(service.dns.length > 0 ? { servers: [...service.dns] } : {}),
      ...(service.dnsSearch.length > 0 ? { search: [...service.dnsSearch] } : {}),
      ...(service.dnsOptions.length > 0 ? { options: [...service.dnsOptions] } : {}),
    };
  }
  const extraHosts = Object.entries(service.extraHosts).map(
    ([hostName, address]) => `${hostName}:${address}`,
  );
  if (extraHosts.length > 0) {
    request.extraHosts = extraHosts;
  }
  if (service.ports.length > 0) {
    request.ports = [...service.ports];
  }
  if (service.expose.length > 0) {
    request.exposedPorts = [...service.expose];
  }
  if (Object.keys(service.labels).length > 0) {
    request.labels = { ...service.labels };
  }
  return request;
}

/** Services with every `container:` target before its sharers, else in template order. */
export function orderServices(services: Record<string, TemplateService>): string[] {
  const order: string[] = [];
  const done = new Set<string>();
  const visit = (name: string, depth: number): void => {
    if (done.has(name) || depth > Object.keys(services).length) {
      return;
    }
    const mode = services[name]?.networkMode;
    if (mode?.startsWith("container:")) {
      visit(mode.slice("container:".length), depth + 1);
    }
    if (!done.has(name) && services[name] !== undefined) {
      done.add(name);
      order.push(name);
    }
  };
  for (const name of Object.keys(services)) {
    visit(name, 0);
  }
  return order;
}

function templateSubnets(template: LabTemplate): string[] {
  const subnets = new Set<string>([DEFAULT_BRIDGE.subnet]);
  for (const network of Object.values(template.networks)) {
    for (const config of network.ipam) {
      subnets.add(config.subnet);
    }
  }
  for (const step of template.solution) {
    if (step.kind === "createNetwork") {
      for (const config of step.network.ipam) {
        subnets.add(config.subnet);
      }
    }
  }
  return [...subnets];
}

/**
 * The requests that build one student's instance of a template, in an order that can run
 * one after the other: the machines (each on the instance's LAN, with the template's
 * hostname, so every student sees `bdc01`), the networks (an overlay through the first
 * machine with a service on it), the services. Networks and services keep the template's
 * names: they belong to the instance's machines.
 *
 * @example
 * expandInstance(template, { lab: "net101", student: "alice" }).machines[0]
 * // { key: "bdc01", request: { name: "net101-alice-bdc01", hostname: "bdc01", lan: "net101-alice-lan" } }
 */
export function expandInstance(template: LabTemplate, naming: InstanceNaming): InstancePlan {
  const lan = lanName(naming);
  const machines = Object.entries(template.machines).map(([key, machine]) => ({
    key,
    request: {
      name: machineName(naming, key),
      hostname: machine.hostname,
      lan,
      ...(machine.address === undefined ? {} : { address: machine.address }),
    },
  }));
  const networks = Object.entries(template.networks).map(([key, network]) => {
    const machineKey = network.driver === "overlay" ? overlayCreator(template, key) : network.machine;
    return { key, machineKey, request: networkRequest(network, machineName(naming, machineKey)) };
  });
  const names = networkNames(template);
  const services = orderServices(template.services).map((key) => {
    const service = template.services[key] as TemplateService;
    return {
      key,
      machineKey: service.machine,
      request: nodeRequest(key, service, machineName(naming, service.machine), names),
    };
  });
  return {
    lan: {
      name: lan,
      ...(template.lan.subnet === undefined ? {} : { subnet: template.lan.subnet }),
      avoid: templateSubnets(template),
    },
    machines,
    networks,
    services,
  };
}

/**
 * The solution of a template as requests for one instance, in order. Connect and
 * disconnect go through the service's machine (an overlay is listed on each of its
 * machines); an overlay created by the solution is created through the first machine of
 * the template unless its step names one.
 */
export function expandSolution(template: LabTemplate, naming: InstanceNaming): SolutionStep[] {
  const machineOfService = new Map(Object.entries(template.services).map(([name, s]) => [name, s.machine]));
  const machineOfNetwork = new Map(Object.entries(template.networks).map(([name, n]) => [name, n.machine]));
  const first = Object.keys(template.machines)[0] ?? "host";
  const nameOf = (key: string | undefined) => machineName(naming, key ?? first);
  const names = networkNames(template);
  return template.solution.map((step): SolutionStep => {
    switch (step.kind) {
      case "connect":
        return {
          kind: "connect",
          machine: nameOf(machineOfService.get(step.service)),
          network: names(step.network),
          request: {
            node: step.service,
            ...(step.ipv4Address === undefined ? {} : { ipv4Address: step.ipv4Address }),
            ...(step.aliases === undefined ? {} : { aliases: [...step.aliases] }),
          },
        };
      case "disconnect":
        return {
          kind: "disconnect",
          machine: nameOf(machineOfService.get(step.service)),
          network: names(step.network),
          request: { node: step.service },
        };
      case "createNetwork":
        machineOfNetwork.set(step.name, step.network.machine);
        return {
          kind: "createNetwork",
          machine: nameOf(step.network.machine),
          request: networkRequest(step.network, nameOf(step.network.machine)),
        };
      case "deleteNetwork":
        return {
          kind: "deleteNetwork",
          machine: nameOf(machineOfNetwork.get(step.name)),
          name: names(step.name),
        };
      case "createService":
        machineOfService.set(step.name, step.service.machine);
        return {
          kind: "createNode",
          machine: nameOf(step.service.machine),
          request: nodeRequest(step.name, step.service, nameOf(step.service.machine), names),
        };
      case "deleteService":
        return { kind: "deleteNode", machine: nameOf(machineOfService.get(step.name)), name: step.name };
      default:
        return {
          kind: "publish",
          machine: nameOf(machineOfService.get(step.service)),
          node: step.service,
          ports: [...step.ports],
        };
    }
  });
}
