import { describe, expect, it } from "vitest";
import { checkExecArgv, describeExecRefusal, execSpawnArgv, isAllowedExecArgv } from "./exec-argv";
import { ExecJob } from "./exec-job";

describe("checkExecArgv accepts the allow-list's forms", () => {
  const node: string[][] = [
    ["ping", "-c", "1", "web"],
    ["ping", "-c1", "web_container.app"],
    ["ping", "-n", "-q", "-c", "20", "-i", "0.2", "-W", "2", "10.0.0.2"],
    ["ping", "-c", "20", "-s", "1400", "172.18.0.3"],
    ["traceroute", "-n", "-m", "30", "172.18.0.3"],
    ["tracepath", "-n", "-m", "5", "web"],
    ["curl", "-sS", "-I", "-m", "5", "http://web"],
    ["curl", "-s", "https://10.0.0.2:8443/index.html"],
    ["nc", "-zv", "-w", "2", "web", "80"],
    ["nc", "-z", "-v", "-u", "-w2", "10.0.0.2", "53"],
    ["getent", "hosts", "web"],
    ["getent", "ahostsv4", "web_container.app"],
    ["nslookup", "web", "127.0.0.11"],
    ["dig", "+short", "web", "@172.18.0.1"],
    ["ip", "addr"],
    ["ip", "-4", "-j", "addr", "show"],
    ["ip", "-d", "-s", "link", "show", "dev", "eth0"],
    ["ip", "route", "show"],
    ["ip", "-j", "neigh", "show"],
    ["bridge", "-j", "link", "show"],
    ["bridge", "fdb", "show"],
    ["ss", "-tunap"],
    ["ss", "-ltn"],
  ];
  it.each(node)("in a node: %j", (...argv) => {
    expect(checkExecArgv(argv, "node")).toBeUndefined();
  });

  const machine: string[][] = [
    ["iptables", "-S"],
    ["iptables", "-S", "LABNET-POSTROUTING"],
    ["iptables", "-t", "nat", "-nL"],
    ["iptables", "-t", "nat", "-S"],
    ["iptables", "-nL"],
    ["iptables", "-nL", "-v"],
    ["iptables", "-L", "-n", "--line-numbers"],
    ["ip", "route"],
  ];
  it.each(machine)("in a machine: %j", (...argv) => {
    expect(checkExecArgv(argv, "machine")).toBeUndefined();
  });
});

describe("checkExecArgv refuses, naming the argument", () => {
  const refused: [string[], number | undefined, RegExp][] = [
    [["sh"], 0, /not a program of the allow-list/],
    [["bash", "-c", "id"], 0, /not a program/],
    [["ping;id"], 0, /shell metacharacters/],
    [["ping", "$(id)"], 1, /shell metacharacters/],
    [["ping", "-c", "1", "web;id"], 3, /shell metacharacters/],
    [["ping", "`id`"], 1, /shell metacharacters/],
    [["../../bin/sh"], 0, /is a path/],
    [["/bin/ping", "web"], 0, /is a path/],
    [["ip", "link", "set", "eth0", "down"], 2, /read-only/],
    [["ip", "-n", "other", "addr"], 1, /not allowed/],
    [["ip", "netns", "exec", "x", "sh"], 1, /only addr, link, route, neigh/],
    [["ip", "addr", "show", "dev", "-x"], 4, /interface name/],
    [["iptables", "-F"], 1, /read-only/],
    [["iptables", "-t", "nat", "-A", "POSTROUTING"], 3, /read-only/],
    [["iptables", "-nL", "-Z"], 2, /read-only/],
    [["ping", "x".repeat(10_000)], 1, /10000 characters/],
    [["ping", "we\u0000b"], 1, /NUL byte/],
    [["ping", "a b"], 1, /whitespace/],
    [["ping", ""], 1, /empty/],
    [["ping", "-c", "21", "web"], 2, /1 to 20/],
    [["ping", "-i", "0.1", "web"], 2, /0.2 to 10/],
    [["ping", "-f", "web"], 1, /-f is not allowed/],
    [["ping", "-c", "1"], undefined, /needs a target/],
    [["ping", "web", "db"], 2, /unexpected argument/],
    [["ping", "-c"], 1, /needs a value/],
    [["traceroute", "-m", "31", "web"], 2, /1 to 30/],
    [["curl", "-o", "/tmp/x", "http://web"], 1, /-o is not allowed/],
    [["curl", "-d", "x=1", "http://web"], 1, /-d is not allowed/],
    [["curl", "--output", "x", "http://web"], 1, /long option/],
    [["curl", "file:///etc/shadow"], 1, /http\(s\)/],
    [["curl", "http://user@web/"], 1, /http\(s\)/],
    [["nc", "-l", "80"], 1, /-l is not allowed/],
    [["nc", "-e", "sh", "web", "80"], 1, /-e is not allowed/],
    [["nc", "web", "70000"], 2, /port/],
    [["getent", "passwd", "root"], 1, /hosts/],
    [["ss", "-K"], 1, /only the flags/],
    [["unknown"], 0, /not a program/],
    [[], undefined, /empty/],
  ];
  it.each(refused)("%j (argument %j)", (argv, index, message) => {
    const refusal = checkExecArgv(argv, "machine");
    expect(refusal).toBeDefined();
    expect(refusal?.index).toBe(index);
    expect(refusal?.message).toMatch(message);
  });

  it("refuses iptables in a node, and non-strings", () => {
    expect(checkExecArgv(["iptables", "-S"], "node")).toMatchObject({
      index: 0,
      message: /only in a machine/,
    });
    expect(checkExecArgv(["ping", 1], "node")).toMatchObject({ index: 1, message: /string/ });
    expect(isAllowedExecArgv(["ping", "web"], "node")).toBe(true);
  });

  it("describes a refusal with its argument", () => {
    expect(describeExecRefusal({ index: 2, message: "nope" })).toBe("argv[2]: nope");
  });
});

describe("execSpawnArgv", () => {
  it("keeps the argv, with curl's -q first so no .curlrc adds options", () => {
    expect(execSpawnArgv(["ping", "-c", "1", "web"])).toEqual(["ping", "-c", "1", "web"]);
    expect(execSpawnArgv(["curl", "-s", "http://web"])).toEqual(["curl", "-q", "-s", "http://web"]);
  });
});

describe("ExecJob", () => {
  const job = {
    hostId: "hst_abcdefghijklmnop",
    requestId: "0f8e2a55-7c1e-4f5e-9d56-8d4f6b1f0a11",
    target: { node: "ln-abcdefghijklmnop" },
    argv: ["ping", "-c", "1", "web"],
    timeoutMs: 10_000,
    stream: false,
  };
  it("parses an allowed command and refuses another with the argument's path", () => {
    expect(ExecJob.parse(job).argv).toEqual(job.argv);
    const bad = ExecJob.safeParse({ ...job, argv: ["ip", "link", "set", "eth0", "down"] });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.path).toEqual(["argv", 2]);
    expect(ExecJob.safeParse({ ...job, target: { node: "-x" } }).success).toBe(false);
    expect(ExecJob.safeParse({ ...job, target: { node: "ln-a" }, argv: ["iptables", "-S"] }).success).toBe(
      false,
    );
    expect(ExecJob.safeParse({ ...job, target: { machine: "ln-a" }, argv: ["iptables", "-S"] }).success).toBe(
      true,
    );
    expect(ExecJob.safeParse({ ...job, timeoutMs: 30_001 }).success).toBe(false);
  });
});
