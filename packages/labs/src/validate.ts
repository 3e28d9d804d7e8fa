/**
 * Semantic checks of a template the schema accepted: every reference resolves (networks,
 * services, machines, `container:` targets), networks are on their services' machines,
 * addresses lie in their subnets and are not taken twice, subnets of one machine do not
 * overlap, the solution's steps make sense in order, checks name what exists. Each problem
 * carries its path in the raw template.
 */
import {
  cidrContains,
  cidrContainsCidr,
  cidrsOverlap,
  isIpv4,
  isUsable,
  parseCidr,
  parseIpv4,
} from "@labnet/ipam";
import { parseExposedPort, parsePortSpec } from "@labnet/netplan";
import {
  DEFAULT_BRIDGE,
  DEFAULT_MACHINE_KEY,
  DEFAULT_TEMPLATE_LAN,
  isDnsName,
  PREDEFINED_NETWORKS,
  quote,
} from "./names";
import { attachmentsOf, extraHostsOf, machinesOf } from "./normalize";
import { LIMITS, type RawNetwork, type RawService, type RawTemplate } from "./schema";

export interface PathedError {
  path: PropertyKey[];
  message: string;
}

const MACVLAN_MODES = ["bridge", "private", "vepa", "passthru"];
const IF_NAME = /^[a-zA-Z0-9_.-]{1,15}$/;

/** A network as the checks see it while they walk the template and its solution. */
interface NetworkState {
  /** The real name (Compose's `name`, else the key). */
  realName: string;
  machine: string | undefined;
  driver: string;
  subnets: { subnet: string; gateway?: string }[];
  /** Where it was declared. */
  path: PropertyKey[];
}

interface ServiceState {
  machine: string;
  mode: string | undefined;
  /** The networks it is on now. */
  networks: Set<string>;
  /** Where it was declared. */
  path: PropertyKey[];
}

class Checker {
  readonly errors: PathedError[] = [];
  readonly machines: string[];
  readonly networks = new Map<string, NetworkState>();
  readonly services = new Map<string, ServiceState>();
  /** Addresses taken per network: address → what holds it. */
  readonly taken = new Map<string, Map<string, string>>();
  /** Every service that exists at some point (checks may name those created by the solution). */
  readonly everService = new Set<string>();
  /** Every network that exists at some point. */
  readonly everNetwork = new Set<string>();
  /** Published container ports (`80/tcp`) per service, over the whole solution. */
  readonly published = new Map<string, Set<string>>();
  /** Every subnet of the template, for the LAN to avoid. */
  readonly subnets: { subnet: string; path: PropertyKey[] }[] = [];

  constructor(readonly raw: RawTemplate) {
    this.machines = Object.keys(machinesOf(raw));
    this.networks.set(DEFAULT_BRIDGE.name, {
      realName: DEFAULT_BRIDGE.name,
      machine: undefined,
      driver: "bridge",
      subnets: [{ subnet: DEFAULT_BRIDGE.subnet, gateway: DEFAULT_BRIDGE.gateway }],
      path: [],
    });
    this.everNetwork.add(DEFAULT_BRIDGE.name);
  }

  error(path: PropertyKey[], message: string): void {
    this.errors.push({ path, message });
  }

  /** The machine of a network or service: the one named, else the only one. */
  machineOf(given: string | undefined, path: PropertyKey[], what: string): string | undefined {
    if (given !== undefined) {
      if (!this.machines.includes(given)) {
        this.error([...path, "machine"], `unknown machine ${quote(given)}${this.known(this.machines)}`);
        return undefined;
      }
      return given;
    }
    if (this.machines.length === 1) {
      return this.machines[0];
    }
    this.error(path, `${what} needs a machine: the template has several (${this.machines.join(", ")})`);
    return undefined;
  }

  known(names: Iterable<string>): string {
    const list = [...names];
    if (list.length === 0) {
      return "";
    }
    const shown = list.slice(0, 8).join(", ");
    return ` (known: ${shown}${list.length > 8 ? ", ..." : ""})`;
  }

