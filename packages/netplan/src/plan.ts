/**
 * The planner: desired state + observed state of one host -> the kernel work that
 * converges them, as `ip -batch` lines and one `iptables-restore` payload.
 *
 * "Ensure" semantics: only what differs is rendered, so replaying a job, or planning
 * again after a half-applied one, converges; a converged host yields no `ip` lines.
 * Labnet owns only names it generates and bridges it marks (names.ts); nothing else is ever deleted.
 */
import { macFromIpv4 } from "@labnet/ipam";
import type { DesiredBridge, DesiredEndpoint, DesiredHost, DesiredSandbox } from "./desired";
import { renderIptablesRestore } from "./iptables";
import { minimalRestore } from "./iptables-applied";
import { isMacvlanEndpointLink, renderMacvlanCreate } from "./macvlan";
import {
  isLabnetBridge,
  isLabnetHostVeth,
  isLabnetMacvlanTemp,
  isLabnetOwnedBridge,
  isLabnetTempPeer,
  isLabnetVxlan,
  isSandboxIfName,
  isValidNetnsName,
  LABNET_LINK_ALIAS,
  macvlanTempName,
  tempPeerName,
} from "./names";
import type { ObservedHost, ObservedLink } from "./observed";
import { planOverlayFdb, planOverlayLink, planOverlayNeighbours } from "./overlay";
import { assertValidDesiredHost } from "./validate";

/** Lines for one `ip -n <netns> -batch -` process. */
export interface SandboxBatch {
  netns: string;
  lines: string[];
}

/**
 * Kernel work for one host, applied in field order: `netnsAdd` (one `ip -batch`),
 * `hostBatch` (one `ip -batch` in the host namespace), each of `sandboxBatches`, then
 * `iptablesRestore` (one `iptables-restore --noflush`), then `netnsDelete` (one `ip -batch`).
 */
export interface HostPlan {
  netnsAdd: string[];
  hostBatch: string[];
  sandboxBatches: SandboxBatch[];
  /**
   * What of the complete Labnet rule set the observed kernel lacks (`minimalRestore`): the
   * chains that differ, missing hooks, deletions of stale Labnet chains; "" when the kernel
   * already holds exactly the set. Applying it again is harmless.
   */
  iptablesRestore: string;
  netnsDelete: string[];
  /**
   * Overlays' vxlan forwarding entries to delete and add (`fdb ...` lines for one
   * `bridge -batch -`), run after the host batch made the devices; absent when none differ.
   */
  fdbBatch?: string[];
}

export interface PlanOptions {
  /** This executor's sandbox netns prefix (`ln-` by default); pruning is limited to it. */
  netnsPrefix: string;
  /** Also delete Labnet-owned objects that are not desired (netns, host veths, bridges). */
  prune: boolean;
}

/**
 * Plans the kernel work that makes `observed` match `desired`.
 *
 * A desired sandbox is planned when its netns does not exist yet (it is created) or when
 * `observed.sandboxes` has its detail; a desired sandbox that exists without detail is
 * left alone (its host veth is still protected from pruning).
 *
 * @example
 * const plan = planHost(desired, await observeHost(runner, opts), { netnsPrefix: "ln-", prune: false });
 * await applyPlan(runner, plan);
 */
