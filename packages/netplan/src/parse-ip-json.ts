/**
 * Pure parsers for what iproute2 prints with `-j` (checked against iproute2 6.1 on the
 * lab hosts). Unknown fields are ignored; a shape that is not what `ip` prints throws,
 * so a changed iproute2 fails loudly instead of being planned against as "nothing".
 */
import type { ObservedLink, ObservedRoute, ObservedSandbox } from "./observed";

/**
 * Commands for one `ip -j -d -batch -` process that observes a sandbox: its links with
 * addresses, then its default route. Parse the output with {@link parseSandboxBatchJson}.
 */
export const SANDBOX_OBSERVE_BATCH = "addr show\nroute show default\n";

/**
 * Links of `ip -j -d addr show`, including link info (kind, master) and IPv4 addresses.
 *
 * @example parseIpAddrJson(stdout).find((l) => l.name === "lnbr-abcdefgh")?.addresses // ["172.30.0.1/24"]
 */
export function parseIpAddrJson(text: string): ObservedLink[] {
  return toLinks(parseSingleDocument(text, "ip -j addr show"), true);
}

/** Links of `ip -j -d link show` (no addresses: `addresses` is empty). */
export function parseIpLinkJson(text: string): ObservedLink[] {
  return toLinks(parseSingleDocument(text, "ip -j link show"), false);
}

/**
 * Links of `ip -j -d -batch -` fed `addr show dev NAME` lines (one JSON document per link that
 * exists; a missing one prints only an error), in the order printed.
 *
 * @example parseIpAddrBatchJson(stdout).map((l) => l.name) // ["lnbr-abcdefgh", "lnvabcdefghij"]
 */
export function parseIpAddrBatchJson(text: string): ObservedLink[] {
  return parseJsonDocuments(text).flatMap((document) => toLinks(document, true));
}

/** Routes of `ip -j route show`. */
export function parseIpRouteJson(text: string): ObservedRoute[] {
  return toRoutes(parseSingleDocument(text, "ip -j route show"));
}

/** Next hop of the default route among `routes`, if one exists. */
export function findDefaultGateway(routes: readonly ObservedRoute[]): string | undefined {
  return routes.find((route) => route.dst === "default" && route.gateway !== undefined)?.gateway;
}

/** Output of `ip -j -d -batch -` fed {@link SANDBOX_OBSERVE_BATCH}. */
export function parseSandboxBatchJson(text: string): ObservedSandbox {
  const documents = parseJsonDocuments(text);
  const [addrDocument, routeDocument] = documents;
  if (documents.length !== 2 || addrDocument === undefined || routeDocument === undefined) {
    throw new Error(`ip -batch observation: want 2 JSON documents, got ${documents.length}`);
  }
  const links = toLinks(addrDocument, true);
  const defaultGateway = findDefaultGateway(toRoutes(routeDocument));
  return defaultGateway === undefined ? { links } : { links, defaultGateway };
}

/**
 * Splits concatenated JSON values (what `ip -j -batch` prints: one array per command) and
 * parses each.
 */
export function parseJsonDocuments(text: string): unknown[] {
  const documents: unknown[] = [];
  let depth = 0;
  let inString = false;
  let escaped = false;
  let start = -1;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (inString) {
      if (escaped) {
        escaped = false;
      } else if (char === "\\") {
        escaped = true;
      } else if (char === '"') {
        inString = false;
      }
      continue;
    }
    if (char === '"') {
      inString = true;
    } else if (char === "[" || char === "{") {
      if (depth === 0) {
        start = i;
      }
      depth++;
    } else if (char === "]" || char === "}") {
      depth--;
      if (depth < 0) {
        throw new Error(`unbalanced JSON at offset ${i}`);
      }
      if (depth === 0) {
        documents.push(JSON.parse(text.slice(start, i + 1)));
      }
    } else if (depth === 0 && char !== undefined && char.trim() !== "") {
      throw new Error(`unexpected ${JSON.stringify(char)} between JSON documents at offset ${i}`);
    }
  }
  if (depth !== 0 || inString) {
    throw new Error("truncated JSON");
  }
  return documents;
}

function parseSingleDocument(text: string, what: string): unknown {
  const documents = parseJsonDocuments(text);
  if (documents.length !== 1) {
    throw new Error(`${what}: want 1 JSON document, got ${documents.length}`);
  }
  return documents[0];
}

function toLinks(document: unknown, withAddresses: boolean): ObservedLink[] {
  return asArray(document, "links").map((entry) => toLink(entry, withAddresses));
}