  declareNetwork(
    name: string,
    network: (Omit<RawNetwork, "name"> & { name?: string | undefined }) | null,
    path: PropertyKey[],
  ): void {
    const realName = network?.name ?? name;
    for (const [candidate, at] of [
      [name, path],
      [realName, [...path, "name"]],
    ] as const) {
      if ((PREDEFINED_NETWORKS as readonly string[]).includes(candidate)) {
        this.error(
          [...at],
          `${quote(candidate)} is a predefined network of every machine: it is not declared`,
        );
        return;
      }
    }
    if (this.networks.has(name)) {
      this.error(path, `network ${quote(name)} exists already`);
      return;
    }
    const driver = network?.driver ?? "bridge";
    const machine =
      driver === "overlay"
        ? network?.machine !== undefined
          ? this.machineOf(network.machine, path, "an overlay network")
          : undefined
        : this.machineOf(network?.machine, path, `network ${quote(name)}`);
    for (const [otherKey, other] of this.networks) {
      if (
        other.realName === realName &&
        (driver === "overlay" || other.driver === "overlay" || other.machine === machine)
      ) {
        this.error(
          network?.name === undefined ? path : [...path, "name"],
          `network name ${quote(realName)} is taken by ${quote(otherKey)}${driver === "overlay" || other.driver === "overlay" ? " (an overlay is on every machine)" : ` on machine ${machine}`}`,
        );
        return;
      }
    }
    this.checkDriverOpts(driver, network, path);
    const subnets: { subnet: string; gateway?: string }[] = [];
    const configs = network?.ipam?.config ?? [];
    configs.forEach((config, i) => {
      const at = [...path, "ipam", "config", i];
      const subnet = parseCidr(config.subnet);
      if (!subnet.ok) {
        return;
      }
      if (config.gateway !== undefined) {
        const gateway = parseIpv4(config.gateway);
        if (gateway === undefined || !isUsable(subnet.cidr, gateway)) {
          this.error(
            [...at, "gateway"],
            `gateway ${config.gateway} is not a usable address of ${config.subnet}`,
          );
        }
      }
      if (config.ip_range !== undefined) {
        const range = parseCidr(config.ip_range);
        if (range.ok && !cidrContainsCidr(subnet.cidr, range.cidr)) {
          this.error([...at, "ip_range"], `ip_range ${config.ip_range} is not inside ${config.subnet}`);
        }
      }
      for (const [auxName, address] of Object.entries(config.aux_addresses ?? {})) {
        const aux = parseIpv4(address);
        if (aux === undefined || !cidrContains(subnet.cidr, aux)) {
          this.error([...at, "aux_addresses", auxName], `${address} is not inside ${config.subnet}`);
        }
      }
      for (const other of configs.slice(0, i)) {
        const o = parseCidr(other.subnet);
        if (o.ok && cidrsOverlap(o.cidr, subnet.cidr)) {
          this.error(
            [...at, "subnet"],
            `subnet ${config.subnet} overlaps ${other.subnet} of the same network`,
          );
        }
      }
      this.checkOverlap(name, machine, driver, config.subnet, [...at, "subnet"]);
      this.subnets.push({ subnet: config.subnet, path: [...at, "subnet"] });
      subnets.push({
        subnet: config.subnet,
        ...(config.gateway === undefined ? {} : { gateway: config.gateway }),
      });
    });
    this.networks.set(name, { realName, machine, driver, subnets, path });
    this.everNetwork.add(name);
    this.everNetwork.add(realName);
    this.taken.set(name, new Map());
  }

  /** Subnets on one machine (overlays: on every machine) may not overlap, nor the machine's `bridge`. */
  checkOverlap(
    name: string,
    machine: string | undefined,
    driver: string,
    subnet: string,
    at: PropertyKey[],
  ): void {
    const mine = parseCidr(subnet);
    if (!mine.ok) {
      return;
    }
    for (const [otherName, other] of this.networks) {
      const sameMachine =
        otherName === DEFAULT_BRIDGE.name ||
        driver === "overlay" ||
        other.driver === "overlay" ||
        other.machine === machine;
      if (!sameMachine || otherName === name) {
        continue;
      }
      for (const { subnet: theirs } of other.subnets) {
        const cidr = parseCidr(theirs);
        if (cidr.ok && cidrsOverlap(cidr.cidr, mine.cidr)) {
          this.error(at, `subnet ${subnet} overlaps ${theirs} of network ${quote(otherName)}`);
        }
      }
    }
  }

