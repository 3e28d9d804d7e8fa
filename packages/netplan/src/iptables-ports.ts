/**
 * Published ports as iptables rules, for the complete payload `iptables.ts` renders. The rules
 * of one bridge's ports live in that bridge's own chains (names.ts, `bridgeChainName`), so a
 * node's ports coming or going rewrite only its network's chains.
 *
 * nat:
 *   LABNET-PREROUTING  `! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j LABNET-DNAT`
 *                      (traffic from outside and from nodes)
 *   LABNET-OUTPUT      the jump without the loopback exception (the host's own calls to its
 *                      addresses and to 127.0.0.1, which mappings on every address answer, as
 *                      Docker's do), and the DNAT of each loopback-bound mapping
 *                      (`-d 127.0.0.1/32`): those answer only to the host itself
 *   LABNET-DNAT        a jump to each bridge's LABNET-DNAT-<bridge>, which holds one DNAT per
 *                      other mapping onto it, `-d BIND/32` unless it binds every address
 *   LABNET-POST-<br>   (entered from LABNET-POSTROUTING for `-o BR`) hairpin:
 *                      `-s T -d T -p P --dport CP -j MASQUERADE`, so a node reaching its own
 *                      published port sees the reply come from its gateway; and
 *                      `-s 127.0.0.0/8 -o BR -j MASQUERADE` for loopback callers
 * filter:
 *   LABNET-FWD-<br>    (entered from LABNET-FORWARD for `-o BR`) after the replies' accept:
 *                      `-d T/32 -o BR -p P --dport CP -m conntrack --ctstate DNAT -j ACCEPT` per
 *                      target: only flows that came through a published port, so with icc off
 *                      a neighbour still cannot reach the target directly, while hairpin can
 * raw (only while a mapping answers on loopback, or once hooked):
 *   LABNET-RAW         drops loopback-addressed packets arriving on the bridges of those
 *                      mappings: the executor turns route_localnet on for them (a loopback
 *                      caller's packets need it), which must not let nodes reach the host's
 *                      loopback services (Docker 28 drops them the same way)
 *
 * A mapping on every address answers on the host's 127.0.0.1 too, as Docker's do (its
 * userland proxy listens there; without the proxy its OUTPUT jump has no loopback exception):
 * `curl 127.0.0.1:8080` on the lab host reaches `-p 8080:80`. Like Docker's without the proxy,
 * it then takes the host's own loopback connections to that port: publish a specific address
 * to leave a host service on 127.0.0.1 alone. Outside callers never reach loopback
 * (PREROUTING keeps the exception).
 *
 * Traffic arriving on the bridge for its own node (hairpin) is bridged back out the same
 * port under br_netfilter, so every Labnet host veth has `hairpin on` (see plan.ts).
 */
import type { DesiredPortMapping } from "./desired";
import { bridgeChainName, isDesiredBridgeName, NAT_CHAINS, RAW_CHAINS } from "./names";
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
 * Top-level nat rules of the published ports: the jumps into LABNET-DNAT from prerouting (not
 * for loopback destinations) and output (for them too: the host's own 127.0.0.1), and the DNAT
 * of each loopback-bound mapping (in LABNET-OUTPUT: they answer only to the host itself).
 * Empty without mappings.
 */
export function renderPortJumps(mappings: readonly DesiredPortMapping[]): string[] {
  assertValidPortMappings(mappings);
  if (mappings.length === 0) {
    return [];
  }
  const jump = `-m addrtype --dst-type LOCAL -j ${NAT_CHAINS.dnat}`;
  return [
    `-A ${NAT_CHAINS.prerouting} ! -d ${LOOPBACK} ${jump}`,
    `-A ${NAT_CHAINS.output} ${jump}`,
    ...sortMappings(mappings)
      .filter(isLoopbackBound)
      .map((m) => `-A ${NAT_CHAINS.output}${dnatRule(m)}`),
  ];
}

/** The DNAT of each mapping onto `bridge` but the loopback-bound ones, for its LABNET-DNAT-<bridge>. */
export function renderBridgeDnatRules(bridge: string, mappings: readonly DesiredPortMapping[]): string[] {
  assertValidPortMappings(mappings);
  const chain = bridgeChainName("dnat", bridge);
  return sortMappings(mappings)
    .filter((m) => m.bridge === bridge && !isLoopbackBound(m))
    .map((m) => `-A ${chain}${dnatRule(m)}`);
}

/**
 * MASQUERADEs out of `bridge` for its LABNET-POST-<bridge>: the hairpin of each target (a node
 * reaching its own published port sees the reply come from its gateway), and loopback callers
 * when a loopback-bound mapping targets the bridge.
 */
export function renderBridgePostRules(bridge: string, mappings: readonly DesiredPortMapping[]): string[] {
  assertValidPortMappings(mappings);
  const chain = bridgeChainName("post", bridge);
  const lines = unique(
    sortMappings(mappings)
      .filter((m) => m.bridge === bridge)
      .map(
        (m) =>
          `-A ${chain} -s ${m.targetAddress}/32 -d ${m.targetAddress}/32 -p ${m.protocol} -m ${m.protocol} --dport ${m.targetPort} -j MASQUERADE`,
      ),
  );
  if (routeLocalnetBridges(mappings).includes(bridge)) {
    lines.push(`-A ${chain} -s ${LOOPBACK} -o ${bridge} -j MASQUERADE`);
  }
  return lines;
}

/** Accepts of the published (DNATed) flows towards each target on `bridge`, for its LABNET-FWD-<bridge>. */
export function renderBridgePortAccepts(bridge: string, mappings: readonly DesiredPortMapping[]): string[] {
  assertValidPortMappings(mappings);
  const chain = bridgeChainName("forward", bridge);
  return unique(
    sortMappings(mappings)
      .filter((m) => m.bridge === bridge)
      .map(
        (m) =>
          `-A ${chain} -d ${m.targetAddress}/32 -o ${m.bridge} -p ${m.protocol} -m ${m.protocol} --dport ${m.targetPort} -m conntrack --ctstate DNAT -j ACCEPT`,
      ),
  );
}

/** ` [-d BIND/32] -p P -m P --dport HOST -j DNAT --to-destination T:PORT` */
function dnatRule(m: DesiredPortMapping): string {
  const bind = m.bindAddress === undefined ? "" : ` -d ${m.bindAddress}/32`;
  return `${bind} -p ${m.protocol} -m ${m.protocol} --dport ${m.hostPort} -j DNAT --to-destination ${m.targetAddress}:${m.targetPort}`;
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
 * Bridges that need `route_localnet` on: those a mapping answering on loopback targets (one
 * bound to 127.0.0.1, or on every address). Its callers (the host itself) are DNATed there
 * with a loopback source, which the kernel routes out of a non-loopback device only with
 * route_localnet (MASQUERADE then rewrites the source).
 */
export function routeLocalnetBridges(mappings: readonly DesiredPortMapping[]): string[] {
  return [...new Set(mappings.filter(answersLoopback).map((m) => m.bridge))].sort();
}

/** Answers the host's own 127.0.0.1: bound to loopback, or to every address. */
function answersLoopback(mapping: DesiredPortMapping): boolean {
  return mapping.bindAddress === undefined || isLoopbackBound(mapping);
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
    if (!isDesiredBridgeName(m.bridge)) {
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
