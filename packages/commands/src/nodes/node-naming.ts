/**
 * Syntax of how a node is called and resolves names: hostname, resolver settings and
 * extra hosts (aliases: `checkAliases` in attach.ts). Pure. The OpenAPI schema already keeps
 * odd characters out (they would end up in the node's resolv.conf and hosts files); these
 * checks say in words what else is wrong (label lengths, dashes, addresses, duplicates).
 */
import { isIpv4 } from "@labnet/ipam";
import { dnsNameProblem } from "../dns-names";
import { DomainError, type FieldError } from "../errors";

/** `--add-host name:host-gateway`: the gateway of the node's first network. */
const HOST_GATEWAY = "host-gateway";

/** Resolver settings of a node, as stored. */
export interface NodeDnsSettings {
  servers: string[];
  search: string[];
  options: string[];
}

/** What a create request says about naming, as the API delivers it. */
export interface NodeNamingInput {
  hostname?: string;
  dns?: { servers?: string[]; search?: string[]; options?: string[] };
  extraHosts?: string[];
}

/** The same, checked and in storage form. */
export interface NodeNaming {
  hostname: string | null;
  dns: NodeDnsSettings;
  /** name → IPv4 address or `host-gateway`. */
  extraHosts: Record<string, string>;
}

/**
 * Checks hostname (RFC 1123), dns and extraHosts, and returns them in storage form.
 *
 * @throws DomainError INVALID_FIELD listing every problem with its location.
 * @example checkNodeNaming({ hostname: "-web" }, "body")
 * // throws: body.hostname: invalid hostname -web: label "-web" must start and end with a letter or digit
 */
export function checkNodeNaming(input: NodeNamingInput, location: string): NodeNaming {
  const errors: FieldError[] = [];
  if (input.hostname !== undefined) {
    const problem = dnsNameProblem(input.hostname);
    if (problem !== undefined) {
      errors.push({
        location: `${location}.hostname`,
        message: `invalid hostname ${input.hostname}: ${problem}`,
      });
    }
  }

  const servers = input.dns?.servers ?? [];
  servers.forEach((server, i) => {
    const at = `${location}.dns.servers[${i}]`;
    if (!isIpv4(server)) {
      errors.push({ location: at, message: `${server} is not an IPv4 address` });
    } else if (servers.indexOf(server) !== i) {
      errors.push({ location: at, message: `${server} is listed twice` });
    }
  });
  const search = input.dns?.search ?? [];
  search.forEach((domain, i) => {
    const problem = dnsNameProblem(domain);
    if (problem !== undefined) {
      errors.push({
        location: `${location}.dns.search[${i}]`,
        message: `invalid search domain ${domain}: ${problem}`,
      });
    }
  });

  const extraHosts: Record<string, string> = {};
  (input.extraHosts ?? []).forEach((entry, i) => {
    const at = `${location}.extraHosts[${i}]`;
    const colon = entry.indexOf(":");
    const name = colon < 0 ? entry : entry.slice(0, colon);
    const address = colon < 0 ? "" : entry.slice(colon + 1);
    const nameProblem = colon < 0 ? undefined : dnsNameProblem(name);
    const problem =
      colon < 0
        ? `${entry} is not name:address`
        : nameProblem !== undefined
          ? `invalid host name ${name}: ${nameProblem}`
          : address === HOST_GATEWAY || isIpv4(address)
            ? undefined
            : `${address} is not an IPv4 address or ${HOST_GATEWAY}`;
    if (problem !== undefined) {
      errors.push({ location: at, message: problem });
    } else if (Object.keys(extraHosts).some((n) => n.toLowerCase() === name.toLowerCase())) {
      errors.push({ location: at, message: `${name} is listed twice` });
    } else {
      extraHosts[name] = address;
    }
  });

  const [first] = errors;
  if (first !== undefined) {
    throw new DomainError("INVALID_FIELD", `${first.location}: ${first.message}`, errors);
  }
  return {
    hostname: input.hostname ?? null,
    dns: { servers, search, options: input.dns?.options ?? [] },
    extraHosts,
  };
}
