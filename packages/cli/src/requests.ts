/**
 * Pure translation of docker-like flags into request bodies of the contract. Anything the
 * server checks (addresses, names, port specs) is passed as typed and left to the server,
 * whose problem document names the field.
 */
import type { Schema } from "@labnet/api";
import { CliError } from "./errors";

export type CreateNetworkRequest = Schema<"CreateNetworkRequest">;
export type CreateNodeRequest = Schema<"CreateNodeRequest">;
export type CreateLabRequest = Schema<"CreateLabRequest">;

/** `k=v` pairs (`--label`, `--opt`, `--aux-address`) as an object; `k` alone means `k=""`. */
export function parseKeyValues(pairs: readonly string[], flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf("=");
    const key = at === -1 ? pair : pair.slice(0, at);
    if (key === "") {
      throw new CliError(`${flag} ${JSON.stringify(pair)} needs a key, as key=value.`);
    }
    out[key] = at === -1 ? "" : pair.slice(at + 1);
  }
  return out;
}

export interface NetworkCreateFlags {
  driver?: string;
  subnet: string[];
  gateway: string[];
  ipRange: string[];
  auxAddress: string[];
  internal?: boolean;
  attachable?: boolean;
  opt: string[];
  label: string[];
  host?: string;
}

/** Options whose values are not strings in the contract. */
const TYPED_OPTIONS: Record<string, "number" | "boolean"> = {
  mtu: "number",
  icc: "boolean",
  isolated: "boolean",
};

/** `docker network create [-d DRIVER] [--subnet ...] NAME` as a CreateNetworkRequest. */
export function networkCreateRequest(name: string, flags: NetworkCreateFlags): CreateNetworkRequest {
  if (flags.gateway.length > flags.subnet.length || flags.ipRange.length > flags.subnet.length) {
    throw new CliError("--gateway and --ip-range go with a --subnet each, in the same order.");
  }
  const request: CreateNetworkRequest = { name };
  if (flags.driver !== undefined) {
    request.driver = flags.driver as CreateNetworkRequest["driver"];
  }
  if (flags.host !== undefined) {
    request.host = flags.host;
  }
  if (flags.internal) {
    request.internal = true;
  }
  if (flags.attachable === false) {
    request.attachable = false;
  }
  if (flags.subnet.length > 0) {
    const aux = parseKeyValues(flags.auxAddress, "--aux-address");
    request.ipam = {
      configs: flags.subnet.map((subnet, i) => ({
        subnet,
        ...(flags.gateway[i] ? { gateway: flags.gateway[i] } : {}),
        ...(flags.ipRange[i] ? { ipRange: flags.ipRange[i] } : {}),
        // Docker puts aux addresses on the config they belong to; the first is as good here.
        ...(i === 0 && Object.keys(aux).length > 0 ? { auxAddresses: aux } : {}),
      })),
    };
  } else if (flags.auxAddress.length > 0) {
    throw new CliError("--aux-address needs a --subnet to lie in.");
  }
  const options: Record<string, string | number | boolean> = {};
  for (const [key, value] of Object.entries(parseKeyValues(flags.opt, "--opt"))) {
    const type = TYPED_OPTIONS[key];
    options[key] = type === "number" ? Number(value) : type === "boolean" ? value !== "false" : value;
  }
  if (Object.keys(options).length > 0) {
    request.options = options as CreateNetworkRequest["options"];
  }
  const labels = parseKeyValues(flags.label, "--label");
  if (Object.keys(labels).length > 0) {
    request.labels = labels;
  }
  return request;
}

export interface NodeRunFlags {
  name?: string;
  network: string[];
  ip?: string;
  networkAlias: string[];
  publish: string[];
  publishAll?: boolean;
  expose: string[];
  dns: string[];
  dnsSearch: string[];
  hostname?: string;
  addHost: string[];
  label: string[];
  host?: string;
}

/**
 * `docker run [--name N] [--network NET ...] [--ip A] [-p ...] [NAME]` as a CreateNodeRequest.
 * One `--network` alone is the network mode (`bridge`, `none`, `host`, `container:<node>` or a
 * network); several, or `--ip`/`--network-alias`, attach networks in order (the first is eth0).
 */