function toLink(entry: unknown, withAddresses: boolean): ObservedLink {
  const record = asRecord(entry, "link");
  const name = requireString(record, "ifname");
  const flags = asArray(record.flags ?? [], "flags");
  const link: ObservedLink = {
    name,
    up: flags.includes("UP"),
    mtu: requireNumber(record, "mtu"),
    mac: optionalString(record, "address")?.toLowerCase() ?? "",
    addresses: withAddresses ? toIpv4Addresses(record.addr_info) : [],
    index: requireNumber(record, "ifindex"),
  };
  const linkinfo = record.linkinfo === undefined ? undefined : asRecord(record.linkinfo, "linkinfo");
  const kind = linkinfo === undefined ? undefined : optionalString(linkinfo, "info_kind");
  if (kind !== undefined) {
    link.kind = kind;
  }
  const master = optionalString(record, "master");
  if (master !== undefined) {
    link.master = master;
  }
  const alias = optionalString(record, "ifalias");
  if (alias !== undefined) {
    link.alias = alias;
  }
  const hairpin = bridgePortHairpin(linkinfo);
  if (hairpin !== undefined) {
    link.hairpin = hairpin;
  }
  const macvlanMode = kind === "macvlan" ? infoDataString(linkinfo, "mode") : undefined;
  if (macvlanMode !== undefined) {
    link.macvlanMode = macvlanMode;
  }
  if (kind === "vxlan" && linkinfo?.info_data !== undefined) {
    const data = asRecord(linkinfo.info_data, "info_data");
    if (typeof data.id === "number") {
      link.vxlanId = data.id;
    }
    if (typeof data.proxy === "boolean") {
      link.vxlanProxy = data.proxy;
    }
  }
  const peerIndex = optionalNumber(record, "link_index");
  if (peerIndex !== undefined) {
    link.peerIndex = peerIndex;
  }
  return link;
}

/** A string of `linkinfo.info_data` (`ip -d`), if reported. */
function infoDataString(linkinfo: Record<string, unknown> | undefined, key: string): string | undefined {
  if (linkinfo === undefined || linkinfo.info_data === undefined) {
    return undefined;
  }
  return optionalString(asRecord(linkinfo.info_data, "info_data"), key);
}

/** `linkinfo.info_slave_data.hairpin` of a bridge port (`ip -d`), if reported. */
function bridgePortHairpin(linkinfo: Record<string, unknown> | undefined): boolean | undefined {
  if (
    linkinfo === undefined ||
    linkinfo.info_slave_kind !== "bridge" ||
    linkinfo.info_slave_data === undefined
  ) {
    return undefined;
  }
  const hairpin = asRecord(linkinfo.info_slave_data, "info_slave_data").hairpin;
  return typeof hairpin === "boolean" ? hairpin : undefined;
}

function toIpv4Addresses(addrInfo: unknown): string[] {
  if (addrInfo === undefined) {
    return [];
  }
  const addresses: string[] = [];
  for (const entry of asArray(addrInfo, "addr_info")) {
    const record = asRecord(entry, "addr_info entry");
    if (record.family !== "inet") {
      continue;
    }
    addresses.push(`${requireString(record, "local")}/${requireNumber(record, "prefixlen")}`);
  }
  return addresses;
}

function toRoutes(document: unknown): ObservedRoute[] {
  return asArray(document, "routes").map((entry) => {
    const record = asRecord(entry, "route");
    const route: ObservedRoute = { dst: requireString(record, "dst") };
    const gateway = optionalString(record, "gateway");
    if (gateway !== undefined) {
      route.gateway = gateway;
    }
    const dev = optionalString(record, "dev");
    if (dev !== undefined) {
      route.dev = dev;
    }
    return route;
  });
}

function asArray(value: unknown, what: string): unknown[] {
  if (!Array.isArray(value)) {
    throw new Error(`ip JSON: ${what} is not an array`);
  }
  return value;
}

function asRecord(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new Error(`ip JSON: ${what} is not an object`);
  }
  return value as Record<string, unknown>;
}

function requireString(record: Record<string, unknown>, key: string): string {
  const value = record[key];
  if (typeof value !== "string") {
    throw new Error(`ip JSON: ${key} is not a string`);
  }
  return value;
}

function optionalString(record: Record<string, unknown>, key: string): string | undefined {
  const value = record[key];
  return typeof value === "string" ? value : undefined;
}

function requireNumber(record: Record<string, unknown>, key: string): number {
  const value = record[key];
  if (typeof value !== "number") {
    throw new Error(`ip JSON: ${key} is not a number`);
  }
  return value;
}

function optionalNumber(record: Record<string, unknown>, key: string): number | undefined {
  const value = record[key];
  return typeof value === "number" ? value : undefined;
}
