import type { Probe } from "@labnet/queue";
import { describe, expect, it } from "vitest";
import { firstResolvedAddress, type ProbeSpawner, pingedAddress } from "./run-probe";
import { assertProbesInScope, inScope, ProbeScopeError, runProbes } from "./run-probes";
import type { CommandResult, Listener } from "./spawn";

const A = "lt1-host-aaaaaaaaaaaaaaaa";
const B = "lt1-host-bbbbbbbbbbbbbbbb";
const scope = { prefixes: ["lt1-host-", "lt1-hosm12345678-"], namespaces: ["lt1-host-mmmmmmmmmmmmmmmm"] };

function probe(overrides: Partial<Probe> & Pick<Probe, "id">): Probe {
  return { kind: "icmp", from: { netns: A }, target: "10.0.0.2", timeoutMs: 1000, ...overrides } as Probe;
}

interface FakeCall {
  argv: readonly string[];
  stdin?: string;
}

/** A spawner that answers from `answer` and records what would have run, listeners included. */
function fakeSpawner(
  answer: (call: FakeCall) => Partial<CommandResult>,
  options: { listenDelayMs?: number } = {},
) {
  const calls: FakeCall[] = [];
  const listeners: { argv: readonly string[]; stopped: boolean; output: string }[] = [];
  let activeListeners = 0;
  let maxActive = 0;
  const spawner: ProbeSpawner = {
    async run(argv, opts) {
      const call = opts.stdin === undefined ? { argv } : { argv, stdin: opts.stdin };
      calls.push(call);
      await new Promise((r) => setTimeout(r, 5));
      const result = { code: 0, output: "", timedOut: false, ...answer(call) };
      // A UDP listener "receives" the datagram a successful send carried.
      const listening = listeners.find((l) => !l.stopped);
      if (listening && call.stdin && result.code === 0) {
        listening.output += call.stdin;
      }
      return result;
    },
    listen(argv) {
      const entry = { argv, stopped: false, output: "" };
      listeners.push(entry);
      activeListeners++;
      maxActive = Math.max(maxActive, activeListeners);
      const listener: Listener = {
        pid: 4242,
        output: () => entry.output,
        exitCode: () => undefined,
        waitListening: async () => {
          await new Promise((r) => setTimeout(r, options.listenDelayMs ?? 1));
          return true;
        },
        stop: async () => {
          if (!entry.stopped) {
            entry.stopped = true;
            activeListeners--;
          }
        },
      };
      return listener;
    },
  };
  return { spawner, calls, listeners, maxActive: () => maxActive };
}

