/**
 * Turns the ports of a request (`ports`, `exposedPorts`, `publishAll`) into single-port
 * requests that carry the request field they came from, so a collision or an exhausted
 * range can name it. Parsing errors are 422s naming the part at fault.
 */
import {
  ANY_HOST_IP,
  formatPortKey,
  type PortProtocol,
  type PortRequest,
  type PortSpecInput,
  parseExposedPort,
  parsePortSpec,
} from "@labnet/netplan";
import { invalidField } from "../errors";

/** A port request and the request field it came from (`body.ports[2]`, `body.publishAll`). */
export interface LocatedPortRequest extends PortRequest {
  location: string;
}

/** The port fields of a node creation. */
export interface PortInputs {
  /** `-p` values, as strings or structured. */
  ports?: PortSpecInput[];
  /** `--expose` / `EXPOSE`: `80`, `80/tcp`, `8000-8010/udp`. */
  exposedPorts?: string[];
  /** `-P`: every exposed port without a mapping of its own gets a random host port. */
  publishAll?: boolean;
}

export interface PreparedPorts {
  requests: LocatedPortRequest[];
  /** The node's exposed ports, Docker's keys (`80/tcp`), `-p` ports included, sorted. */
  exposedPorts: string[];
}

/** More would be a typo (`-p 1-65535`), and one transaction holds all of them. */
export const MAX_PORTS_PER_REQUEST = 1024;

/**
 * Parses the port fields of a request body. With `publishAll`, every exposed port that no
 * `ports` entry maps gets a random host port on every address, as `docker run -P` does.
 *
 * @throws DomainError INVALID_FIELD naming `body.ports[i]` (strings), `body.ports[i].hostPort`
 *   (structured), `body.exposedPorts[i]`, or `body.ports` when there are too many.
 */
export function preparePortRequests(input: PortInputs, base = "body"): PreparedPorts {
  const requests: LocatedPortRequest[] = [];
  for (const [i, spec] of (input.ports ?? []).entries()) {
    const parsed = parsePortSpec(spec);
    const at = `${base}.ports[${i}]`;
    if (!parsed.ok) {
      throw invalidField(
        parsed.error.part === "spec" ? at : `${at}.${parsed.error.part}`,
        parsed.error.message,
      );
    }
    requests.push(...parsed.requests.map((request) => ({ ...request, location: at })));
    assertNotTooMany(requests.length, `${base}.ports`);
  }

  const exposed = new Map<string, { containerPort: number; protocol: PortProtocol }>();
  for (const [i, raw] of (input.exposedPorts ?? []).entries()) {
    const parsed = parseExposedPort(raw);
    if (!parsed.ok) {
      throw invalidField(`${base}.exposedPorts[${i}]`, parsed.message);
    }
    for (const port of parsed.ports) {
      exposed.set(formatPortKey(port.containerPort, port.protocol), port);
    }
    assertNotTooMany(exposed.size, `${base}.exposedPorts`);
  }

  if (input.publishAll === true) {
    requests.push(...publishAllRequests([...exposed.values()], requests, `${base}.publishAll`));
    assertNotTooMany(requests.length, `${base}.publishAll`);
  }
  // Docker exposes what it publishes.
  for (const request of requests) {
    exposed.set(formatPortKey(request.containerPort, request.protocol), request);
  }
  return { requests, exposedPorts: sortPortKeys([...exposed.keys()]) };
}

/**
 * `-P`: a random host port on every address for each exposed port that `published` does
 * not map yet.
 */
export function publishAllRequests(
  exposed: readonly { containerPort: number; protocol: PortProtocol }[],
  published: readonly { containerPort: number; protocol: PortProtocol }[],
  location: string,
): LocatedPortRequest[] {
  const mapped = new Set(published.map((p) => formatPortKey(p.containerPort, p.protocol)));
  return exposed
    .filter((port) => !mapped.has(formatPortKey(port.containerPort, port.protocol)))
    .map((port) => ({
      protocol: port.protocol,
      hostIp: ANY_HOST_IP,
      containerPort: port.containerPort,
      location,
    }));
}

/** Parses stored exposed-port keys (`80/tcp`) back; they were validated when stored. */
export function parseExposedKeys(
  keys: readonly string[],
): { containerPort: number; protocol: PortProtocol }[] {
  return keys.flatMap((key) => {
    const parsed = parseExposedPort(key);
    return parsed.ok ? parsed.ports : [];
  });
}

/**
 * Refuses ports for nodes whose network mode has no sandbox of its own to publish into,
 * as Docker does (`conflicting options: port publishing and the container type network mode`).
 */
export function assertCanPublish(networkMode: string, location: string): void {
  if (networkMode === "none" || networkMode === "host" || networkMode.startsWith("container:")) {
    throw invalidField(
      location,
      `conflicting options: port publishing and network mode ${networkMode} (a node publishes ports only on a network)`,
    );
  }
}

function assertNotTooMany(count: number, location: string): void {
  if (count > MAX_PORTS_PER_REQUEST) {
    throw invalidField(location, `too many ports: at most ${MAX_PORTS_PER_REQUEST} per request`);
  }
}

function sortPortKeys(keys: string[]): string[] {
  const parts = (key: string) => {
    const [port = "0", protocol = ""] = key.split("/");
    return { port: Number(port), protocol };
  };
  return keys.sort((a, b) => {
    const x = parts(a);
    const y = parts(b);
    return x.protocol < y.protocol ? -1 : x.protocol > y.protocol ? 1 : x.port - y.port;
  });
}
