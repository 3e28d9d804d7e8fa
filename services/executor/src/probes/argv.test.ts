import { describe, expect, it } from "vitest";
import {
  assertProbeArgv,
  inOrigin,
  listenerArgv,
  pingArgv,
  pingSeconds,
  resolveArgv,
  tcpConnectArgv,
  toolSeconds,
  udpSendArgv,
} from "./argv";

const NS = "ln-abcdefghijklmnop";

describe("probe argv builders", () => {
  const cases: [string, string[], string[]][] = [
    [
      "icmp from a node",
      inOrigin({ netns: NS }, pingArgv("172.18.0.3", 2000)),
      ["ip", "netns", "exec", NS, "ping", "-n", "-c", "1", "-W", "2", "172.18.0.3"],
    ],
    [
      "icmp from the lab host",
      inOrigin({ labHost: true }, pingArgv("web", 500)),
      ["ping", "-n", "-c", "1", "-W", "0.5", "web"],
    ],
    [
      "resolve",
      inOrigin({ netns: NS }, resolveArgv("web_container.app")),
      ["ip", "netns", "exec", NS, "getent", "ahostsv4", "web_container.app"],
    ],
    [
      "tcp to an address",
      tcpConnectArgv("10.0.0.2", 80, 3000),
      ["nc", "-n", "-v", "-z", "-w", "3", "10.0.0.2", "80"],
    ],
    ["tcp to a name", tcpConnectArgv("web", 80, 10_000), ["nc", "-v", "-z", "-w", "10", "web", "80"]],
    ["udp to an address", udpSendArgv("10.0.0.2", 53), ["nc", "-n", "-u", "-v", "-w", "1", "10.0.0.2", "53"]],
    ["udp to a name", udpSendArgv("web", 53), ["nc", "-u", "-v", "-w", "1", "web", "53"]],
    ["tcp listener", listenerArgv("tcp", 8080), ["nc", "-l", "-k", "-d", "-n", "8080"]],
    ["udp listener", listenerArgv("udp", 5000), ["nc", "-u", "-l", "-d", "-n", "5000"]],
  ];
  it.each(cases)("%s", (_, argv, want) => {
    expect(argv).toEqual(want);
    expect(() => assertProbeArgv(argv)).not.toThrow();
  });

  it("gives nc whole seconds from 1 to 10", () => {
    expect([100, 999, 1000, 2500, 10_000, 60_000].map(toolSeconds)).toEqual([1, 1, 1, 2, 10, 10]);
  });

  it("gives ping the check's timeout to the millisecond, from 0.1 to 10 s", () => {
    expect([50, 100, 300, 999, 1500, 2000, 2345, 10_000, 60_000].map(pingSeconds)).toEqual([
      "0.1",
      "0.1",
      "0.3",
      "0.999",
      "1.5",
      "2",
      "2.345",
      "10",
      "10",
    ]);
    for (const ms of [100, 250, 1500, 2345, 10_000]) {
      expect(() => assertProbeArgv(pingArgv("web", ms))).not.toThrow();
    }
  });

  const hostile: [string, () => unknown][] = [
    ["an option as target", () => pingArgv("-f", 1000)],
    ["a shell word as target", () => resolveArgv("web;id")],
    ["a space in the target", () => tcpConnectArgv("a b", 80, 1000)],
    ["port 0", () => tcpConnectArgv("web", 0, 1000)],
    ["port 70000", () => udpSendArgv("web", 70_000)],
    ["fractional port", () => listenerArgv("tcp", 1.5)],
    ["netns with a slash", () => inOrigin({ netns: "../x" }, pingArgv("web", 1000))],
    ["netns as an option", () => inOrigin({ netns: "-all" }, pingArgv("web", 1000))],
    ["netns with a space", () => inOrigin({ netns: "a b" }, pingArgv("web", 1000))],
  ];
  it.each(hostile)("refuses %s", (_, build) => {
    expect(build).toThrow(/invalid/);
  });
});

describe("assertProbeArgv", () => {
  const refused: string[][] = [
    [],
    ["sh", "-c", "ping web"],
    ["ping", "-n", "-c", "1", "-W", "2", "web", "extra"],
    ["ping", "-f", "web"],
    ["ping", "-n", "-c", "1000", "-W", "2", "web"],
    ["ping", "-n", "-c", "1", "-W", "11", "web"],
    ["ping", "-n", "-c", "1", "-W", "0.05", "web"],
    ["ping", "-n", "-c", "1", "-W", "0", "web"],
    ["ping", "-n", "-c", "1", "-W", "1e1", "web"],
    ["ping", "-n", "-c", "1", "-W", "-1", "web"],
    ["ping", "-n", "-c", "1", "-W", "10.5", "web"],
    ["ping", "-n", "-c", "1", "-W", "2", "-iface"],
    ["getent", "passwd", "root"],
    ["getent", "ahostsv4", "a;b"],
    ["nc", "-e", "/bin/sh", "10.0.0.1", "80"],
    ["nc", "-l", "-k", "-d", "-n", "0"],
    ["nc", "-l", "-k", "-d", "-n", "080"],
    ["nc", "-n", "-v", "-z", "-w", "2", "web", "80"],
    ["nc", "-c", "id", "-l", "80"],
    ["ip", "netns", "exec", "../x", "ping", "-n", "-c", "1", "-W", "2", "web"],
    ["ip", "netns", "exec", "-all", "ping", "-n", "-c", "1", "-W", "2", "web"],
    ["ip", "netns", "exec", NS, "sh"],
    ["ip", "netns", "exec", NS, "ip", "netns", "exec", NS, "getent", "ahostsv4", "web"],
    ["ip", "link", "del", "eth0"],
    ["nsenter", `--net=/run/netns/${NS}`, "--", "ping", "-n", "-c", "1", "-W", "2", "web"],
  ];
  it.each(refused)("refuses %j", (...argv) => {
    expect(() => assertProbeArgv(argv)).toThrow(/refusing/);
  });
});
