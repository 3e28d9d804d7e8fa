/**
 * Published-port requests in every form `docker run -p` accepts, parsed into single-port
 * requests for the port ledger. Pure: no I/O, no knowledge of which ports are free.
 *
 * Grammar (Docker's `nat.ParsePortSpec`, IPv4 only):
 *   [[hostIp:][hostPort]:]containerPort[/protocol]
 * where hostPort and containerPort are a port (`80`) or a range (`80-90`), an empty or `0`
 * host port means "a random port from the host's range", and protocol is tcp (default) or
 * udp. A host range with a single container port means "one free port of that range".
 */
import { isIpv4 } from "./validate";

export type PortProtocol = "tcp" | "udp";

/** The structured form of one `-p` value. Ports may be numbers or strings (ranges as `"80-90"`). */
export interface PortSpecObject {
  /** Host address to answer on; default `0.0.0.0` (every address of the host). */
  hostIp?: string;
  /** Host port or range; omitted, `0` or `""` for a random port. */
  hostPort?: number | string;
  /** Container port or range. */
  containerPort: number | string;
  protocol?: PortProtocol;
}

/** A `-p` value: a string such as `127.0.0.1:8080:80/udp`, or its structured form. */
export type PortSpecInput = string | PortSpecObject;

/** One container port to publish, as the ledger must satisfy it. */
export interface PortRequest {
  protocol: PortProtocol;
  /** `0.0.0.0` for every address of the host, else one IPv4 address. */
  hostIp: string;
  /**
   * Host ports to choose from: `start === end` for a fixed port, a range for "one free port
   * of it". Undefined: a random port of the host's configured range.
   */
  hostPorts?: { start: number; end: number };
  containerPort: number;
}

/** Which part of a spec is wrong. Structured specs name the field; strings name `spec`. */
export type PortSpecPart = "spec" | "hostIp" | "hostPort" | "containerPort" | "protocol";

export interface PortSpecError {
  part: PortSpecPart;
  message: string;
}

export type PortSpecResult = { ok: true; requests: PortRequest[] } | { ok: false; error: PortSpecError };

/** One exposed container port (`EXPOSE 80/tcp`). */
export interface ExposedPort {
  containerPort: number;
  protocol: PortProtocol;
}

export type ExposedPortResult = { ok: true; ports: ExposedPort[] } | { ok: false; message: string };

/** Every address of the host. */
export const ANY_HOST_IP = "0.0.0.0";

const PORT_MAX = 65535;
const PORT_PATTERN = /^[0-9]{1,5}$/;
const RANGE_PATTERN = /^([0-9]{1,5})-([0-9]{1,5})$/;
const PROTOCOLS: readonly PortProtocol[] = ["tcp", "udp"];

/**
 * Parses one `-p` value into single-port requests (a range yields one per port).
 *
 * @example parsePortSpec("127.0.0.1:8000-8001:80-81/udp")
 * // { ok: true, requests: [
 * //   { protocol: "udp", hostIp: "127.0.0.1", hostPorts: { start: 8000, end: 8000 }, containerPort: 80 },
 * //   { protocol: "udp", hostIp: "127.0.0.1", hostPorts: { start: 8001, end: 8001 }, containerPort: 81 } ] }
 * @example parsePortSpec("80") // one request for container port 80/tcp on a random host port
 */
export function parsePortSpec(input: PortSpecInput): PortSpecResult {
  return typeof input === "string" ? parseSpecString(input) : parseSpecObject(input);
}

function parseSpecString(raw: string): PortSpecResult {
  const spec = raw.trim();
  if (spec === "") {
    return fail("spec", "no port specified: <empty>");
  }
  if (spec.includes("[") || spec.split(":").length > 3) {
    return fail("spec", `IPv6 host addresses are not supported: ${raw}`);
  }
  const parts = spec.split(":");
  const containerPart = parts[parts.length - 1] ?? "";
  const hostPort = parts.length >= 2 ? (parts[parts.length - 2] ?? "") : "";
  const hostIp = parts.length === 3 ? (parts[0] ?? "") : "";
  const [port, protocol] = splitProtocol(containerPart);
  if (port === "") {
    return fail("spec", `no port specified: ${raw}<empty>`);
  }
  return build({ hostIp, hostPort, containerPort: port, protocol }, "spec");
}

/** Each part is one value: whitespace around it is refused, not trimmed (a string spec is trimmed as a whole). */
function parseSpecObject(input: PortSpecObject): PortSpecResult {
  const containerPort = String(input.containerPort);
  if (containerPort.includes("/")) {
    return fail("containerPort", `invalid containerPort: ${containerPort} (give the protocol in protocol)`);
  }
  return build(
    {
      hostIp: input.hostIp ?? "",
      hostPort: input.hostPort === undefined ? "" : String(input.hostPort),
      containerPort,
      protocol: input.protocol ?? "tcp",
    },
    undefined,
  );
}

interface SpecParts {
  hostIp: string;
  hostPort: string;
  containerPort: string;
  protocol: string;
}