export function nodeRunRequest(positionalName: string | undefined, flags: NodeRunFlags): CreateNodeRequest {
  if (positionalName !== undefined && flags.name !== undefined && positionalName !== flags.name) {
    throw new CliError(
      `the node is named twice (--name ${flags.name} and ${positionalName}); give one name.`,
    );
  }
  const name = flags.name ?? positionalName;
  if (name === undefined) {
    throw new CliError("a node needs a name: labnet node run [--name] NAME.");
  }
  const request: CreateNodeRequest = { name };
  const [first, ...more] = flags.network;
  const attachSettings = flags.ip !== undefined || flags.networkAlias.length > 0;
  if (first === undefined) {
    if (attachSettings) {
      throw new CliError("--ip and --network-alias need a --network to apply to.");
    }
  } else if (more.length === 0 && !attachSettings) {
    request.networkMode = first;
  } else {
    request.networks = [
      {
        network: first,
        ...(flags.ip !== undefined ? { ipv4Address: flags.ip } : {}),
        ...(flags.networkAlias.length > 0 ? { aliases: flags.networkAlias } : {}),
      },
      ...more.map((network) => ({ network })),
    ];
  }
  if (flags.host !== undefined) {
    request.host = flags.host;
  }
  if (flags.hostname !== undefined) {
    request.hostname = flags.hostname;
  }
  if (flags.dns.length > 0 || flags.dnsSearch.length > 0) {
    request.dns = {
      ...(flags.dns.length > 0 ? { servers: flags.dns } : {}),
      ...(flags.dnsSearch.length > 0 ? { search: flags.dnsSearch } : {}),
    };
  }
  if (flags.addHost.length > 0) {
    request.extraHosts = flags.addHost;
  }
  if (flags.publish.length > 0) {
    request.ports = flags.publish;
  }
  if (flags.expose.length > 0) {
    request.exposedPorts = flags.expose;
  }
  if (flags.publishAll) {
    request.publishAll = true;
  }
  const labels = parseKeyValues(flags.label, "--label");
  if (Object.keys(labels).length > 0) {
    request.labels = labels;
  }
  return request;
}

export interface LabCreateFlags {
  template: string;
  students: string;
  host?: string;
  ttl?: number;
  label: string[];
}

/** `--students 30` (s01 … s30) or `--students alice,bob`; a lab without a name is named after its template. */
export function labCreateRequest(
  name: string | undefined,
  flags: LabCreateFlags,
  suffix: () => string,
): CreateLabRequest {
  const students = flags.students.trim();
  const request: CreateLabRequest = {
    name: name ?? defaultLabName(flags.template, suffix()),
    template: flags.template,
  };
  if (/^\d+$/.test(students)) {
    request.count = Number(students);
  } else {
    const names = students.split(",").map((s) => s.trim());
    if (names.some((s) => s === "")) {
      throw new CliError(
        `--students ${JSON.stringify(flags.students)}: give a number or names separated by commas.`,
      );
    }
    request.students = names;
  }
  if (flags.host !== undefined) {
    request.host = flags.host;
  }
  if (flags.ttl !== undefined) {
    request.ttlSeconds = flags.ttl;
  }
  const labels = parseKeyValues(flags.label, "--label");
  if (Object.keys(labels).length > 0) {
    request.labels = labels;
  }
  return request;
}

/** Longest lab name the contract takes (it is part of the machines' names). */
const LAB_NAME_MAX = 24;

/** `builtin:seed-001-ex2` + `k3x7` → `seed-001-ex2-k3x7`: a DNS label of at most 24 characters. */
export function defaultLabName(template: string, suffix: string): string {
  const base = template
    .replace(/^builtin:/, "")
    .replace(/@\d+$/, "")
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^-+|-+$/g, "");
  const head = base.slice(0, LAB_NAME_MAX - suffix.length - 1).replace(/-+$/, "");
  return head ? `${head}-${suffix}` : `lab-${suffix}`;
}