describe("runProbes", () => {
  it("runs each kind as its command and returns results in the probes' order", async () => {
    const fake = fakeSpawner((call) => {
      const program = call.argv.find((word) => ["ping", "getent", "nc"].includes(word));
      if (program === "ping") {
        return {
          output: "PING 10.0.0.2 (10.0.0.2) 56(84) bytes of data.\n1 packets transmitted, 1 received",
        };
      }
      if (program === "getent") {
        return call.argv.at(-1) === "web"
          ? { output: "172.18.0.3      STREAM web\n172.18.0.3      DGRAM  \n" }
          : { code: 2 };
      }
      return { output: "Connection to 10.0.0.2 80 port [tcp/*] succeeded!" };
    });
    const results = await runProbes(
      [
        probe({ id: "icmp" }),
        probe({ id: "resolve", kind: "resolve", target: "web" }),
        probe({ id: "nxdomain", kind: "resolve", target: "nobody" }),
        probe({ id: "tcp", kind: "tcp", port: 80, listenIn: B }),
        probe({ id: "udp", kind: "udp", port: 53, listenIn: B }),
        probe({ id: "host", from: { labHost: true } }),
      ],
      { spawner: fake.spawner, netnsExists: () => true },
    );
    expect(results.map((r) => [r.id, r.ok, r.address])).toEqual([
      ["icmp", true, "10.0.0.2"],
      ["resolve", true, "172.18.0.3"],
      ["nxdomain", false, undefined],
      ["tcp", true, undefined],
      ["udp", true, undefined],
      ["host", true, "10.0.0.2"],
    ]);
    expect(results[0]?.command).toBe(`ip netns exec ${A} ping -n -c 1 -W 1 10.0.0.2`);
    expect(results[2]?.output).toContain("nobody: not found");
    expect(results[3]?.command).toBe(`ip netns exec ${A} nc -n -v -z -w 1 10.0.0.2 80`);
    expect(results[3]?.output).toContain(`listener: ip netns exec ${B} nc -l -k -d -n 80 (pid 4242)`);
    expect(results[4]?.output).toMatch(/sent labnet-probe-[0-9a-f]{16}; the listener received it/);
    expect(results[5]?.command).toBe("ping -n -c 1 -W 1 10.0.0.2");
    expect(fake.listeners.every((l) => l.stopped)).toBe(true);
  });

  it("listens on listenPort and connects to port (a published port)", async () => {
    const fake = fakeSpawner(() => ({}));
    const [result] = await runProbes(
      [probe({ id: "pub", kind: "tcp", from: { labHost: true }, port: 8080, listenIn: B, listenPort: 80 })],
      { spawner: fake.spawner, netnsExists: () => true },
    );
    expect(result?.command).toBe("nc -n -v -z -w 1 10.0.0.2 8080");
    expect(fake.listeners.map((l) => l.argv.join(" "))).toEqual([`ip netns exec ${B} nc -l -k -d -n 80`]);
  });

  it("fails a UDP probe whose datagram never reached the listener", async () => {
    const fake = fakeSpawner(() => ({ code: 1, output: "nc: Connection refused" }));
    const [result] = await runProbes([probe({ id: "u", kind: "udp", port: 9, listenIn: B })], {
      spawner: fake.spawner,
      netnsExists: () => true,
    });
    expect(result?.ok).toBe(false);
    expect(result?.output).toContain("the listener received nothing");
  });

  it("says a UDP send without a listener is not verified", async () => {
    const fake = fakeSpawner(() => ({}));
    const [result] = await runProbes([probe({ id: "u", kind: "udp", port: 9 })], {
      spawner: fake.spawner,
      netnsExists: () => true,
    });
    expect(result?.ok).toBe(true);
    expect(result?.output).toContain("delivery is not verified");
  });

  it("fails only the probe whose namespace is missing, without running anything for it", async () => {
    const fake = fakeSpawner(() => ({}));
    const results = await runProbes([probe({ id: "gone" }), probe({ id: "there", from: { netns: B } })], {
      spawner: fake.spawner,
      netnsExists: (n) => n === B,
    });
    expect(results.map((r) => r.ok)).toEqual([false, true]);
    expect(results[0]?.output).toBe(`no such namespace: /run/netns/${A}`);
    expect(fake.calls).toHaveLength(1);
  });

  it("turns a refused command into that probe's failure", async () => {
    const fake = fakeSpawner(() => {
      throw new Error("spawn ENOENT");
    });
    const [result] = await runProbes([probe({ id: "x" })], {
      spawner: fake.spawner,
      netnsExists: () => true,
    });
    expect(result).toMatchObject({ id: "x", ok: false, output: "probe failed: spawn ENOENT" });
  });

  it("never runs two listeners on one namespace, protocol and port at once", async () => {
    const fake = fakeSpawner(() => ({}), { listenDelayMs: 20 });
    const probes = Array.from({ length: 6 }, (_, i) =>
      probe({ id: `t${i}`, kind: "tcp", port: 80, listenIn: B }),
    );
    const results = await runProbes(probes, { spawner: fake.spawner, netnsExists: () => true });
    expect(results.every((r) => r.ok)).toBe(true);
    expect(fake.listeners).toHaveLength(6);
    expect(fake.maxActive()).toBe(1);
  });

  it("runs listeners of different ports side by side", async () => {
    const fake = fakeSpawner(() => ({}), { listenDelayMs: 20 });
    const probes = Array.from({ length: 4 }, (_, i) =>
      probe({ id: `t${i}`, kind: "tcp", port: 80 + i, listenIn: B }),
    );
    await runProbes(probes, { spawner: fake.spawner, netnsExists: () => true });
    expect(fake.maxActive()).toBe(4);
  });
});

describe("probe scope", () => {
  it("takes the lab host's and its machines' prefixes and machine namespaces", () => {
    expect(inScope(A, scope)).toBe(true);
    expect(inScope("lt1-hosm12345678-cccccccccccccccc", scope)).toBe(true);
    expect(inScope("lt1-host-mmmmmmmmmmmmmmmm", scope)).toBe(true);
    expect(inScope("lt2-host-aaaaaaaaaaaaaaaa", scope)).toBe(false);
    expect(inScope("lt1-host", scope)).toBe(false);
    expect(inScope("other", scope)).toBe(false);
    expect(inScope("anything", { prefixes: [""], namespaces: [] })).toBe(false);
  });

  it("refuses a job naming a namespace outside the scope, listeners included", () => {
    expect(() =>
      assertProbesInScope([probe({ id: "a" }), probe({ id: "h", from: { labHost: true } })], scope),
    ).not.toThrow();
    const hostile = [
      probe({ id: "b", kind: "tcp", port: 1, listenIn: "victim-ns" }),
      probe({ id: "c", from: { netns: "x" } }),
    ];
    expect(() => assertProbesInScope(hostile, scope)).toThrow(ProbeScopeError);
    expect(() => assertProbesInScope(hostile, scope)).toThrow(/"victim-ns", "x"/);
  });
});

describe("output parsing", () => {
  it("reads the first address of getent and the address ping sent to", () => {
    expect(firstResolvedAddress("172.18.0.3      STREAM web_container\n172.18.0.3      DGRAM\n")).toBe(
      "172.18.0.3",
    );
    expect(firstResolvedAddress("")).toBeUndefined();
    expect(pingedAddress("PING web (172.18.0.3) 56(84) bytes of data.")).toBe("172.18.0.3");
    expect(pingedAddress("ping: web: Name or service not known")).toBeUndefined();
  });
});