/** `part` overrides the part named in errors (strings are reported as a whole). */
function build(spec: SpecParts, part: PortSpecPart | undefined): PortSpecResult {
  const at = (own: PortSpecPart): PortSpecPart => part ?? own;

  const protocol = spec.protocol.toLowerCase();
  if (!isProtocol(protocol)) {
    return fail(at("protocol"), `invalid proto: ${spec.protocol} (want tcp or udp)`);
  }

  const hostIp = spec.hostIp === "" ? ANY_HOST_IP : spec.hostIp;
  const ipProblem = hostIpProblem(hostIp);
  if (ipProblem !== undefined) {
    return fail(at("hostIp"), ipProblem);
  }

  const container = parseRange(spec.containerPort, 1);
  if (container === undefined) {
    return fail(at("containerPort"), `invalid containerPort: ${spec.containerPort}`);
  }
  const random = spec.hostPort === "" || spec.hostPort === "0";
  const host = random ? undefined : parseRange(spec.hostPort, 1);
  if (!random && host === undefined) {
    return fail(at("hostPort"), `invalid hostPort: ${spec.hostPort}`);
  }

  const containerCount = container.end - container.start + 1;
  if (host !== undefined && containerCount > 1 && host.end - host.start + 1 !== containerCount) {
    return fail(
      at("hostPort"),
      `invalid ranges specified for container and host Ports: ${spec.containerPort} and ${spec.hostPort}`,
    );
  }

  const requests: PortRequest[] = [];
  for (let i = 0; i < containerCount; i++) {
    const request: PortRequest = { protocol, hostIp, containerPort: container.start + i };
    if (host !== undefined) {
      // A host range with one container port is a choice; with a container range, a pairing.
      request.hostPorts = containerCount === 1 ? { ...host } : { start: host.start + i, end: host.start + i };
    }
    requests.push(request);
  }
  return { ok: true, requests };
}

/**
 * Parses an exposed port (`80`, `80/tcp`, `8000-8010/udp`), as `EXPOSE` and `--expose` take it.
 *
 * @example parseExposedPort("53/udp") // { ok: true, ports: [{ containerPort: 53, protocol: "udp" }] }
 */
export function parseExposedPort(raw: string): ExposedPortResult {
  const [port, protocolRaw] = splitProtocol(raw.trim());
  const protocol = protocolRaw.toLowerCase();
  if (!isProtocol(protocol)) {
    return { ok: false, message: `invalid proto: ${protocolRaw} (want tcp or udp)` };
  }
  const range = parseRange(port, 1);
  if (range === undefined) {
    return { ok: false, message: `invalid port: ${raw}` };
  }
  const ports: ExposedPort[] = [];
  for (let p = range.start; p <= range.end; p++) {
    ports.push({ containerPort: p, protocol });
  }
  return { ok: true, ports };
}

/** Docker's key of a container port: `80/tcp`. */
export function formatPortKey(containerPort: number, protocol: PortProtocol): string {
  return `${containerPort}/${protocol}`;
}

/** A mapping as `docker ps` shows it: `0.0.0.0:8080->80/tcp`. */
export function formatPortMapping(mapping: {
  hostIp: string;
  hostPort: number;
  containerPort: number;
  protocol: PortProtocol;
}): string {
  return `${mapping.hostIp}:${mapping.hostPort}->${formatPortKey(mapping.containerPort, mapping.protocol)}`;
}

/** Why `hostIp` cannot be bound, or undefined when it can. */
function hostIpProblem(hostIp: string): string | undefined {
  if (hostIp.includes(":")) {
    return `IPv6 host addresses are not supported: ${hostIp}`;
  }
  if (!isIpv4(hostIp)) {
    return `invalid IP address: ${hostIp}`;
  }
  const first = Number(hostIp.split(".")[0]);
  if (first >= 224) {
    return `invalid IP address: ${hostIp} is not a unicast address`;
  }
  return undefined;
}

/** `80` or `80-90`, each within [min, 65535], start <= end. */
function parseRange(text: string, min: number): { start: number; end: number } | undefined {
  const single = PORT_PATTERN.test(text) ? Number(text) : undefined;
  if (single !== undefined) {
    return single >= min && single <= PORT_MAX ? { start: single, end: single } : undefined;
  }
  const match = RANGE_PATTERN.exec(text);
  if (!match) {
    return undefined;
  }
  const start = Number(match[1]);
  const end = Number(match[2]);
  return start >= min && end <= PORT_MAX && start <= end ? { start, end } : undefined;
}

/** Docker's `SplitProtoPort`: `80` → tcp, `80/` → tcp, `80/udp` → udp. */
function splitProtocol(text: string): [string, string] {
  const slash = text.indexOf("/");
  if (slash < 0) {
    return [text, "tcp"];
  }
  const protocol = text.slice(slash + 1);
  return [text.slice(0, slash), protocol === "" ? "tcp" : protocol];
}

function isProtocol(value: string): value is PortProtocol {
  return (PROTOCOLS as readonly string[]).includes(value);
}

function fail(part: PortSpecPart, message: string): PortSpecResult {
  return { ok: false, error: { part, message } };
}
