import { describe, expect, it } from "vitest";
import {
  assertAllowedArgv,
  createExecRunner,
  createRecordingRunner,
  KernelCommandError,
  runOrThrow,
  withNetns,
} from "./runner";

describe("assertAllowedArgv", () => {
  const allowed: string[][] = [
    ["ip", "-j", "addr", "show"],
    ["iptables-restore", "--noflush"],
    ["iptables-save"],
    ["bridge", "-j", "fdb", "show"],
    ["nsenter", "--net=/run/netns/lt4f2ah1h-host", "--", "ip", "-batch", "-"],
    ["nsenter", "--net=/proc/123/ns/net", "--", "nsenter", "--net=/run/netns/x", "--", "iptables-save"],
  ];
  it.each(allowed)("allows %j", (...argv) => {
    expect(() => assertAllowedArgv(argv)).not.toThrow();
  });

  const refused: string[][] = [
    [],
    ["sh", "-c", "ip link"],
    ["/sbin/ip", "link"],
    ["iptables", "-F"],
    ["nsenter", "--net=/run/netns/x", "--", "sh"],
    ["nsenter", "--net=/run/netns/x", "ip", "link"],
    ["nsenter", "--net=/run/netns/../../etc", "--", "ip"],
    ["nsenter", "--mount=/proc/1/ns/mnt", "--", "ip"],
    ["nsenter", "-t", "1", "-n", "--", "ip"],
  ];
  it.each(refused)("refuses %j", (...argv) => {
    expect(() => assertAllowedArgv(argv)).toThrow(/refusing/);
  });
});

describe("withNetns", () => {
  it("wraps argv in nsenter --net and keeps options", async () => {
    const recording = createRecordingRunner();
    await withNetns(recording, "/run/netns/lt4f2ah1h-host").run(["ip", "-batch", "-"], {
      stdin: "link show\n",
    });
    expect(recording.calls).toEqual([
      {
        argv: ["nsenter", "--net=/run/netns/lt4f2ah1h-host", "--", "ip", "-batch", "-"],
        stdin: "link show\n",
      },
    ]);
  });

  it.each(["/run/netns/a b", "relative", "/run/netns/x;y", "/etc/passwd"])("rejects path %j", (path) => {
    expect(() => withNetns(createRecordingRunner(), path)).toThrow(/invalid netns path/);
  });
});

describe("createRecordingRunner", () => {
  it("answers by argv string or function and records every call", async () => {
    const byArgv = createRecordingRunner({ "iptables-save": { stdout: "*nat\nCOMMIT\n" } });
    expect(await byArgv.run(["iptables-save"])).toEqual({ code: 0, stdout: "*nat\nCOMMIT\n", stderr: "" });
    expect(await byArgv.run(["ip", "link"])).toEqual({ code: 0, stdout: "", stderr: "" });

    const byFunction = createRecordingRunner((call) =>
      call.argv[0] === "ip" ? { code: 2, stderr: "no" } : undefined,
    );
    expect(await byFunction.run(["ip", "link"])).toEqual({ code: 2, stdout: "", stderr: "no" });
    expect(byFunction.calls).toEqual([{ argv: ["ip", "link"] }]);
  });

  it("enforces the allow-list", async () => {
    await expect(createRecordingRunner().run(["rm", "-rf", "/"])).rejects.toThrow(/refusing/);
  });
});

describe("runOrThrow", () => {
  it("throws KernelCommandError with argv, code and stderr", async () => {
    const runner = createRecordingRunner({ "ip link": { code: 1, stderr: 'Device "x" does not exist.\n' } });
    const error = await runOrThrow(runner, ["ip", "link"]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KernelCommandError);
    expect(error).toMatchObject({ argv: ["ip", "link"], code: 1, stderr: 'Device "x" does not exist.\n' });
    expect(String(error)).toContain('ip link exited with 1: Device "x" does not exist.');
  });
});

describe("createExecRunner", () => {
  // Read-only: prints the iproute2 version, touches no namespace.
  it("runs argv without a shell and captures output", async () => {
    const result = await createExecRunner().run(["ip", "-V"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("iproute2");
  });

  it("feeds stdin and reports a failing batch", async () => {
    const result = await createExecRunner().run(["ip", "-batch", "-"], {
      stdin: "link show dev lnnosuchdev0\n",
    });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("Command failed -:1");
  });

  it("refuses commands outside the allow-list before spawning", async () => {
    await expect(createExecRunner().run(["sh", "-c", "true"])).rejects.toThrow(/refusing/);
  });
});
