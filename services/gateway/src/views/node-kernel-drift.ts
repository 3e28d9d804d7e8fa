/**
 * How a node's kernel differs from what Postgres says Labnet built: per endpoint, `ethN` exists
 * with its address and MAC; the default route goes via the gateway of the first endpoint on a
 * network with egress (not internal, not overlay: those leave through docker_gwbridge), as the
 * executor plans it (services/executor/src/desired-state.ts). Pure.
 */
import type { Schema } from "@labnet/api";

type NodeDrift = Schema<"NodeKernel">["drift"][number];
type KernelInterface = Schema<"KernelInterface">;
type KernelRoute = Schema<"KernelRoute">;

/** One endpoint as Postgres records it. */
export interface ExpectedEndpoint {
  ifIndex: number;
  /** With its prefix: `172.18.0.2/16`. */
  address: string;
  mac: string;
  gateway: string | null;
  internal: boolean;
  driver: string;
}

export function nodeKernelDrift(
  endpoints: readonly ExpectedEndpoint[],
  kernel: { interfaces: readonly KernelInterface[]; routes: readonly KernelRoute[] },
): NodeDrift[] {
  const drift: NodeDrift[] = [];
  const byName = new Map(kernel.interfaces.map((i) => [i.name, i]));
  for (const endpoint of [...endpoints].sort((a, b) => a.ifIndex - b.ifIndex)) {
    const name = `eth${endpoint.ifIndex}`;
    const found = byName.get(name);
    if (found === undefined) {
      drift.push({
        kind: "interface-missing",
        interface: name,
        expected: endpoint.address,
        actual: null,
        message: `${name} missing`,
      });
      continue;
    }
    const [address, prefix] = endpoint.address.split("/");
    const has = found.addresses.some(
      (a) => a.family === "inet" && a.address === address && String(a.prefixLength) === (prefix ?? "32"),
    );
    if (!has) {
      const actual = found.addresses
        .filter((a) => a.family === "inet")
        .map((a) => `${a.address}/${a.prefixLength}`);
      drift.push({
        kind: "address-missing",
        interface: name,
        expected: endpoint.address,
        actual: actual.length === 0 ? null : actual.join(", "),
        message: `${name} lacks ${endpoint.address}${actual.length === 0 ? "" : ` (has ${actual.join(", ")})`}`,
      });
    }
    if ((found.mac ?? "").toLowerCase() !== endpoint.mac.toLowerCase()) {
      drift.push({
        kind: "mac-mismatch",
        interface: name,
        expected: endpoint.mac,
        actual: found.mac ?? null,
        message: `${name} has MAC ${found.mac ?? "none"}, not ${endpoint.mac}`,
      });
    }
  }
  const first = [...endpoints]
    .sort((a, b) => a.ifIndex - b.ifIndex)
    .find((e) => !e.internal && e.driver !== "overlay" && e.gateway !== null);
  if (first?.gateway) {
    const route = kernel.routes.find((r) => r.dst === "default");
    if (route?.gateway !== first.gateway) {
      drift.push({
        kind: "default-route",
        expected: first.gateway,
        actual: route?.gateway ?? null,
        message:
          route === undefined
            ? `no default route (want via ${first.gateway})`
            : `default route via ${route.gateway ?? route.dev ?? "?"}, not ${first.gateway}`,
      });
    }
  }
  return drift;
}
