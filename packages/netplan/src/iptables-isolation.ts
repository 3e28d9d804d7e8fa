/**
 * Isolation rules of Labnet's bridges, rendered into the LABNET-ISOLATION chains, which
 * LABNET-FORWARD jumps to before any accept (see iptables.ts).
 *
 * - Between bridges: traffic from one Labnet bridge to another is dropped unless both
 *   have isolation off (Docker's DOCKER-ISOLATION stages, where every bridge is
 *   isolated). Bridges may have chosen names (`docker0`, `br-web`), so no interface
 *   wildcard covers them all; as in Docker's two stages, traffic leaving a bridge for
 *   another interface is sent on to a second chain that drops it if it enters a bridge:
 *   O(bridges) rules instead of one per pair.
 *   - LABNET-ISOLATION: `-i B ! -o B -j LABNET-ISOLATION-ANY` for each isolated bridge B,
 *     `-i C ! -o C -j LABNET-ISOLATION-ISO` for each bridge C with isolation off.
 *   - LABNET-ISOLATION-ANY: `-o X -j DROP` for every bridge X (an isolated bridge talks to none).
 *   - LABNET-ISOLATION-ISO: `-o B -j DROP` for each isolated bridge B (two bridges with
 *     isolation off may talk).
 * - Within a bridge (Docker's enable_icc=false): `-i B -o B DROP`, rendered by
 *   `renderIccRules` into the bridge's chain after the published-port accepts, as Docker
 *   orders them, so a node still reaches its own published port (hairpin) with icc off.
 *   br_netfilter makes bridged frames between two ports of B traverse FORWARD with
 *   in = out = B, which is what this matches; without br_netfilter the rule would never
 *   see them, so the API refuses icc=false on hosts that lack it.
 */
import type { DesiredBridge } from "./desired";
import { FILTER_CHAINS } from "./names";

/**
 * Rule lines for the isolation chains, given the host's bridges sorted by name. Empty when
 * there is nothing to isolate (one bridge, or no isolated bridge at all).
 *
 * @example
 * renderIsolationRules([isolated("lnbr-aaaaaaaa"), isolated("docker0")])
 * // -A LABNET-ISOLATION -i lnbr-aaaaaaaa ! -o lnbr-aaaaaaaa -j LABNET-ISOLATION-ANY ...
 * // -A LABNET-ISOLATION-ANY -o lnbr-aaaaaaaa -j DROP ...
 */
export function renderIsolationRules(bridges: readonly DesiredBridge[]): string[] {
  const { isolation, isolationAny, isolationIsolated } = FILTER_CHAINS;
  // With one bridge there is no other bridge to be isolated from.
  if (bridges.length < 2 || !bridges.some((bridge) => bridge.isolated)) {
    return [];
  }
  return [
    ...bridges.map(
      ({ bridge, isolated }) =>
        `-A ${isolation} -i ${bridge} ! -o ${bridge} -j ${isolated ? isolationAny : isolationIsolated}`,
    ),
    ...bridges.map(({ bridge }) => `-A ${isolationAny} -o ${bridge} -j DROP`),
    ...bridges.filter((b) => b.isolated).map(({ bridge }) => `-A ${isolationIsolated} -o ${bridge} -j DROP`),
  ];
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