export function planHost(desired: DesiredHost, observed: ObservedHost, options: PlanOptions): HostPlan {
  assertValidDesiredHost(desired, options.netnsPrefix);
  const foreign = foreignBridgeNames(desired, observed);
  if (foreign.length > 0) {
    throw new Error(`bridges held by links that are not Labnet's: ${foreign.join(", ")}`);
  }

  const hostLinks = new Map(observed.links.map((link) => [link.name, link]));
  const hostLinksByIndex = new Map(observed.links.map((link) => [link.index, link]));
  const existingNetns = new Set(observed.netns);
  const bridges = [...desired.bridges].sort((a, b) => compare(a.bridge, b.bridge));
  const sandboxes = [...desired.sandboxes].sort((a, b) => compare(a.netns, b.netns));

  // Host batch sections, concatenated in this order at the end: deletions free names
  // (and kill veth peers) before anything is created; bridges exist before ports join.
  const hostVethDeletes = new Set<string>();
  const bridgeDeletes = new Set<string>();
  const bridgeLines: string[] = [];
  const hostVethFixes: string[] = [];
  const vethCreates: string[] = [];
  const macvlanCreates: string[] = [];

  const netnsAdd: string[] = [];
  const sandboxBatches: SandboxBatch[] = [];

  /**
   * Removes a stale sandbox link. A veth whose peer is a Labnet host veth is deleted from
   * the host side (the host batch runs first, so its name is free by the time the host
   * batch creates a new peer with that name); anything else is deleted inside the sandbox.
   * Returns whether the name is free before the host batch's creations.
   */
  function removeSandboxLink(link: ObservedLink, sandboxDeletes: string[]): boolean {
    const hostPeer = findHostPeer(link, hostLinksByIndex);
    if (hostPeer !== undefined) {
      hostVethDeletes.add(hostPeer.name);
      return true;
    }
    sandboxDeletes.push(`link del ${link.name}`);
    return false;
  }

  for (const bridge of bridges) {
    const existing = hostLinks.get(bridge.bridge);
    if (existing !== undefined && existing.kind !== "bridge") {
      bridgeDeletes.add(bridge.bridge);
    }
    bridgeLines.push(...planBridge(bridge, existing?.kind === "bridge" ? existing : undefined));
  }

  // Overlays: a vxlan device on each overlay's bridge (after the bridges), and its entries.
  const overlayLines: string[] = [];
  const fdbBatch: string[] = [];
  for (const overlay of [...(desired.overlays ?? [])].sort((a, b) => compare(a.vxlan, b.vxlan))) {
    const link = planOverlayLink(overlay, hostLinks.get(overlay.vxlan));
    for (const line of link.deletes) {
      bridgeDeletes.add(line.slice("link del ".length));
    }
    overlayLines.push(
      ...link.lines,
      ...planOverlayNeighbours(overlay, link.created ? [] : (observed.neigh?.[overlay.vxlan] ?? [])),
    );
    fdbBatch.push(...planOverlayFdb(overlay, link.created ? [] : (observed.fdb?.[overlay.vxlan] ?? [])));
  }

  for (const sandbox of sandboxes) {
    const exists = existingNetns.has(sandbox.netns);
    const detail = observed.sandboxes[sandbox.netns];
    if (exists && detail === undefined) {
      continue;
    }
    if (!exists) {
      netnsAdd.push(sandbox.netns);
    }
    const links = exists && detail !== undefined ? detail.links : [];
    const sandboxLinks = new Map(links.map((link) => [link.name, link]));
    const macvlans = sandbox.macvlanEndpoints ?? [];
    const desiredIfNames = new Set([
      ...sandbox.endpoints.map((endpoint) => endpoint.ifName),
      ...macvlans.map((endpoint) => endpoint.ifName),
    ]);
    // A desired macvlan's temporary name is its own loop's business (reused or replaced there).
    const desiredTempNames = new Set(macvlans.map((endpoint) => macvlanTempName(endpoint.endpointId)));

    const loLines: string[] = [];
    const sandboxDeletes: string[] = [];
    const renames: string[] = [];
    const setup: string[] = [];
    let linksChanged = false;

    if (sandboxLinks.get("lo")?.up !== true) {
      loLines.push("link set lo up");
    }

    // Disconnected endpoints and leftovers of an interrupted rename.
    for (const link of links) {
      if (
        desiredIfNames.has(link.name) ||
        desiredTempNames.has(link.name) ||
        !(isSandboxIfName(link.name) || isLabnetTempPeer(link.name) || isLabnetMacvlanTemp(link.name))
      ) {
        continue;
      }
      removeSandboxLink(link, sandboxDeletes);
      linksChanged = true;
    }

    for (const endpoint of sandbox.endpoints) {
      const link = sandboxLinks.get(endpoint.ifName);
      const hostVeth = hostLinks.get(endpoint.hostVeth);
      if (link !== undefined && hostVeth !== undefined && isEndpointPair(link, hostVeth, endpoint)) {
        hostVethFixes.push(...planHostVethDrift(endpoint, hostVeth));
        setup.push(...planSandboxIfDrift(endpoint, link));
        continue;
      }

      linksChanged = true;
      // Whatever holds the name now belongs to another (or a broken) pair.
      const nameIsFree = link === undefined || removeSandboxLink(link, sandboxDeletes);
      if (hostVeth !== undefined) {
        hostVethDeletes.add(endpoint.hostVeth);
      }
      const peerName = nameIsFree ? endpoint.ifName : tempPeerName(endpoint.hostVeth);
      vethCreates.push(
        // The peer cannot be set up in the same command ("Transport endpoint is not
        // connected"); it comes up inside the sandbox. The host end is up but has no
        // carrier until then, so addrgenmode lands before IPv6 autoconf could run.
        `link add ${endpoint.hostVeth} mtu ${endpoint.mtu} master ${endpoint.bridge} up type veth peer name ${peerName} mtu ${endpoint.mtu} address ${endpoint.mac} netns ${sandbox.netns}`,
        `link set ${endpoint.hostVeth} addrgenmode none`,
        // Under br_netfilter a node calling its own published port is bridged back out the
        // port it came in (iptables-ports.ts); a bridge does that only with hairpin on.
        `link set ${endpoint.hostVeth} type bridge_slave hairpin on`,
      );
      if (!nameIsFree) {
        renames.push(`link set ${peerName} name ${endpoint.ifName}`);
      }
      setup.push(
        `link set ${endpoint.ifName} addrgenmode none`,
        `addr replace ${endpoint.address} dev ${endpoint.ifName}`,
        `link set ${endpoint.ifName} up`,
      );
    }

    for (const endpoint of macvlans) {
      const link = sandboxLinks.get(endpoint.ifName);
      if (link !== undefined && isMacvlanEndpointLink(link, endpoint, hostLinks.get(endpoint.parent))) {
        setup.push(...planSandboxIfDrift(endpoint, link));
        continue;
      }
      linksChanged = true;
      const tempName = macvlanTempName(endpoint.endpointId);
      const leftover = sandboxLinks.get(tempName);
      if (leftover !== undefined && leftover.kind !== "macvlan") {
        // Not a macvlan Labnet made under this name. The host batch (which creates the
        // macvlan) runs before the sandbox batch (which frees the name), so the name goes
        // now and the endpoint comes with the next converge.
        sandboxDeletes.push(`link del ${tempName}`);
        continue;
      }
      if (link !== undefined) {
        // Whatever holds ethN goes before the rename (from the host side if it is a veth).
        removeSandboxLink(link, sandboxDeletes);
      }
      // A macvlan left under its temporary name by an interrupted converge is this
      // endpoint's (same id, same network); it is renamed, and drift fixed later if any.
      if (leftover === undefined) {
        macvlanCreates.push(renderMacvlanCreate(endpoint, sandbox.netns));
      }
      renames.push(`link set ${tempName} name ${endpoint.ifName}`);
      setup.push(
        `link set ${endpoint.ifName} addrgenmode none`,
        `addr replace ${endpoint.address} dev ${endpoint.ifName}`,
        `link set ${endpoint.ifName} up`,
      );
    }

    const routes = planDefaultRoute(sandbox, detail?.defaultGateway, linksChanged);
    const lines = [...loLines, ...sandboxDeletes, ...renames, ...setup, ...routes];
    if (lines.length > 0) {
      sandboxBatches.push({ netns: sandbox.netns, lines });
    }
  }

  const netnsDelete: string[] = [];
  if (options.prune) {
    const desiredNetns = new Set(desired.sandboxes.map((sandbox) => sandbox.netns));
    const desiredHostVeths = new Set(
      desired.sandboxes.flatMap((sandbox) => sandbox.endpoints.map((endpoint) => endpoint.hostVeth)),
    );
    const desiredBridges = new Set(desired.bridges.map((bridge) => bridge.bridge));
    const desiredVxlans = new Set((desired.overlays ?? []).map((overlay) => overlay.vxlan));
    const departing = new Set(desired.departingHostVeths ?? []);
    for (const netns of [...observed.netns].sort(compare)) {
      // A file name under /run/netns may hold anything, a newline included; only
      // names that are safe to put on a batch line are ever deleted.
      if (netns.startsWith(options.netnsPrefix) && isValidNetnsName(netns) && !desiredNetns.has(netns)) {
        netnsDelete.push(netns);
      }
    }
    for (const link of [...observed.links].sort((a, b) => compare(a.name, b.name))) {
      if (isLabnetHostVeth(link.name) && !desiredHostVeths.has(link.name)) {
        // Its pair goes with its sandbox's namespace (netnsDelete, below).
        if (!departing.has(link.name)) {
          hostVethDeletes.add(link.name);
        }
      } else if (isLabnetOwnedBridge(link) && !desiredBridges.has(link.name)) {
        bridgeDeletes.add(link.name);
      } else if (isLabnetVxlan(link.name) && !desiredVxlans.has(link.name)) {
        bridgeDeletes.add(link.name);
      } else if (isLabnetMacvlanTemp(link.name)) {
        // Macvlans are created in their sandbox; one on the host was left there by hand.
        hostVethDeletes.add(link.name);
      }
    }
  }

  const hostBatch = [
    ...[...hostVethDeletes].map((name) => `link del ${name}`),
    ...[...bridgeDeletes].map((name) => `link del ${name}`),
    ...bridgeLines,
    ...overlayLines,
    ...hostVethFixes,
    ...vethCreates,
    ...macvlanCreates,
  ];

  const rules = renderIptablesRestore(desired.bridges, observed.iptablesSave, desired.portMappings);
  return {
    netnsAdd,
    hostBatch,
    sandboxBatches,
    iptablesRestore: minimalRestore(rules, observed.iptablesSave),
    netnsDelete,
    ...(fdbBatch.length > 0 ? { fdbBatch } : {}),
  };
}

