/**
 * Labnet's firewall, rendered as one `iptables-restore --noflush` payload.
 *
 * Labnet's rules live only in its own chains. Declaring a user chain (`:CHAIN - [0:0]`)
 * in a `--noflush` payload creates it or flushes it. The rendered payload is the complete rule
 * set of the host; what reaches the kernel is only the chains that differ from what it holds
 * (`minimalRestore`, iptables-applied.ts), so a change to one network's ports rewrites that
 * network's chains, and a removed network's chains are deleted.
 * Built-in chains are never flushed; they only get a jump ("hook") into Labnet's chain,
 * and only when the observed `iptables-save` does not already have it.
 */
import type { DesiredBridge, DesiredPortMapping } from "./desired";
import { renderIccRules, renderIsolationRules } from "./iptables-isolation";
import {
  assertValidPortMappings,
  renderBridgeDnatRules,
  renderBridgePortAccepts,
  renderBridgePostRules,
  renderPortJumps,
  renderPortRawTable,
} from "./iptables-ports";
import { readIptablesTables } from "./iptables-save";
import { bridgeChainName, FILTER_CHAINS, NAT_CHAINS } from "./names";

interface Hook {
  /** Built-in chain the jump is looked for in. */
  chain: string;
  /** Line that adds the jump when it is missing. */
  add: string;
  target: string;
}

const NAT_HOOKS: readonly Hook[] = [
  { chain: "PREROUTING", add: `-A PREROUTING -j ${NAT_CHAINS.prerouting}`, target: NAT_CHAINS.prerouting },
  { chain: "OUTPUT", add: `-A OUTPUT -j ${NAT_CHAINS.output}`, target: NAT_CHAINS.output },
  {
    chain: "POSTROUTING",
    add: `-A POSTROUTING -j ${NAT_CHAINS.postrouting}`,
    target: NAT_CHAINS.postrouting,
  },
];

// First in FORWARD so Labnet works when the host's policy is DROP (Docker installed)
// and before other programs' chains; it only decides on traffic of Labnet bridges.
const FILTER_HOOKS: readonly Hook[] = [
  { chain: "FORWARD", add: `-I FORWARD 1 -j ${FILTER_CHAINS.forward}`, target: FILTER_CHAINS.forward },
];

/**
 * Renders the complete Labnet rule set for `bridges` as an `iptables-restore --noflush`
 * payload, with the published ports of `portMappings` (iptables-ports.ts). Hooks already
 * present in `iptablesSave` are not added again.
 *
 * @example
 * renderIptablesRestore([{ bridge: "lnbr-abcdefgh", subnets: ["172.30.0.0/24"], internal: false, ... }], "")
 * // *nat ... -A LABNET-POSTROUTING -s 172.30.0.0/24 ! -o lnbr-abcdefgh -j MASQUERADE ... COMMIT
 */
export function renderIptablesRestore(
  bridges: readonly DesiredBridge[],
  iptablesSave: string,
  portMappings: readonly DesiredPortMapping[] = [],
): string {
  assertValidPortMappings(portMappings);
  const existing = parseIptablesSave(iptablesSave);
  const sorted = [...bridges].sort((a, b) => compare(a.bridge, b.bridge));
  const external = sorted.filter((bridge) => !bridge.internal);
  const portsOf = new Map<string, DesiredPortMapping[]>();
  for (const mapping of portMappings) {
    portsOf.set(mapping.bridge, [...(portsOf.get(mapping.bridge) ?? []), mapping]);
  }
  const lines: string[] = [];

  lines.push("*nat");
  for (const chain of [NAT_CHAINS.prerouting, NAT_CHAINS.output, NAT_CHAINS.postrouting, NAT_CHAINS.dnat]) {
    lines.push(`:${chain} - [0:0]`);
  }
  for (const bridge of external) {
    lines.push(
      `:${bridgeChainName("dnat", bridge.bridge)} - [0:0]`,
      `:${bridgeChainName("post", bridge.bridge)} - [0:0]`,
    );
  }
  lines.push(...missingHooks(NAT_HOOKS, existing.get("nat")));
  lines.push(...renderPortJumps(portMappings));
  lines.push(...external.map((b) => `-A ${NAT_CHAINS.dnat} -j ${bridgeChainName("dnat", b.bridge)}`));
  lines.push(...renderNatRules(sorted));
  for (const bridge of external) {
    const ports = portsOf.get(bridge.bridge) ?? [];
    lines.push(
      ...renderBridgeDnatRules(bridge.bridge, ports),
      ...renderBridgePostRules(bridge.bridge, ports),
    );
  }
  lines.push("COMMIT");

  lines.push("*filter");
  for (const chain of [
    FILTER_CHAINS.forward,
    FILTER_CHAINS.isolation,
    FILTER_CHAINS.isolationAny,
    FILTER_CHAINS.isolationIsolated,
  ]) {
    lines.push(`:${chain} - [0:0]`);
  }
  for (const bridge of external) {
    lines.push(`:${bridgeChainName("forward", bridge.bridge)} - [0:0]`);
  }
  lines.push(...missingHooks(FILTER_HOOKS, existing.get("filter")));
  lines.push(...renderForwardRules(sorted));
  for (const bridge of external) {
    lines.push(...renderBridgeForwardRules(bridge, portsOf.get(bridge.bridge) ?? []));
  }
  lines.push(...renderIsolationRules(sorted));
  lines.push("COMMIT");

  lines.push(...renderPortRawTable(portMappings, existing.get("raw")));

  return `${lines.join("\n")}\n`;
}

