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
    // only the DNAT chain of its network changes, and it only gains a rule: no chain is
    // declared (flushed), the rule is added.
    expect(declared(next)).toEqual(["*nat"]);
    expect(next.split("\n")).toContain(
      "-A LABNET-DNAT-lnbr-abcdefgh -p tcp -m tcp --dport 8081 -j DNAT --to-destination 172.30.0.2:80",
    );
    const other = minimalRestore(
      renderIptablesRestore([A, B], kernel, [port(8080), port(9000, B.bridge, "172.31.0.2")]),
      kernel,
    );
    // Network B's chains only gain rules, and so does the raw chain (a mapping on every
    // address answers loopback: its bridge's drops join it).
    expect(declared(other)).toEqual(["*nat", "*filter", "*raw"]);
    expect(other).toContain("-A LABNET-RAW");
    expect(other).toContain("-A LABNET-DNAT-lnbr-zzzzzzzz -p tcp -m tcp --dport 9000");
    expect(other).toContain("-A LABNET-POST-lnbr-zzzzzzzz -s 172.31.0.2/32");
    expect(other).toContain("-A LABNET-FWD-lnbr-zzzzzzzz -d 172.31.0.2/32");
    expect(other).not.toContain("LABNET-DNAT-lnbr-abcdefgh");
    expect(
      isRuleSetApplied(
        renderIptablesRestore([A, B], kernel, [port(8080), port(9000, B.bridge, "172.31.0.2")]),
        ruleSetAfter(other, kernel),
      ),
    ).toBe(true);
  });

  it("inserts rules a chain gains in place, and rewrites a chain that loses one", () => {
    const ports = [port(8080), port(8090, A.bridge, "172.30.0.3"), port(9000, A.bridge, "172.30.0.4")];
    const before = applied(
      renderIptablesRestore([A], "", [ports[0] as DesiredPortMapping, ports[2] as DesiredPortMapping]),
    );
    const gained = minimalRestore(renderIptablesRestore([A], before, ports), before);
    // 8090 sorts between the two the chain holds: inserted at position 2, no flush.
    expect(declared(gained)).toEqual(["*nat", "*filter"]);
    expect(gained.split("\n")).toContain(
      "-I LABNET-DNAT-lnbr-abcdefgh 2 -p tcp -m tcp --dport 8090 -j DNAT --to-destination 172.30.0.3:80",
    );
    const after = ruleSetAfter(gained, before);
    expect(isRuleSetApplied(renderIptablesRestore([A], after, ports), after)).toBe(true);
    // The kernel's order is the rendered one: the next converge has nothing to do.
    expect(minimalRestore(renderIptablesRestore([A], after, ports), after)).toBe("");
    const lost = minimalRestore(renderIptablesRestore([A], after, [ports[0] as DesiredPortMapping]), after);
    expect(declared(lost)).toContain(":LABNET-DNAT-lnbr-abcdefgh - [0:0]");
    expect(lost).not.toContain("-I LABNET-");
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
