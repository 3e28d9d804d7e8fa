/**
 * `route_localnet` on Labnet bridges. The host's own calls to 127.0.0.1 of a published
 * port are DNATed to a node with their loopback source, which the kernel routes out of a
 * bridge only when route_localnet is on for it (MASQUERADE then rewrites the source; see
 * @labnet/netplan iptables-ports.ts, which also drops loopback-addressed packets arriving
 * on such a bridge, so nodes cannot use it to reach the host's loopback services).
 */
import { isDesiredBridgeName } from "@labnet/netplan";
import { type Runner, runOrThrow } from "./runner";

/**
 * The one `sysctl` call that sets route_localnet on every bridge of `bridges`: 1 on those in
 * `wanted`, 0 on the others. Undefined when there is no bridge. `-e` skips a bridge that
 * vanished meanwhile (the next converge sees it again).
 *
 * @example
 * routeLocalnetArgv(["lnbr-abcdefgh", "lnbr-zzzzzzzz"], ["lnbr-abcdefgh"])
 * // ["sysctl", "-q", "-e", "-w", "net.ipv4.conf.lnbr-abcdefgh.route_localnet=1", "net.ipv4.conf.lnbr-zzzzzzzz.route_localnet=0"]
 */
export function routeLocalnetArgv(
  bridges: readonly string[],
  wanted: readonly string[],
): string[] | undefined {
  if (bridges.length === 0) {
    return undefined;
  }
  const on = new Set(wanted);
  const settings = [...new Set(bridges)].sort().map((bridge) => {
    if (!isDesiredBridgeName(bridge)) {
      throw new Error(`refusing route_localnet for ${JSON.stringify(bridge)}: not a Labnet bridge`);
    }
    // sysctl reads dots as separators: a name with one (`br.0`) goes in the slash form.
    const value = on.has(bridge) ? 1 : 0;
    return bridge.includes(".")
      ? `net/ipv4/conf/${bridge}/route_localnet=${value}`
      : `net.ipv4.conf.${bridge}.route_localnet=${value}`;
  });
  return ["sysctl", "-q", "-e", "-w", ...settings];
}

/** Sets route_localnet on the host's Labnet bridges (one process; none without bridges). */
export async function applyRouteLocalnet(
  runner: Runner,
  bridges: readonly string[],
  wanted: readonly string[],
): Promise<void> {
  const argv = routeLocalnetArgv(bridges, wanted);
  if (argv !== undefined) {
    await runOrThrow(runner, argv);
  }
}