function renderNatRules(bridges: readonly DesiredBridge[]): string[] {
  const lines: string[] = [];
  for (const bridge of bridges) {
    if (bridge.internal) {
      continue;
    }
    for (const subnet of bridge.subnets) {
      lines.push(`-A ${NAT_CHAINS.postrouting} -s ${subnet} ! -o ${bridge.bridge} -j MASQUERADE`);
    }
    lines.push(
      `-A ${NAT_CHAINS.postrouting} -o ${bridge.bridge} -j ${bridgeChainName("post", bridge.bridge)}`,
    );
  }
  return lines;
}

/**
 * LABNET-FORWARD, which only changes with the networks: isolation first, then each external
 * bridge's own chain for traffic into it (replies, published ports, its icc drop), then the
 * icc drops of internal bridges and their confinement, then each external bridge's accept of
 * what leaves it.
 */
function renderForwardRules(bridges: readonly DesiredBridge[]): string[] {
  const forward = FILTER_CHAINS.forward;
  if (bridges.length === 0) {
    // A host without networks carries no Labnet rules at all, only empty chains.
    return [];
  }
  // Docker's order: isolation between bridges first; then replies of established flows
  // (a hairpin's reply runs bridge to bridge too); then published ports; then the icc
  // drops within a bridge; then each bridge's own accepts. A bridge's replies, ports and icc
  // drop all match `-o BR`, so they sit together in its chain, in that order.
  const external = bridges.filter((bridge) => !bridge.internal);
  const lines = [
    `-A ${forward} -j ${FILTER_CHAINS.isolation}`,
    ...external.map((b) => `-A ${forward} -o ${b.bridge} -j ${bridgeChainName("forward", b.bridge)}`),
    ...renderIccRules(bridges.filter((bridge) => bridge.internal)),
  ];
  // Internal bridges before the others: their drops must win over another bridge's `-i BR -j ACCEPT`.
  for (const bridge of bridges) {
    if (bridge.internal) {
      lines.push(
        `-A ${forward} -i ${bridge.bridge} -o ${bridge.bridge} -j ACCEPT`,
        `-A ${forward} -i ${bridge.bridge} -j DROP`,
        `-A ${forward} -o ${bridge.bridge} -j DROP`,
      );
    }
  }
  lines.push(...external.map((b) => `-A ${forward} -i ${b.bridge} -j ACCEPT`));
  return lines;
}

/** LABNET-FWD-<bridge> of an external bridge: replies, published-port accepts, the icc drop. */
function renderBridgeForwardRules(bridge: DesiredBridge, ports: readonly DesiredPortMapping[]): string[] {
  const chain = bridgeChainName("forward", bridge.bridge);
  return [
    `-A ${chain} -o ${bridge.bridge} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`,
    ...renderBridgePortAccepts(bridge.bridge, ports),
    ...renderIccRules([bridge], chain),
  ];
}

function missingHooks(hooks: readonly Hook[], rules: ReadonlySet<string> | undefined): string[] {
  return hooks.filter((hook) => !rules?.has(`-A ${hook.chain} -j ${hook.target}`)).map((hook) => hook.add);
}

/** Rule lines (`-A ...`) of each table in `iptables-save` output, whitespace-normalized. */
export function parseIptablesSave(text: string): Map<string, Set<string>> {
  const tables = new Map<string, Set<string>>();
  for (const [name, lines] of readIptablesTables(text)) {
    tables.set(name, new Set(lines.filter((line) => line.kind === "rule").map((line) => line.text)));
  }
  return tables;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