/**
 * What a plan would change, one line per change (`netns add ns1`, `host: link add ...`,
 * `ns1: addr replace ...`, `iptables: -A LABNET-...`): how far the kernel drifted from the
 * desired state, for a machine whose drift is reported rather than repaired.
 */
export function describePlan(plan: HostPlan): string[] {
  return [
    ...plan.netnsAdd.map((name) => `netns add ${name}`),
    ...plan.hostBatch.map((line) => `host: ${line}`),
    ...plan.sandboxBatches.flatMap((batch) => batch.lines.map((line) => `${batch.netns}: ${line}`)),
    ...(plan.fdbBatch ?? []).map((line) => `fdb: ${line}`),
    ...plan.iptablesRestore
      .split("\n")
      .filter((line) => line.startsWith("-A ") || line.startsWith("-X ") || line.startsWith(":LABNET"))
      .map((line) => `iptables: ${line}`),
    ...plan.netnsDelete.map((name) => `netns del ${name}`),
  ];
}

/** True when the plan has no `ip` work (whatever its iptables payload). */
export function isIpNoop(plan: HostPlan): boolean {
  return (
    plan.netnsAdd.length === 0 &&
    plan.hostBatch.length === 0 &&
    plan.sandboxBatches.length === 0 &&
    plan.netnsDelete.length === 0 &&
    (plan.fdbBatch?.length ?? 0) === 0
  );
}