  checkDriverOpts(
    driver: string,
    network: Pick<RawNetwork, "driver_opts"> | null,
    path: PropertyKey[],
  ): void {
    const opts = network?.driver_opts ?? {};
    const at = (key: string) => [...path, "driver_opts", key];
    const text = (key: string) => (opts[key] === undefined ? undefined : String(opts[key]));
    for (const key of ["parent", "macvlan_mode"]) {
      if (opts[key] !== undefined && driver !== "macvlan") {
        this.error(at(key), `${key} is an option of macvlan networks`);
      }
    }
    const parent = text("parent");
    if (parent !== undefined && !IF_NAME.test(parent)) {
      this.error(at("parent"), `${quote(parent)} is not an interface name (1-15 letters, digits, _ . -)`);
    }
    const mode = text("macvlan_mode");
    if (mode !== undefined && !MACVLAN_MODES.includes(mode)) {
      this.error(at("macvlan_mode"), `macvlan_mode is ${MACVLAN_MODES.join(", ")}`);
    }
    for (const key of ["isolated", "com.docker.network.bridge.enable_icc"]) {
      const value = text(key);
      if (value !== undefined && value !== "true" && value !== "false") {
        this.error(at(key), `${key} is "true" or "false"`);
      }
    }
    if (text("isolated") !== undefined && driver === "macvlan") {
      this.error(at("isolated"), "isolated is an option of bridge and overlay networks");
    }
    const mtu = text("com.docker.network.driver.mtu");
    if (mtu !== undefined && !(/^[0-9]{3,4}$/.test(mtu) && Number(mtu) >= 576 && Number(mtu) <= 9000)) {
      this.error(at("com.docker.network.driver.mtu"), "the MTU is 576 to 9000");
    }
    const vni = text("com.docker.network.driver.overlay.vxlanid_list");
    if (vni !== undefined) {
      if (driver !== "overlay") {
        this.error(
          at("com.docker.network.driver.overlay.vxlanid_list"),
          "the VXLAN id is an option of overlay networks",
        );
      } else if (!(/^[1-9][0-9]{0,7}$/.test(vni) && Number(vni) <= 16_777_215)) {
        this.error(at("com.docker.network.driver.overlay.vxlanid_list"), "one VXLAN id, 1 to 16777215");
      }
    }
  }

  /** The network a service may use: it exists and is on the service's machine (overlays: any machine). */
  usableNetwork(name: string, machine: string | undefined, at: PropertyKey[]): NetworkState | undefined {
    const network = this.networks.get(name);
    if (!network) {
      const existed = this.everNetwork.has(name);
      this.error(
        at,
        existed
          ? `network ${quote(name)} does not exist at this point`
          : `unknown network ${quote(name)}${this.known(this.networks.keys())}`,
      );
      return undefined;
    }
    if (
      machine !== undefined &&
      network.driver !== "overlay" &&
      network.machine !== undefined &&
      network.machine !== machine
    ) {
      this.error(at, `network ${quote(name)} is on machine ${network.machine}, not ${machine}`);
      return undefined;
    }
    return network;
  }

  /** A static address: in one of the network's subnets, not its gateway, not taken. */
  claimAddress(
    networkName: string,
    network: NetworkState,
    address: string,
    holder: string,
    at: PropertyKey[],
  ): void {
    const value = parseIpv4(address);
    if (value === undefined) {
      return;
    }
    if (network.subnets.length === 0) {
      this.error(at, `network ${quote(networkName)} has no ipam.config subnet: a static address needs one`);
      return;
    }
    const inside = network.subnets.find(({ subnet }) => {
      const cidr = parseCidr(subnet);
      return cidr.ok && isUsable(cidr.cidr, value);
    });
    if (!inside) {
      this.error(
        at,
        `${address} is not a usable address of network ${quote(networkName)} (${network.subnets.map((s) => s.subnet).join(", ")})`,
      );
      return;
    }
    if (inside.gateway === address) {
      this.error(at, `${address} is the gateway of network ${quote(networkName)}`);
      return;
    }
    // The predefined bridge is per machine; the template's own networks are known by name.
    const key =
      networkName === DEFAULT_BRIDGE.name ? `${networkName}@${holder.split("@")[1] ?? ""}` : networkName;
    let taken = this.taken.get(key);
    if (!taken) {
      taken = new Map();
      this.taken.set(key, taken);
    }
    const other = taken.get(address);
    if (other !== undefined && other !== holder) {
      this.error(at, `${address} is taken on network ${quote(networkName)} by ${other.split("@")[0]}`);
      return;
    }
    taken.set(address, holder);
  }

