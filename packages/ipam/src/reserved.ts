/**
 * Address space a lab host must never route to a bridge, a LAN or a node: what the host's own
 * stack, every other host and every router give a meaning of their own. A bridge on 127.0.0.0/8
 * takes the host's loopback, on 169.254.0.0/16 a cloud's metadata service, on 224.0.0.0/4 the
 * multicast routes. Docker checks none of this; Labnet refuses it.
 */
import { type Cidr, cidrsOverlap, formatCidr, requireCidr } from "./cidr";

/** One reserved block and what it is, for the messages. */
export interface ReservedBlock {
  readonly cidr: Cidr;
  readonly what: string;
}

function block(subnet: string, what: string): ReservedBlock {
  return { cidr: requireCidr(subnet), what };
}

/** The blocks (RFC 6890), in address order. */
export const RESERVED_BLOCKS: readonly ReservedBlock[] = Object.freeze([
  block("0.0.0.0/8", '"this network" (RFC 1122)'),
  block("127.0.0.0/8", "loopback"),
  block("169.254.0.0/16", "link-local (where cloud metadata services answer)"),
  block("224.0.0.0/4", "multicast"),
  block("240.0.0.0/4", "reserved, with the broadcast address 255.255.255.255"),
]);

/**
 * Why subnet `cidr` must not be a network's, or undefined when it may.
 *
 * @example reservedSubnetProblem(requireCidr("127.0.0.0/8")) // "it is loopback (127.0.0.0/8), which no lab host may route to a bridge"
 */
export function reservedSubnetProblem(cidr: Cidr): string | undefined {
  const hit = RESERVED_BLOCKS.find((b) => cidrsOverlap(b.cidr, cidr));
  if (hit === undefined) {
    return undefined;
  }
  const verb = hit.cidr.prefix <= cidr.prefix ? "is" : "overlaps";
  return `it ${verb} ${hit.what} (${formatCidr(hit.cidr)}), which no lab host may route to a bridge`;
}
