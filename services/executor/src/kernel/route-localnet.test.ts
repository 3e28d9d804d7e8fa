import { describe, expect, it } from "vitest";
import { routeLocalnetArgv } from "./route-localnet";
import { assertAllowedArgv } from "./runner";

describe("routeLocalnetArgv", () => {
  const cases: {
    name: string;
    given: { bridges: string[]; wanted: string[] };
    want: string[] | undefined;
  }[] = [
    { name: "no bridges: no process", given: { bridges: [], wanted: [] }, want: undefined },
    {
      name: "on where wanted, off elsewhere, sorted",
      given: { bridges: ["lnbr-zzzzzzzz", "lnbr-abcdefgh"], wanted: ["lnbr-zzzzzzzz"] },
      want: [
        "sysctl",
        "-q",
        "-e",
        "-w",
        "net.ipv4.conf.lnbr-abcdefgh.route_localnet=0",
        "net.ipv4.conf.lnbr-zzzzzzzz.route_localnet=1",
      ],
    },
  ];
  it.each(cases)("$name", ({ given, want }) => {
    const argv = routeLocalnetArgv(given.bridges, given.wanted);
    expect(argv).toEqual(want);
    if (argv) {
      expect(() => assertAllowedArgv(argv)).not.toThrow();
    }
  });

  it("refuses a name no Labnet bridge can have", () => {
    expect(() => routeLocalnetArgv(["lnvabcdefghij"], [])).toThrow(/not a Labnet bridge/);
    expect(() => routeLocalnetArgv(["lo"], [])).toThrow(/not a Labnet bridge/);
  });

  it("writes a chosen name with a dot in sysctl's slash form (a dot is its separator)", () => {
    expect(routeLocalnetArgv(["docker0", "br.web"], ["br.web"])).toEqual([
      "sysctl",
      "-q",
      "-e",
      "-w",
      "net/ipv4/conf/br.web/route_localnet=1",
      "net.ipv4.conf.docker0.route_localnet=0",
    ]);
  });
});

describe("assertAllowedArgv for sysctl", () => {
  it.each([
    [["sysctl", "-w", "net.ipv4.ip_forward=1"]],
    [["sysctl", "-q", "-e", "-w", "net.ipv4.conf.all.route_localnet=1"]],
    [["sysctl", "-q", "-e", "-w", "net/ipv4/conf/default/route_localnet=1"]],
    [["sysctl", "-q", "-e", "-w", "net.ipv4.conf.lo.route_localnet=1"]],
    [["sysctl", "-q", "-e", "-w", "net/ipv4/conf/../route_localnet=1"]],
    [["sysctl", "-q", "-e", "-w", "net.ipv4.conf.eth0.forwarding=1"]],
    [["sysctl", "-q", "-e", "-w", "net.ipv4.conf.lnbr-abcdefgh.route_localnet=2"]],
    [["sysctl", "-q", "-e", "-w"]],
    [["sysctl", "-p", "/etc/sysctl.conf"]],
  ])("refuses %j", (argv) => {
    expect(() => assertAllowedArgv(argv)).toThrow(/refusing sysctl/);
  });

  it("allows route_localnet of chosen bridge names, in either form", () => {
    expect(() =>
      assertAllowedArgv(routeLocalnetArgv(["docker0", "br.web", "lnbr-abcdefgh"], ["docker0"]) ?? []),
    ).not.toThrow();
  });
});