  releaseAddresses(networkName: string, machine: string, holder: string): void {
    for (const [key, taken] of this.taken) {
      if (key === networkName || key === `${networkName}@${machine}`) {
        for (const [address, who] of taken) {
          if (who === holder) {
            taken.delete(address);
          }
        }
      }
    }
  }

  checkPorts(
    ports: readonly (string | number)[],
    at: PropertyKey[],
    mode: string | undefined,
    service: string,
  ): void {
    if (ports.length > 0 && (mode === "none" || mode === "host" || mode?.startsWith("container:"))) {
      this.error(at, `a service in network mode ${mode} publishes no ports`);
      return;
    }
    let published = this.published.get(service);
    if (!published) {
      published = new Set();
      this.published.set(service, published);
    }
    ports.forEach((spec, i) => {
      const parsed = parsePortSpec(String(spec));
      if (!parsed.ok) {
        this.error([...at, i], `invalid port ${quote(String(spec))}: ${parsed.error.message}`);
        return;
      }
      for (const request of parsed.requests) {
        published.add(`${request.containerPort}/${request.protocol}`);
      }
    });
  }

  declareService(name: string, service: RawService | null, path: PropertyKey[]): void {
    if (this.services.has(name)) {
      this.error(path, `service ${quote(name)} exists already`);
      return;
    }
    const machine = this.machineOf(service?.machine, path, `service ${quote(name)}`);
    const mode = service?.network_mode;
    const attachments = attachmentsOf(service);
    if (mode !== undefined && service?.networks !== undefined) {
      this.error([...path, "network_mode"], "network_mode and networks exclude each other (as in Compose)");
    }
    const state: ServiceState = { machine: machine ?? DEFAULT_MACHINE_KEY, mode, networks: new Set(), path };
    const holder = `${name}@${state.machine}`;
    if (mode?.startsWith("container:")) {
      const target = mode.slice("container:".length);
      const owner = this.services.get(target);
      if (target === name) {
        this.error([...path, "network_mode"], "a service cannot share its own namespace");
      } else if (!owner) {
        const later = this.raw.services?.[target] !== undefined;
        this.error(
          [...path, "network_mode"],
          later
            ? `service ${quote(target)} is declared after ${quote(name)} or shares a namespace in a cycle: container: needs it first`
            : `unknown service ${quote(target)}${this.known(this.services.keys())}`,
        );
      } else if (machine !== undefined && owner.machine !== machine) {
        this.error(
          [...path, "network_mode"],
          `service ${quote(target)} is on machine ${owner.machine}, not ${machine}`,
        );
      }
    } else if (mode !== undefined && mode !== "none" && mode !== "host") {
      const network = this.usableNetwork(mode, machine, [...path, "network_mode"]);
      if (network) {
        state.networks.add(mode);
      }
    }
    if (mode === undefined && attachments.length === 0) {
      // Docker's default: the machine's predefined bridge.
      state.networks.add(DEFAULT_BRIDGE.name);
    }
    attachments.forEach(({ attachment, key }) => {
      const at = [...path, "networks", key];
      if (state.networks.has(attachment.network)) {
        this.error(at, `network ${quote(attachment.network)} is listed twice`);
        return;
      }
      const network = this.usableNetwork(attachment.network, machine, at);
      if (!network) {
        return;
      }
      state.networks.add(attachment.network);
      if (attachment.ipv4Address !== undefined) {
        this.claimAddress(attachment.network, network, attachment.ipv4Address, holder, [
          ...at,
          "ipv4_address",
        ]);
      }
    });
    this.checkPorts(service?.ports ?? [], [...path, "ports"], mode, name);
    (service?.expose ?? []).forEach((spec, i) => {
      const parsed = parseExposedPort(String(spec));
      if (!parsed.ok) {
        this.error([...path, "expose", i], `invalid exposed port ${quote(String(spec))}: ${parsed.message}`);
      }
    });
    for (const { name: host, address, key } of extraHostsOf(service)) {
      const at = [...path, "extra_hosts", key];
      if (!isDnsName(host)) {
        this.error(at, `${quote(host)} is not a host name`);
      } else if (address !== "host-gateway" && !isIpv4(address)) {
        this.error(at, `${quote(address)} is not an IPv4 address or host-gateway`);
      }
    }
    this.services.set(name, state);
    this.everService.add(name);
  }

