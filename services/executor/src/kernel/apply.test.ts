import type { HostPlan } from "@labnet/netplan";
import { describe, expect, it } from "vitest";
import { applyPlan, applyPlanOrThrow, describeFailure } from "./apply";
import { createRecordingRunner, type RecordedCall } from "./runner";

const EMPTY_PLAN: HostPlan = {
  netnsAdd: [],
  hostBatch: [],
  sandboxBatches: [],
  iptablesRestore: "",
  netnsDelete: [],
};

const FULL_PLAN: HostPlan = {
  netnsAdd: ["ln-aaaaaaaaaaaaaaaa", "ln-bbbbbbbbbbbbbbbb"],
  hostBatch: ["link add lnbr-aaaaaaaa mtu 1500 type bridge", "link set lnbr-aaaaaaaa up"],
  sandboxBatches: [
    { netns: "ln-aaaaaaaaaaaaaaaa", lines: ["link set lo up"] },
    { netns: "ln-bbbbbbbbbbbbbbbb", lines: ["link set lo up", "link set eth0 up"] },
  ],
  iptablesRestore: "*nat\nCOMMIT\n",
  netnsDelete: ["ln-cccccccccccccccc"],
};

describe("applyPlan", () => {
  const cases: { name: string; given: HostPlan; want: RecordedCall[] }[] = [
    { name: "empty plan runs nothing", given: EMPTY_PLAN, want: [] },
    {
      name: "full plan: one host batch (namespaces added, host lines, namespaces removed) with iptables beside it, then each sandbox",
      given: FULL_PLAN,
      want: [
        // The host batch starts first (the sandboxes wait for it), the restore beside it.
        {
          argv: ["ip", "-force", "-batch", "-"],
          stdin:
            "netns add ln-aaaaaaaaaaaaaaaa\nnetns add ln-bbbbbbbbbbbbbbbb\n" +
            "link add lnbr-aaaaaaaa mtu 1500 type bridge\nlink set lnbr-aaaaaaaa up\n" +
            "netns del ln-cccccccccccccccc\n",
        },
        { argv: ["iptables-restore", "--noflush"], stdin: "*nat\nCOMMIT\n" },
        {
          argv: ["nsenter", "--net=/run/netns/ln-aaaaaaaaaaaaaaaa", "--", "ip", "-batch", "-"],
          stdin: "link set lo up\n",
        },
        {
          argv: ["nsenter", "--net=/run/netns/ln-bbbbbbbbbbbbbbbb", "--", "ip", "-batch", "-"],
          stdin: "link set lo up\nlink set eth0 up\n",
        },
      ],
    },
  ];
  it.each(cases)("$name", async ({ given, want }) => {
    const runner = createRecordingRunner();
    expect(await applyPlan(runner, given, { concurrency: 1 })).toEqual([]);
    expect(runner.calls).toEqual(want);
  });

  it("goes on past failing lines and steps, and reports each with its line", async () => {
    const runner = createRecordingRunner((call) => {
      if (call.stdin?.startsWith("netns add") === true) {
        return { code: 1, stderr: 'Error: argument "x" is wrong\nCommand failed -:4\n' };
      }
      if (call.argv.includes("--net=/run/netns/ln-aaaaaaaaaaaaaaaa")) {
        return { code: 1, stderr: "RTNETLINK answers: File exists\nCommand failed -:1\n" };
      }
      return undefined;
    });
    const failures = await applyPlan(runner, FULL_PLAN, { concurrency: 1 });
    expect(failures).toEqual([
      { step: "host batch", line: "link set lnbr-aaaaaaaa up", message: 'Error: argument "x" is wrong' },
      {
        step: "sandbox",
        netns: "ln-aaaaaaaaaaaaaaaa",
        line: "link set lo up",
        message: "RTNETLINK answers: File exists",
      },
    ]);
    // Every step still ran: the other sandbox and iptables.
    expect(runner.calls).toHaveLength(4);
    expect(describeFailure(failures[0] ?? { step: "iptables", message: "" })).toBe(
      'host batch failed at "link set lnbr-aaaaaaaa up": Error: argument "x" is wrong',
    );
  });

  it("skips the batches of sandboxes whose namespace could not be added", async () => {
    const runner = createRecordingRunner((call) =>
      call.stdin?.startsWith("netns add") === true
        ? {
            code: 1,
            stderr:
              'Cannot create namespace file "/run/netns/ln-bbbbbbbbbbbbbbbb": File exists\nCommand failed -:2\n',
          }
        : undefined,
    );
    const failures = await applyPlan(runner, FULL_PLAN, { concurrency: 1 });
    expect(failures).toMatchObject([{ step: "netns add", line: "netns add ln-bbbbbbbbbbbbbbbb" }]);
    expect(runner.calls.some((c) => c.argv.includes("--net=/run/netns/ln-bbbbbbbbbbbbbbbb"))).toBe(false);
  });

  it("leaves out the host lines naming a namespace that could not be made, and keeps the rest", async () => {
    // Its machine's user namespace is not pinned (nothing is, under this name): the holder
    // cannot enter it. Left in, `link set ... netns` of it would end the whole host batch.
    const owners = new Map([
      ["ln-bbbbbbbbbbbbbbbb", { kind: "machine" as const, machineNetns: "ln-nosuchmachine0000" }],
    ]);
    const plan: HostPlan = {
      ...FULL_PLAN,
      hostBatch: [
        "link add lnvaaaaaaaa0 type veth peer name eth0 netns ln-aaaaaaaaaaaaaaaa",
        "link add lnvbbbbbbbb0 type veth peer name eth0 netns ln-bbbbbbbbbbbbbbbb",
        "link set lnvbbbbbbbb0 up",
      ],
    };
    const runner = createRecordingRunner();
    const failures = await applyPlan(runner, plan, { concurrency: 1, owners });
    expect(failures).toMatchObject([{ step: "netns add", line: "netns add ln-bbbbbbbbbbbbbbbb" }]);
    expect(failures[0]?.message).toMatch(
      /machine namespace ln-nosuchmachine0000 has no user namespace pinned/,
    );
    expect(runner.calls[0]).toEqual({
      argv: ["ip", "-force", "-batch", "-"],
      stdin:
        "netns add ln-aaaaaaaaaaaaaaaa\n" +
        "link add lnvaaaaaaaa0 type veth peer name eth0 netns ln-aaaaaaaaaaaaaaaa\n" +
        "link set lnvbbbbbbbb0 up\n" +
        "netns del ln-cccccccccccccccc\n",
    });
    expect(runner.calls.some((c) => c.argv.includes("--net=/run/netns/ln-bbbbbbbbbbbbbbbb"))).toBe(false);
  });

  it("runs what `ip` did not reach again when it ended at an argument it refused, without the lines naming it", async () => {
    const plan: HostPlan = {
      ...EMPTY_PLAN,
      hostBatch: [
        "link add lnvaaaaaaaa0 type veth peer name eth0 netns ln-aaaaaaaaaaaaaaaa",
        "link add lnvbbbbbbbb0 type veth peer name eth0 netns ln-bbbbbbbbbbbbbbbb",
        "link set lnvbbbbbbbb0 master lnbr-aaaaaaaa",
        "link add lnvcccccccc0 type veth peer name eth0 netns ln-cccccccccccccccc",
        "link set lnvbbbbbbbb0 up netns ln-bbbbbbbbbbbbbbbb",
        "link set lnvcccccccc0 up",
      ],
    };
    const runner = createRecordingRunner((call) =>
      call.stdin?.startsWith("link add lnvaaaaaaaa0") === true
        ? {
            // The first line failed as the kernel refused it; the second ended the process.
            code: 255,
            stderr:
              "RTNETLINK answers: File exists\nCommand failed -:1\n" +
              'Error: argument "ln-bbbbbbbbbbbbbbbb" is wrong: Invalid "netns" value\n',
          }
        : undefined,
    );
    const failures = await applyPlan(runner, plan);
    expect(failures).toEqual([
      { step: "host batch", line: plan.hostBatch[0], message: "RTNETLINK answers: File exists" },
      {
        step: "host batch",
        line: plan.hostBatch[1],
        message: 'Error: argument "ln-bbbbbbbbbbbbbbbb" is wrong: Invalid "netns" value',
      },
    ]);
    // The lines after it, but the one naming that namespace again.
    expect(runner.calls.map((c) => c.stdin)).toEqual([
      `${plan.hostBatch.join("\n")}\n`,
      `${[plan.hostBatch[2], plan.hostBatch[3], plan.hostBatch[5]].join("\n")}\n`,
    ]);
  });

  it("stops re-running after a bound, and says what was not run", async () => {
    const hostBatch = Array.from(
      { length: 10 },
      (_, i) => `link add lnv${i}aaaaaaa0 type veth peer name eth0 netns ln-${i}aaaaaaaaaaaaaaa`,
    );
    // Every run ends at its first line's namespace.
    const runner = createRecordingRunner((call) => {
      const first = call.stdin?.split("\n")[0]?.split(" ").at(-1) ?? "";
      return { code: 255, stderr: `Error: argument "${first}" is wrong: Invalid "netns" value\n` };
    });
    const failures = await applyPlan(runner, { ...EMPTY_PLAN, hostBatch });
    expect(runner.calls).toHaveLength(8);
    expect(failures).toHaveLength(9);
    expect(failures.at(-1)).toEqual({ step: "host batch", message: "2 lines not run: 8 runs ended early" });
  });

  it("reports a batch that ended where it cannot be told, even after lines it reported", async () => {
    const runner = createRecordingRunner((call) =>
      call.argv[0] === "ip"
        ? { code: 137, stderr: "RTNETLINK answers: File exists\nCommand failed -:1\n" }
        : undefined,
    );
    const failures = await applyPlan(runner, FULL_PLAN);
    expect(failures.map((f) => f.step)).toEqual(["netns add", "host batch"]);
    expect(failures[1]?.line).toBeUndefined();
    expect(failures[1]?.message).toMatch(/exited with 137/);
  });

  it("counts a removal of something already gone as done", async () => {
    const runner = createRecordingRunner((call) =>
      call.stdin?.startsWith("netns del") === true
        ? {
            code: 1,
            stderr:
              'Cannot remove namespace file "/run/netns/x": No such file or directory\nCommand failed -:1\n',
          }
        : undefined,
    );
    expect(await applyPlan(runner, { ...EMPTY_PLAN, netnsDelete: ["ln-cccccccccccccccc"] })).toEqual([]);
  });

  it("reports a step that failed without naming a line, and applyPlanOrThrow throws it", async () => {
    const runner = createRecordingRunner((call) =>
      call.argv[0] === "iptables-restore" ? { code: 4, stderr: "iptables-restore: lock held\n" } : undefined,
    );
    await expect(applyPlanOrThrow(runner, FULL_PLAN)).rejects.toThrow(
      /iptables failed: iptables-restore --noflush exited with 4/,
    );
  });

  it("refuses a batch line that would become two commands", async () => {
    const runner = createRecordingRunner();
    const plan = { ...EMPTY_PLAN, hostBatch: ["link set lo up\nlink del eth0"] };
    await expect(applyPlan(runner, plan)).rejects.toThrow(/line break/);
    expect(runner.calls).toEqual([]);
  });
});
