/**
 * Published ports as iptables rules, for the complete payload `iptables.ts` renders.
 *
 * nat:
 *   LABNET-PREROUTING  `! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j LABNET-DNAT`
 *                      (traffic from outside and from nodes)
 *   LABNET-OUTPUT      the same jump (the host's own calls to its addresses), and the DNAT
 *                      of each loopback-bound mapping (`-d 127.0.0.1/32`): those answer only
 *                      to the host itself
 *   LABNET-DNAT        one DNAT per other mapping, `-d BIND/32` unless it binds every address
 *   LABNET-POSTROUTING hairpin: `-s T -d T -p P --dport CP -j MASQUERADE`, so a node reaching
 *                      its own published port sees the reply come from its gateway; and
 *                      `-s 127.0.0.0/8 -o BR -j MASQUERADE` for loopback callers
 * filter:
 *   LABNET-FORWARD     `-d T/32 -o BR -p P --dport CP -m conntrack --ctstate DNAT -j ACCEPT` per
 *                      target: only flows that came through a published port, so with icc off
 *                      a neighbour still cannot reach the target directly, while hairpin can
 * raw (only while a loopback-bound mapping exists, or once hooked):
 *   LABNET-RAW         drops loopback-addressed packets arriving on the bridges of those
 *                      mappings: the executor turns route_localnet on for them (a loopback
 *                      caller's packets need it), which must not let nodes reach the host's
 *                      loopback services
 *
 * Mappings on every address deliberately skip loopback destinations (as Docker does without
 * its userland proxy): a published 0.0.0.0:5432 must not capture the host's own connections
 * to a database on 127.0.0.1:5432.
 *
 * Traffic arriving on the bridge for its own node (hairpin) is bridged back out the same
 * port under br_netfilter, so every Labnet host veth has `hairpin on` (see plan.ts).
 */
import type { DesiredPortMapping } from "./desired";
import { FILTER_CHAINS, isLabnetBridge, NAT_CHAINS, RAW_CHAINS } from "./names";
import { isIpv4 } from "./validate";

const LOOPBACK = "127.0.0.0/8";
const PORT_MIN = 1;
const PORT_MAX = 65535;

/** The raw-table hook: first, so no other program's ACCEPT can skip the drops. */
const RAW_HOOK = {
  rule: `-A PREROUTING -j ${RAW_CHAINS.prerouting}`,
  add: `-I PREROUTING 1 -j ${RAW_CHAINS.prerouting}`,
};

/**
 * nat-table rules of the published ports: the jumps into LABNET-DNAT, one DNAT per mapping,
 * the hairpin and loopback MASQUERADEs. Empty without mappings.
 */
export function renderPortNatRules(mappings: readonly DesiredPortMapping[]): string[] {
  assertValidPortMappings(mappings);
  if (mappings.length === 0) {
    return [];
  }
  const sorted = sortMappings(mappings);
  const dnat = NAT_CHAINS.dnat;
  const jump = `! -d ${LOOPBACK} -m addrtype --dst-type LOCAL -j ${dnat}`;
  const lines = [`-A ${NAT_CHAINS.prerouting} ${jump}`, `-A ${NAT_CHAINS.output} ${jump}`];
  for (const m of sorted) {
    const chain = isLoopbackBound(m) ? NAT_CHAINS.output : dnat;
    const bind = m.bindAddress === undefined ? "" : ` -d ${m.bindAddress}/32`;
    lines.push(
      `-A ${chain}${bind} -p ${m.protocol} -m ${m.protocol} --dport ${m.hostPort} -j DNAT --to-destination ${m.targetAddress}:${m.targetPort}`,
    );
  }
  const postrouting = NAT_CHAINS.postrouting;
  lines.push(
    ...unique(
      sorted.map(
        (m) =>
          `-A ${postrouting} -s ${m.targetAddress}/32 -d ${m.targetAddress}/32 -p ${m.protocol} -m ${m.protocol} --dport ${m.targetPort} -j MASQUERADE`,
      ),
    ),
  );
  for (const bridge of routeLocalnetBridges(mappings)) {
    lines.push(`-A ${postrouting} -s ${LOOPBACK} -o ${bridge} -j MASQUERADE`);
  }
  return lines;
}

