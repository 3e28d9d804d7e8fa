/**
 * The macvlan driver's kernel side: an endpoint is a macvlan sub-interface of a host link
 * (its parent), created straight into the node's sandbox (`netns` at creation, as veth peers
 * are) under a temporary Labnet name and renamed `ethN` there. Nodes on two hosts whose
 * parents share an Ethernet segment reach each other directly (seed 002); nothing of an
 * endpoint stays on the host, so there is no bridge, gateway address or rule to plan.
 */
import type { DesiredMacvlanEndpoint, MacvlanMode } from "./desired";
import { macvlanTempName } from "./names";
import type { ObservedLink } from "./observed";

/** The modes Labnet builds, Docker's `macvlan_mode` values; `bridge` is the default. */
export const MACVLAN_MODES: readonly MacvlanMode[] = ["bridge", "private", "vepa", "passthru"];

/** Docker's default macvlan mode. */
export const DEFAULT_MACVLAN_MODE: MacvlanMode = "bridge";

/** Docker's default parent when none is given (`-o parent=eth0`). */
export const DEFAULT_MACVLAN_PARENT = "eth0";

/** True for a mode in {@link MACVLAN_MODES}. */
export function isMacvlanMode(value: string): value is MacvlanMode {
  return (MACVLAN_MODES as readonly string[]).includes(value);
}

/**
 * The host-batch line that creates an endpoint's macvlan in its sandbox, under its temporary
 * name. In passthru mode the kernel gives the macvlan the parent's MAC whatever is asked, so
 * none is asked.
 *
 * @example
 * renderMacvlanCreate(endpoint, "ln-abcdefghij234567")
 * // "link add lnsabcdefghij link eth0 address 02:42:64:00:00:01 mtu 1500 netns ln-abcdefghij234567 type macvlan mode bridge"
 */
export function renderMacvlanCreate(endpoint: DesiredMacvlanEndpoint, netns: string): string {
  const address = endpoint.mode === "passthru" ? "" : ` address ${endpoint.mac}`;
  return `link add ${macvlanTempName(endpoint.endpointId)} link ${endpoint.parent}${address} mtu ${endpoint.mtu} netns ${netns} type macvlan mode ${endpoint.mode}`;
}

/**
 * True when `link` (a sandbox link) is this endpoint's macvlan: kind macvlan, in the mode
 * asked, with the endpoint's MAC (except in passthru, see {@link renderMacvlanCreate}), on the
 * parent when the parent was observed (its `link_index` is the parent's ifindex in the host
 * namespace; a converge that observed only Labnet's host links cannot tell, and trusts it).
 */
export function isMacvlanEndpointLink(
  link: ObservedLink,
  endpoint: DesiredMacvlanEndpoint,
  parent: ObservedLink | undefined,
): boolean {
  return (
    link.kind === "macvlan" &&
    (link.macvlanMode === undefined || link.macvlanMode === endpoint.mode) &&
    (endpoint.mode === "passthru" || link.mac === endpoint.mac) &&
    (parent === undefined || link.peerIndex === undefined || link.peerIndex === parent.index)
  );
}
