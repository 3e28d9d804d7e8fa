import type { HostPlan } from "@labnet/netplan";
import { describe, expect, it } from "vitest";
import { ApplyStepError, applyPlan } from "./apply";
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
      name: "full plan: one process per step, in order",
      given: FULL_PLAN,
      want: [
        {
          argv: ["ip", "-batch", "-"],
          stdin: "netns add ln-aaaaaaaaaaaaaaaa\nnetns add ln-bbbbbbbbbbbbbbbb\n",
        },
        {
          argv: ["ip", "-batch", "-"],
          stdin: "link add lnbr-aaaaaaaa mtu 1500 type bridge\nlink set lnbr-aaaaaaaa up\n",
        },
        { argv: ["ip", "-n", "ln-aaaaaaaaaaaaaaaa", "-batch", "-"], stdin: "link set lo up\n" },
        {
          argv: ["ip", "-n", "ln-bbbbbbbbbbbbbbbb", "-batch", "-"],
          stdin: "link set lo up\nlink set eth0 up\n",
        },
        { argv: ["iptables-restore", "--noflush"], stdin: "*nat\nCOMMIT\n" },
        { argv: ["ip", "-batch", "-"], stdin: "netns del ln-cccccccccccccccc\n" },
      ],
    },
  ];
  it.each(cases)("$name", async ({ given, want }) => {
    const runner = createRecordingRunner();
    await applyPlan(runner, given, { concurrency: 1 });
    expect(runner.calls).toEqual(want);
  });

  it("stops at the first failing step and names the failing batch line", async () => {
    const runner = createRecordingRunner((call) =>
      call.stdin?.startsWith("link add") === true
        ? { code: 1, stderr: 'Error: argument "x" is wrong\nCommand failed -:2\n' }
        : undefined,
    );
    const error = await applyPlan(runner, FULL_PLAN).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApplyStepError);
    expect(error).toMatchObject({ step: "host batch", line: "link set lnbr-aaaaaaaa up", code: 1 });
    expect(runner.calls).toHaveLength(2);
  });

  it("refuses a batch line that would become two commands", async () => {
    const runner = createRecordingRunner();
    const plan = { ...EMPTY_PLAN, hostBatch: ["link set lo up\nlink del eth0"] };
    await expect(applyPlan(runner, plan)).rejects.toThrow(/line break/);
    expect(runner.calls).toEqual([]);
  });
});