/**
 * The bridge's own MAC: 02:42 + the bytes of its first gateway (02:42:ac:12:00:01 for
 * 172.18.0.1). Without one a bridge takes the lowest MAC of its ports and changes it when a
 * port comes or goes, so nodes' ARP entries for the gateway go stale for seconds after
 * every connect or disconnect (DNS, egress and published ports stall meanwhile).
 */
function bridgeMac(bridge: DesiredBridge): string | undefined {
  const gateway = bridge.gateways[0]?.split("/")[0];
  return gateway === undefined ? undefined : macFromIpv4(gateway);
}

/**
 * Desired bridges whose chosen name (not `lnbr-<id8>`) is held by a link that is not Labnet's
 * (no LABNET_LINK_ALIAS): the host's own docker0, an uplink. Planning refuses them; the
 * executor fails their networks first (and what depends on them) so the rest converges.
 */
export function foreignBridgeNames(desired: DesiredHost, observed: ObservedHost): string[] {
  const links = new Map(observed.links.map((link) => [link.name, link]));
  return desired.bridges.flatMap(({ bridge }) => {
    const link = links.get(bridge);
    return link !== undefined && !isLabnetBridge(bridge) && !isLabnetOwnedBridge(link) ? [bridge] : [];
  });
}

function planBridge(bridge: DesiredBridge, existing: ObservedLink | undefined): string[] {
  const name = bridge.bridge;
  const mac = bridgeMac(bridge);
  if (existing === undefined) {
    return [
      `link add ${name}${mac === undefined ? "" : ` address ${mac}`} mtu ${bridge.mtu} type bridge`,
      // `link add` takes no alias: a chosen name is marked Labnet's right after.
      ...(isLabnetBridge(name) ? [] : [`link set ${name} alias ${LABNET_LINK_ALIAS}`]),
      // Must precede `up`: set in the same command it lands after the link-local address.
      `link set ${name} addrgenmode none`,
      ...bridge.gateways.map((gateway) => `addr replace ${gateway} dev ${name}`),
      `link set ${name} up`,
    ];
  }
  const lines: string[] = [];
  if (existing.mtu !== bridge.mtu) {
    lines.push(`link set ${name} mtu ${bridge.mtu}`);
  }
  if (mac !== undefined && existing.mac !== mac) {
    lines.push(`link set ${name} address ${mac}`);
  }
  for (const address of existing.addresses) {
    if (!bridge.gateways.includes(address)) {
      lines.push(`addr del ${address} dev ${name}`);
    }
  }
  for (const gateway of bridge.gateways) {
    if (!existing.addresses.includes(gateway)) {
      lines.push(`addr replace ${gateway} dev ${name}`);
    }
  }
  if (!existing.up) {
    lines.push(`link set ${name} up`);
  }
  return lines;
}

