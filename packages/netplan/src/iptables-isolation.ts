/**
 * Isolation rules of Labnet's bridges, rendered into the LABNET-ISOLATION chain, which
 * LABNET-FORWARD jumps to before any accept (see iptables.ts).
 *
 * - Between bridges: traffic from one Labnet bridge to another is dropped unless both
 *   have isolation off (Docker's DOCKER-ISOLATION stages, where every bridge is
 *   isolated). Rendered per isolated bridge B as `-i B -o lnbr-+ DROP` and
 *   `-i lnbr-+ -o B DROP`: O(bridges) rules instead of one per pair. Traffic that stays
 *   on B must not hit those two, so an isolated bridge first RETURNs its own traffic.
 * - Within a bridge (Docker's enable_icc=false): `-i B -o B DROP`, rendered by
 *   `renderIccRules` into the bridge's chain after the published-port accepts, as Docker
 *   orders them, so a node still reaches its own published port (hairpin) with icc off.
 *   br_netfilter makes bridged frames between two ports of B traverse FORWARD with
 *   in = out = B, which is what this matches; without br_netfilter the rule would never
 *   see them, so the API refuses icc=false on hosts that lack it.
 */
import type { DesiredBridge } from "./desired";
import { BRIDGE_WILDCARD, FILTER_CHAINS } from "./names";

/**
 * Rule lines for LABNET-ISOLATION, given the host's bridges sorted by name. Empty when
 * there is nothing to isolate (one bridge, or no isolated bridge at all).
 *
 * @example
 * renderIsolationRules([isolated("lnbr-aaaaaaaa"), isolated("lnbr-bbbbbbbb")])
 * // -A LABNET-ISOLATION -i lnbr-aaaaaaaa -o lnbr-aaaaaaaa -j RETURN ...
 * // -A LABNET-ISOLATION -i lnbr-aaaaaaaa -o lnbr-+ -j DROP
 * // -A LABNET-ISOLATION -i lnbr-+ -o lnbr-aaaaaaaa -j DROP ...
 */
export function renderIsolationRules(bridges: readonly DesiredBridge[]): string[] {
  const chain = FILTER_CHAINS.isolation;
  // With one bridge there is no other bridge to be isolated from.
  const isolated = bridges.length > 1 ? bridges.filter((bridge) => bridge.isolated) : [];
  const lines: string[] = [];
  for (const bridge of isolated) {
    lines.push(`-A ${chain} -i ${bridge.bridge} -o ${bridge.bridge} -j RETURN`);
  }
  for (const bridge of isolated) {
    lines.push(
      `-A ${chain} -i ${bridge.bridge} -o ${BRIDGE_WILDCARD} -j DROP`,
      `-A ${chain} -i ${BRIDGE_WILDCARD} -o ${bridge.bridge} -j DROP`,
    );
  }
  return lines;
}

/**
 * Drops between nodes of one bridge with icc off, into `chain`: callers place them after the
 * published-port accepts (hairpin stays possible) and before the bridge's accepts (an
 * external bridge's own LABNET-FWD-<bridge>, LABNET-FORWARD for internal ones).
 */
export function renderIccRules(
  bridges: readonly DesiredBridge[],
  chain: string = FILTER_CHAINS.forward,
): string[] {
  return bridges
    .filter((bridge) => !bridge.icc)
    .map((bridge) => `-A ${chain} -i ${bridge.bridge} -o ${bridge.bridge} -j DROP`);
}
