import { describe, expect, it } from "vitest";
import { assertExecSpawnArgv, execArgvIn } from "./argv";
import { spawnExec } from "./spawn";

describe("execArgvIn", () => {
  it("enters a node with ip netns exec, a machine with nsenter --net, the lab host as is", () => {
    expect(execArgvIn({ node: "ln-abcdefghijklmnop" }, ["ping", "-c", "1", "web"])).toEqual([
      "ip",
      "netns",
      "exec",
      "ln-abcdefghijklmnop",
      "ping",
      "-c",
      "1",
      "web",
    ]);
    expect(execArgvIn({ machine: "ln-m" }, ["iptables", "-t", "nat", "-nL"])).toEqual([
      "nsenter",
      "--net=/run/netns/ln-m",
      "--",
      "iptables",
      "-t",
      "nat",
      "-nL",
    ]);
    expect(execArgvIn({ labHost: true }, ["curl", "-s", "http://web"])).toEqual([
      "curl",
      "-q",
      "-s",
      "http://web",
    ]);
  });

  it("refuses what the allow-list refuses, and bad namespaces", () => {
    expect(() => execArgvIn({ node: "ln-a" }, ["iptables", "-S"])).toThrow(/only in a machine/);
    expect(() => execArgvIn({ node: "-n" }, ["ip", "addr"])).toThrow(/invalid netns/);
    expect(() => execArgvIn({ machine: "../x" }, ["ip", "addr"])).toThrow(/invalid netns/);
    expect(() => execArgvIn({ labHost: true }, ["sh", "-c", "id"])).toThrow(/argv\[0\]/);
  });
});

describe("assertExecSpawnArgv", () => {
  it("accepts only the three shapes around an allowed command", () => {
    expect(() => assertExecSpawnArgv(["ip", "netns", "exec", "ln-a", "ping", "web"])).not.toThrow();
    expect(() =>
      assertExecSpawnArgv(["nsenter", "--net=/run/netns/ln-m", "--", "iptables", "-S"]),
    ).not.toThrow();
    expect(() => assertExecSpawnArgv(["ip", "netns", "exec", "ln-a", "iptables", "-S"])).toThrow();
    expect(() => assertExecSpawnArgv(["ip", "netns", "exec", "ln-a", "sh"])).toThrow();
    expect(() => assertExecSpawnArgv(["nsenter", "--net=/proc/1/ns/net", "--", "ip", "addr"])).toThrow();
    expect(() => assertExecSpawnArgv(["ip", "link", "set", "lo", "down"])).toThrow();
  });

  it("refuses before spawning anything", async () => {
    await expect(spawnExec(["sh", "-c", "id"], { timeoutMs: 1000 })).rejects.toThrow(/refusing/);
  });
});