  attach(
    stepPath: PropertyKey[],
    networkName: string,
    serviceName: string,
    address: string | undefined,
  ): void {
    const service = this.services.get(serviceName);
    const network = this.usableNetwork(networkName, service?.machine, [...stepPath, "network"]);
    if (!service) {
      this.unknownService(serviceName, [...stepPath, "service"]);
      return;
    }
    if (service.mode === "host" || service.mode?.startsWith("container:")) {
      this.error([...stepPath, "service"], `a service in network mode ${service.mode} cannot be connected`);
      return;
    }
    if (!network) {
      return;
    }
    if (service.networks.has(networkName)) {
      this.error(
        [...stepPath, "network"],
        `service ${quote(serviceName)} is on network ${quote(networkName)} already`,
      );
      return;
    }
    service.networks.add(networkName);
    if (address !== undefined) {
      this.claimAddress(networkName, network, address, `${serviceName}@${service.machine}`, [
        ...stepPath,
        "ipv4_address",
      ]);
    }
  }

  unknownService(name: string, at: PropertyKey[]): void {
    this.error(
      at,
      this.everService.has(name)
        ? `service ${quote(name)} does not exist at this point`
        : `unknown service ${quote(name)}${this.known(this.services.keys())}`,
    );
  }

  runSolution(): void {
    (this.raw.solution ?? []).forEach((step, i) => {
      const path: PropertyKey[] = ["solution", i];
      if ("connect" in step) {
        this.attach(
          [...path, "connect"],
          step.connect.network,
          step.connect.service,
          step.connect.ipv4_address,
        );
      } else if ("disconnect" in step) {
        const at = [...path, "disconnect"];
        const service = this.services.get(step.disconnect.service);
        if (!service) {
          this.unknownService(step.disconnect.service, [...at, "service"]);
        } else if (!service.networks.has(step.disconnect.network)) {
          this.error(
            [...at, "network"],
            `service ${quote(step.disconnect.service)} is not on network ${quote(step.disconnect.network)} at this point`,
          );
        } else {
          service.networks.delete(step.disconnect.network);
          this.releaseAddresses(
            step.disconnect.network,
            service.machine,
            `${step.disconnect.service}@${service.machine}`,
          );
        }
      } else if ("create_network" in step) {
        const { name, ...network } = step.create_network;
        this.declareNetwork(name, network, [...path, "create_network"]);
      } else if ("delete_network" in step) {
        const name = step.delete_network;
        const at = [...path, "delete_network"];
        if ((PREDEFINED_NETWORKS as readonly string[]).includes(name)) {
          this.error(at, `${quote(name)} is a predefined network: it cannot be deleted`);
        } else if (!this.networks.has(name)) {
          this.error(at, `unknown network ${quote(name)}${this.known(this.networks.keys())}`);
        } else {
          const users = [...this.services].filter(([, s]) => s.networks.has(name)).map(([n]) => n);
          if (users.length > 0) {
            this.error(
              at,
              `network ${quote(name)} still has services: ${users.join(", ")} (disconnect them first)`,
            );
          } else {
            this.networks.delete(name);
            this.taken.delete(name);
          }
        }
      } else if ("create_service" in step) {
        const { name, ...service } = step.create_service;
        this.declareService(name, service, [...path, "create_service"]);
      } else if ("delete_service" in step) {
        const name = step.delete_service;
        const at = [...path, "delete_service"];
        const service = this.services.get(name);
        if (!service) {
          this.unknownService(name, at);
        } else {
          const sharing = [...this.services]
            .filter(([, s]) => s.mode === `container:${name}`)
            .map(([n]) => n);
          if (sharing.length > 0) {
            this.error(
              at,
              `service ${quote(name)} still has services in its namespace: ${sharing.join(", ")}`,
            );
          } else {
            for (const network of service.networks) {
              this.releaseAddresses(network, service.machine, `${name}@${service.machine}`);
            }
            this.services.delete(name);
          }
        }
      } else {
        const at = [...path, "publish"];
        const service = this.services.get(step.publish.service);
        if (!service) {
          this.unknownService(step.publish.service, [...at, "service"]);
        } else {
          this.checkPorts(step.publish.ports, [...at, "ports"], service.mode, step.publish.service);
        }
      }
    });
  }