function planHostVethDrift(endpoint: DesiredEndpoint, hostVeth: ObservedLink): string[] {
  const lines: string[] = [];
  if (hostVeth.mtu !== endpoint.mtu) {
    lines.push(`link set ${endpoint.hostVeth} mtu ${endpoint.mtu}`);
  }
  if (hostVeth.master !== endpoint.bridge) {
    lines.push(`link set ${endpoint.hostVeth} master ${endpoint.bridge}`);
  }
  // A port (re)joining a bridge starts with hairpin off.
  if (hostVeth.master !== endpoint.bridge || hostVeth.hairpin === false) {
    lines.push(`link set ${endpoint.hostVeth} type bridge_slave hairpin on`);
  }
  if (!hostVeth.up) {
    lines.push(`link set ${endpoint.hostVeth} up`);
  }
  return lines;
}

function planSandboxIfDrift(
  endpoint: Pick<DesiredEndpoint, "ifName" | "address" | "mtu">,
  link: ObservedLink,
): string[] {
  const lines: string[] = [];
  if (link.mtu !== endpoint.mtu) {
    lines.push(`link set ${endpoint.ifName} mtu ${endpoint.mtu}`);
  }
  for (const address of link.addresses) {
    if (address !== endpoint.address) {
      lines.push(`addr del ${address} dev ${endpoint.ifName}`);
    }
  }
  if (!link.addresses.includes(endpoint.address)) {
    lines.push(`addr replace ${endpoint.address} dev ${endpoint.ifName}`);
  }
  if (!link.up) {
    lines.push(`link set ${endpoint.ifName} up`);
  }
  return lines;
}

function planDefaultRoute(
  sandbox: DesiredSandbox,
  observedGateway: string | undefined,
  linksChanged: boolean,
): string[] {
  if (sandbox.defaultGateway !== undefined) {
    // A replaced or deleted link may have taken the observed route with it.
    return linksChanged || observedGateway !== sandbox.defaultGateway
      ? [`route replace default via ${sandbox.defaultGateway}`]
      : [];
  }
  // flush, not del: the route may already be gone with a link deleted in this batch.
  return observedGateway !== undefined ? ["route flush exact 0.0.0.0/0"] : [];
}

/**
 * The Labnet host veth paired with `link`, if any. Both ends must point at each other
 * (`link_index` on each side is the other's ifindex), so a macvlan's parent or a peer
 * in some other namespace is never mistaken for one.
 */
function findHostPeer(
  link: ObservedLink,
  hostLinksByIndex: ReadonlyMap<number, ObservedLink>,
): ObservedLink | undefined {
  if (link.kind !== "veth" || link.peerIndex === undefined) {
    return undefined;
  }
  const peer = hostLinksByIndex.get(link.peerIndex);
  if (
    peer === undefined ||
    peer.kind !== "veth" ||
    !isLabnetHostVeth(peer.name) ||
    peer.peerIndex !== link.index
  ) {
    return undefined;
  }
  return peer;
}

function isEndpointPair(link: ObservedLink, hostVeth: ObservedLink, endpoint: DesiredEndpoint): boolean {
  return (
    link.kind === "veth" &&
    hostVeth.kind === "veth" &&
    link.peerIndex === hostVeth.index &&
    hostVeth.peerIndex === link.index &&
    link.mac === endpoint.mac
  );
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