/** filter-table rules: accept the published (DNATed) flows towards each target. Empty without mappings. */
export function renderPortForwardRules(mappings: readonly DesiredPortMapping[]): string[] {
  assertValidPortMappings(mappings);
  return unique(
    sortMappings(mappings).map(
      (m) =>
        `-A ${FILTER_CHAINS.forward} -d ${m.targetAddress}/32 -o ${m.bridge} -p ${m.protocol} -m ${m.protocol} --dport ${m.targetPort} -m conntrack --ctstate DNAT -j ACCEPT`,
    ),
  );
}

/**
 * The raw-table section (`*raw` ... `COMMIT`), or nothing when no loopback-bound mapping
 * exists and Labnet never hooked the raw table on this host (`rawRules`: the observed raw rules).
 * Once hooked, the chain is always declared, so dropping the last mapping empties it.
 */
export function renderPortRawTable(
  mappings: readonly DesiredPortMapping[],
  rawRules: ReadonlySet<string> | undefined,
): string[] {
  assertValidPortMappings(mappings);
  const bridges = routeLocalnetBridges(mappings);
  const hooked = rawRules?.has(RAW_HOOK.rule) === true;
  if (bridges.length === 0 && !hooked) {
    return [];
  }
  const chain = RAW_CHAINS.prerouting;
  const lines = ["*raw", `:${chain} - [0:0]`];
  if (!hooked) {
    lines.push(RAW_HOOK.add);
  }
  for (const bridge of bridges) {
    lines.push(
      `-A ${chain} -d ${LOOPBACK} -i ${bridge} -j DROP`,
      `-A ${chain} -s ${LOOPBACK} -i ${bridge} -j DROP`,
    );
  }
  lines.push("COMMIT");
  return lines;
}

/**
 * Bridges that need `route_localnet` on: those a loopback-bound mapping targets. Its callers
 * (the host itself) are DNATed there with a loopback source, which the kernel routes out of
 * a non-loopback device only with route_localnet (MASQUERADE then rewrites the source).
 */
export function routeLocalnetBridges(mappings: readonly DesiredPortMapping[]): string[] {
  return [...new Set(mappings.filter(isLoopbackBound).map((m) => m.bridge))].sort();
}

/** Bound to a loopback address (`127.0.0.1`): answers only to the host itself. */
function isLoopbackBound(mapping: DesiredPortMapping): boolean {
  return mapping.bindAddress?.startsWith("127.") === true;
}

/** Throws on the first mapping that must not reach `iptables-restore`. */
export function assertValidPortMappings(mappings: readonly DesiredPortMapping[]): void {
  for (const m of mappings) {
    if (m.protocol !== "tcp" && m.protocol !== "udp") {
      fail(m, "protocol");
    }
    if (m.bindAddress !== undefined && (!isIpv4(m.bindAddress) || m.bindAddress === "0.0.0.0")) {
      fail(m, "bindAddress (omit it for every address)");
    }
    if (!isPort(m.hostPort) || !isPort(m.targetPort)) {
      fail(m, "port");
    }
    if (!isIpv4(m.targetAddress)) {
      fail(m, "targetAddress");
    }
    if (!isLabnetBridge(m.bridge)) {
      fail(m, "bridge");
    }
  }
}

function sortMappings(mappings: readonly DesiredPortMapping[]): DesiredPortMapping[] {
  return [...mappings].sort(
    (a, b) =>
      compare(a.protocol, b.protocol) ||
      a.hostPort - b.hostPort ||
      compare(a.bindAddress ?? "", b.bindAddress ?? "") ||
      compare(a.targetAddress, b.targetAddress) ||
      a.targetPort - b.targetPort,
  );
}

function isPort(value: number): boolean {
  return Number.isInteger(value) && value >= PORT_MIN && value <= PORT_MAX;
}

/** Keeps the first of equal lines (two host ports on one container port share their accept). */
function unique(lines: string[]): string[] {
  return [...new Set(lines)];
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function fail(mapping: DesiredPortMapping, what: string): never {
  throw new Error(`invalid desired state: port mapping ${JSON.stringify(mapping)} ${what}`);
}