  checkChecks(): void {
    const names = new Map<string, number>();
    (this.raw.checks ?? []).forEach((check, i) => {
      const path: PropertyKey[] = ["checks", i];
      const first = names.get(check.name);
      if (first !== undefined) {
        this.error([...path, "name"], `check name ${quote(check.name)} is taken by checks[${first}]`);
      } else {
        names.set(check.name, i);
      }
      const forms = (["to", "resolve", "published"] as const).filter((key) => check[key] !== undefined);
      if (forms.length !== 1) {
        this.error(path, "a check has exactly one of to, resolve or published");
        return;
      }
      const form = forms[0];
      if (check.from === undefined && form !== "published") {
        this.error([...path, "from"], "required: a service, machine:<machine> or outside");
      } else if (check.from !== undefined) {
        this.checkOrigin(check.from, [...path, "from"], form === "resolve");
      }
      const expect = check.expect;
      if (form === "resolve") {
        if (expect === "reachable" || expect === "unreachable") {
          this.error([...path, "expect"], "a resolve check expects resolves or does_not_resolve");
        }
        if (check.address !== undefined && expect === "does_not_resolve") {
          this.error([...path, "address"], "address goes with expect: resolves");
        }
        for (const key of ["protocol", "port"] as const) {
          if (check[key] !== undefined) {
            this.error([...path, key], `${key} is not an option of resolve checks`);
          }
        }
        return;
      }
      if (expect === "resolves" || expect === "does_not_resolve") {
        this.error([...path, "expect"], "expect is reachable or unreachable");
      }
      if (check.address !== undefined) {
        this.error([...path, "address"], "address is an option of resolve checks");
      }
      if (form === "published") {
        this.checkPublished(check, path);
        return;
      }
      const protocol = check.protocol ?? "icmp";
      if (protocol === "icmp" && check.port !== undefined) {
        this.error([...path, "port"], "icmp has no port");
      }
      if (protocol !== "icmp" && check.port === undefined) {
        this.error([...path, "port"], `required for ${protocol}`);
      }
      this.checkTarget(check.to ?? "", [...path, "to"]);
    });
  }

  checkPublished(check: NonNullable<RawTemplate["checks"]>[number], path: PropertyKey[]): void {
    for (const key of ["protocol", "port"] as const) {
      if (check[key] !== undefined) {
        this.error([...path, key], `${key} goes inside published`);
      }
    }
    if (check.from !== undefined && check.from !== "outside") {
      this.error([...path, "from"], "a published port is probed from outside");
    }
    const published = check.published;
    if (!published) {
      return;
    }
    if (!this.everService.has(published.service)) {
      this.unknownService(published.service, [...path, "published", "service"]);
      return;
    }
    const key = `${published.port}/${published.protocol ?? "tcp"}`;
    if (!this.published.get(published.service)?.has(key)) {
      this.error(
        [...path, "published", "port"],
        `service ${quote(published.service)} publishes no container port ${key} (ports or a publish step)`,
      );
    }
  }

  checkOrigin(from: string, at: PropertyKey[], resolve: boolean): void {
    if (from === "outside") {
      if (resolve) {
        this.error(at, "names are resolved in a service or a machine, not outside");
      }
      return;
    }
    if (from.startsWith("machine:")) {
      const machine = from.slice("machine:".length);
      if (!this.machines.includes(machine)) {
        this.error(at, `unknown machine ${quote(machine)}${this.known(this.machines)}`);
      }
      return;
    }
    if (!this.everService.has(from)) {
      this.error(at, `unknown service ${quote(from)}${this.known(this.everService)}`);
    }
  }

  /** A service, `service.network` of known ones, an address, or another DNS name. */
  checkTarget(to: string, at: PropertyKey[]): void {
    if (isIpv4(to) || this.everService.has(to)) {
      return;
    }
    const dot = to.indexOf(".");
    if (dot > 0) {
      const service = to.slice(0, dot);
      const network = to.slice(dot + 1);
      if (this.everService.has(service) && !network.includes(".") && !this.everNetwork.has(network)) {
        this.error(at, `unknown network ${quote(network)} in ${quote(to)}${this.known(this.everNetwork)}`);
      }
      return;
    }
    if (this.everNetwork.has(to)) {
      this.error(at, `${quote(to)} is a network, not a service or address`);
    }
  }
}

