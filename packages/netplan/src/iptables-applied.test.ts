import { describe, expect, it } from "vitest";
import type { DesiredPortMapping } from "./desired";
import { renderIptablesRestore } from "./iptables";
import { isRuleSetApplied, minimalRestore, ruleSetAfter } from "./iptables-applied";
import { makeBridge } from "./test-fixtures";

const A = makeBridge();
const B = makeBridge({
  networkId: "net_zzzzzzzz23456777",
  bridge: "lnbr-zzzzzzzz",
  gateways: ["172.31.0.1/24"],
  subnets: ["172.31.0.0/24"],
});
const port = (hostPort: number, bridge = A.bridge, target = "172.30.0.2"): DesiredPortMapping => ({
  protocol: "tcp",
  hostPort,
  targetAddress: target,
  targetPort: 80,
  bridge,
});

/** The kernel after a fresh host got `payload` (hooks as iptables-save prints them). */
function applied(payload: string): string {
  return ruleSetAfter(payload, "");
}

/** Chains a payload declares, per table. */
function declared(payload: string): string[] {
  return payload.split("\n").filter((line) => line.startsWith("*") || line.startsWith(":"));
}

describe("minimalRestore", () => {
  const start = renderIptablesRestore([A, B], "", [port(8080)]);
  const kernel = applied(start);

  it("restores nothing on a converged host", () => {
    expect(minimalRestore(renderIptablesRestore([A, B], kernel, [port(8080)]), kernel)).toBe("");
    expect(isRuleSetApplied(renderIptablesRestore([A, B], kernel, [port(8080)]), kernel)).toBe(true);
  });

  it("rewrites only the chains of the network whose ports changed", () => {
    const next = minimalRestore(renderIptablesRestore([A, B], kernel, [port(8080), port(8081)]), kernel);
    // Same target and port as the first mapping: its hairpin and accept already serve it, so
    // only the DNAT chain of its network changes.
    expect(declared(next)).toEqual(["*nat", ":LABNET-DNAT-lnbr-abcdefgh - [0:0]"]);
    expect(next).toContain("--dport 8081 -j DNAT");
    const other = minimalRestore(
      renderIptablesRestore([A, B], kernel, [port(8080), port(9000, B.bridge, "172.31.0.2")]),
      kernel,
    );
    expect(declared(other)).toEqual([
      "*nat",
      ":LABNET-DNAT-lnbr-zzzzzzzz - [0:0]",
      ":LABNET-POST-lnbr-zzzzzzzz - [0:0]",
      "*filter",
      ":LABNET-FWD-lnbr-zzzzzzzz - [0:0]",
      // A mapping on every address answers loopback: its bridge's drops join the raw chain.
      "*raw",
      ":LABNET-RAW - [0:0]",
    ]);
    expect(other).not.toContain("LABNET-DNAT-lnbr-abcdefgh");
  });

  it("deletes the chains of a removed network after rewriting what jumped to them", () => {
    const next = minimalRestore(renderIptablesRestore([A], kernel, [port(8080)]), kernel);
    const lines = next.split("\n");
    expect(lines).toContain("-X LABNET-FWD-lnbr-zzzzzzzz");
    expect(lines).toContain("-X LABNET-DNAT-lnbr-zzzzzzzz");
    expect(lines).toContain("-X LABNET-POST-lnbr-zzzzzzzz");
    expect(lines.indexOf(":LABNET-FORWARD - [0:0]")).toBeGreaterThan(-1);
    expect(lines.indexOf("-X LABNET-FWD-lnbr-zzzzzzzz")).toBeGreaterThan(
      lines.lastIndexOf("-A LABNET-FORWARD -i lnbr-abcdefgh -j ACCEPT"),
    );
    // And the kernel it leaves is converged.
    const after = ruleSetAfter(next, kernel);
    expect(after).not.toContain("lnbr-zzzzzzzz");
    expect(minimalRestore(renderIptablesRestore([A], after, [port(8080)]), after)).toBe("");
  });

  it("adds a hook that went missing, and nothing else", () => {
    const lost = kernel.replace("-A FORWARD -j LABNET-FORWARD\n", "");
    expect(minimalRestore(renderIptablesRestore([A, B], lost, [port(8080)]), lost)).toBe(
      "*filter\n-I FORWARD 1 -j LABNET-FORWARD\nCOMMIT\n",
    );
  });
});