/** Every semantic problem of a template the schema accepted, in template order. */
export function validateTemplate(raw: RawTemplate): PathedError[] {
  const checker = new Checker(raw);
  const counts = [
    ["machines", Object.keys(raw.machines ?? {}).length, LIMITS.machines],
    ["networks", Object.keys(raw.networks ?? {}).length, LIMITS.networks],
    ["services", Object.keys(raw.services ?? {}).length, LIMITS.services],
  ] as const;
  for (const [key, count, max] of counts) {
    if (count > max) {
      checker.error([key], `at most ${max} ${key} (this template has ${count})`);
    }
  }
  if (raw.machines !== undefined && Object.keys(raw.machines).length === 0) {
    checker.error(["machines"], "at least one machine (or leave machines out for one named host)");
  }
  if (checker.errors.length > 0) {
    return checker.errors;
  }
  checkMachines(checker, raw);
  for (const [name, network] of Object.entries(raw.networks ?? {})) {
    checker.declareNetwork(name, network, ["networks", name]);
  }
  // container: targets first, whatever the order of declaration (cycles are refused).
  for (const name of serviceOrder(raw, checker)) {
    checker.declareService(name, raw.services?.[name] ?? null, ["services", name]);
  }
  // Checks may name services created by the solution; collect them before the walk reports.
  for (const step of raw.solution ?? []) {
    if ("create_service" in step) {
      checker.everService.add(step.create_service.name);
    }
    if ("create_network" in step) {
      checker.everNetwork.add(step.create_network.name);
    }
  }
  checker.runSolution();
  checker.checkChecks();
  checkLan(checker, raw);
  return checker.errors;
}

function checkMachines(checker: Checker, raw: RawTemplate): void {
  const lanSubnet = raw.lan?.subnet ?? DEFAULT_TEMPLATE_LAN;
  const lan = parseCidr(lanSubnet);
  const seen = new Map<string, string>();
  for (const [key, machine] of Object.entries(raw.machines ?? {})) {
    const address = machine?.address;
    if (address === undefined) {
      continue;
    }
    const at = ["machines", key, "address"];
    const value = parseIpv4(address);
    if (!lan.ok) {
      return;
    }
    if (value === undefined || !isUsable(lan.cidr, value)) {
      checker.error(
        at,
        `${address} is not a usable address of the LAN ${lanSubnet}${raw.lan?.subnet === undefined ? " (the default; set lan.subnet)" : ""}`,
      );
    } else if (seen.has(address)) {
      checker.error(at, `${address} is taken by machine ${seen.get(address)}`);
    } else {
      seen.set(address, key);
    }
  }
}

function checkLan(checker: Checker, raw: RawTemplate): void {
  const subnet = raw.lan?.subnet ?? DEFAULT_TEMPLATE_LAN;
  const lan = parseCidr(subnet);
  if (!lan.ok) {
    return;
  }
  const where = raw.lan?.subnet === undefined ? ["lan"] : ["lan", "subnet"];
  for (const other of [{ subnet: DEFAULT_BRIDGE.subnet, path: [] }, ...checker.subnets]) {
    const cidr = parseCidr(other.subnet);
    if (cidr.ok && cidrsOverlap(cidr.cidr, lan.cidr)) {
      checker.error(
        where,
        `the LAN ${subnet}${raw.lan?.subnet === undefined ? " (the default; set lan.subnet)" : ""} overlaps ${other.subnet}${other.path.length > 0 ? " of the template's networks" : " (every machine's bridge)"}`,
      );
    }
  }
}

/**
 * Services in an order where every `container:` target comes before the services sharing
 * its namespace, else in declaration order. A cycle is reported once and its services are
 * left in declaration order (their checks then report the missing target).
 */
export function serviceOrder(raw: RawTemplate, checker?: Checker): string[] {
  const services = raw.services ?? {};
  const order: string[] = [];
  const state = new Map<string, "visiting" | "done">();
  const visit = (name: string, chain: string[]): void => {
    if (state.get(name) === "done") {
      return;
    }
    if (state.get(name) === "visiting") {
      checker?.error(
        ["services", name, "network_mode"],
        `container: modes form a cycle: ${[...chain, name].join(" -> ")}`,
      );
      return;
    }
    state.set(name, "visiting");
    const mode = services[name]?.network_mode;
    const target = mode?.startsWith("container:") ? mode.slice("container:".length) : undefined;
    if (target !== undefined && target !== name && services[target] !== undefined) {
      visit(target, [...chain, name]);
    }
    state.set(name, "done");
    order.push(name);
  };
  for (const name of Object.keys(services)) {
    visit(name, []);
  }
  return order;
}
