import { randomBytes } from "node:crypto";
import type { Probe, ProbeResult } from "@labnet/queue";
import { inOrigin, listenerArgv, pingArgv, resolveArgv, tcpConnectArgv, udpSendArgv } from "./argv";
import { type CommandResult, type Listener, runProbeCommand, startListener, trimOutput } from "./spawn";

/** How the probes reach processes: the real spawner, or a fake in unit tests. */
export interface ProbeSpawner {
  run(argv: readonly string[], options: { stdin?: string; timeoutMs: number }): Promise<CommandResult>;
  listen(
    argv: readonly string[],
    options: { protocol: "tcp" | "udp"; port: number; lifetimeMs: number },
  ): Listener;
}

export const realSpawner: ProbeSpawner = { run: runProbeCommand, listen: startListener };

/** Past the tools' own waits (`-W`, `-w`), before a probe's process is killed. */
const KILL_GRACE_MS = 1_000;
/** What a UDP listener is given, after the sender's one-second wait, to print what it got. */
const UDP_SETTLE_MS = 200;

/** The first IPv4 address of `getent ahostsv4` output (`172.18.0.3      STREAM web`). */
export function firstResolvedAddress(output: string): string | undefined {
  const match = /^(\d{1,3}(?:\.\d{1,3}){3})\s/m.exec(output);
  return match?.[1];
}

/** The address ping sent to (`PING web (172.18.0.3) 56(84) bytes of data.`). */
export function pingedAddress(output: string): string | undefined {
  const match = /^PING \S+ \((\d{1,3}(?:\.\d{1,3}){3})\)/m.exec(output);
  return match?.[1];
}

function describeCommand(result: CommandResult, timeoutMs: number): string {
  const killed = result.timedOut ? `\n(killed after ${timeoutMs} ms)` : "";
  return `${result.output.trim()}${killed}`;
}

/**
 * Runs one probe for real and never throws: whatever goes wrong is a result with `ok: false`
 * and the reason as its output. Namespaces were checked by the caller.
 */
export async function runProbe(probe: Probe, spawner: ProbeSpawner = realSpawner): Promise<ProbeResult> {
  const started = performance.now();
  let command = "";
  try {
    const outcome = await runKind(probe, spawner, (argv) => {
      command = argv.join(" ");
    });
    return {
      id: probe.id,
      ok: outcome.ok,
      ...(outcome.address !== undefined ? { address: outcome.address } : {}),
      command,
      output: trimOutput(outcome.output),
      ms: Math.round(performance.now() - started),
    };
  } catch (error) {
    return {
      id: probe.id,
      ok: false,
      command,
      output: trimOutput(`probe failed: ${error instanceof Error ? error.message : String(error)}`),
      ms: Math.round(performance.now() - started),
    };
  }
}

interface Outcome {
  ok: boolean;
  address?: string;
  output: string;
}

async function runKind(
  probe: Probe,
  spawner: ProbeSpawner,
  note: (argv: readonly string[]) => void,
): Promise<Outcome> {
  const killAfter = probe.timeoutMs + KILL_GRACE_MS;
  switch (probe.kind) {
    case "icmp": {
      const argv = inOrigin(probe.from, pingArgv(probe.target, probe.timeoutMs));
      note(argv);
      const result = await spawner.run(argv, { timeoutMs: killAfter });
      const address = pingedAddress(result.output);
      return {
        ok: result.code === 0,
        ...(address ? { address } : {}),
        output: describeCommand(result, killAfter),
      };
    }
    case "resolve": {
      const argv = inOrigin(probe.from, resolveArgv(probe.target));
      note(argv);
      const result = await spawner.run(argv, { timeoutMs: killAfter });
      const address = result.code === 0 ? firstResolvedAddress(result.output) : undefined;
      const output =
        result.code === 2 && result.output.trim() === ""
          ? `${probe.target}: not found (getent exit 2)`
          : describeCommand(result, killAfter);
      return { ok: address !== undefined, ...(address ? { address } : {}), output };
    }
    case "tcp":
    case "udp":
      return withListener(probe, spawner, note);
  }
}

/** TCP and UDP: with `listenIn`, a listener for the probe's duration, stopped by PID at the end. */
async function withListener(
  probe: Probe,
  spawner: ProbeSpawner,
  note: (argv: readonly string[]) => void,
): Promise<Outcome> {
  const protocol = probe.kind === "udp" ? "udp" : "tcp";
  const port = probe.port ?? 0;
  const deadline = Date.now() + probe.timeoutMs;
  const sendArgv =
    protocol === "tcp"
      ? inOrigin(probe.from, tcpConnectArgv(probe.target, port, probe.timeoutMs))
      : inOrigin(probe.from, udpSendArgv(probe.target, port));
  note(sendArgv);
  if (probe.listenIn === undefined) {
    return send(probe, spawner, sendArgv, undefined);
  }
  const listenPort = probe.listenPort ?? port;
  const listenArgv = inOrigin({ netns: probe.listenIn }, listenerArgv(protocol, listenPort));
  const listener = spawner.listen(listenArgv, {
    protocol,
    port: listenPort,
    // The listener outlives the probe by the grace of its kill, never more.
    lifetimeMs: probe.timeoutMs + 2 * KILL_GRACE_MS + UDP_SETTLE_MS,
  });
  const header = `listener: ${listenArgv.join(" ")} (pid ${listener.pid ?? "none"})`;
  try {
    if (!(await listener.waitListening(deadline))) {
      const exit = listener.exitCode();
      return {
        ok: false,
        output: `${header}\nthe listener did not start listening${exit === undefined ? " in time" : ` (exit ${exit})`}\n${listener.output()}`,
      };
    }
    return await send(probe, spawner, sendArgv, { listener, header });
  } finally {
    await listener.stop();
  }
}

async function send(
  probe: Probe,
  spawner: ProbeSpawner,
  argv: readonly string[],
  listening: { listener: Listener; header: string } | undefined,
): Promise<Outcome> {
  const killAfter = probe.timeoutMs + KILL_GRACE_MS;
  if (probe.kind === "tcp") {
    const result = await spawner.run(argv, { timeoutMs: killAfter });
    const evidence = describeCommand(result, killAfter);
    return { ok: result.code === 0, output: listening ? `${listening.header}\n${evidence}` : evidence };
  }
  const token = `labnet-probe-${randomBytes(8).toString("hex")}`;
  const result = await spawner.run(argv, { stdin: `${token}\n`, timeoutMs: killAfter });
  const evidence = describeCommand(result, killAfter);
  if (!listening) {
    return {
      ok: result.code === 0,
      output: `${evidence}\nsent ${token} without a listener: the send ${result.code === 0 ? "did not fail" : "failed"}; delivery is not verified`,
    };
  }
  // The datagram arrives before the sender's one-second wait ends; give nc a moment to print it.
  const settleUntil = Date.now() + UDP_SETTLE_MS;
  while (!listening.listener.output().includes(token) && Date.now() < settleUntil) {
    await new Promise((r) => setTimeout(r, 10));
  }
  const received = listening.listener.output().includes(token);
  return {
    ok: received,
    output: `${listening.header}\n${evidence}\nsent ${token}; the listener ${received ? "received it" : "received nothing"}`,
  };
}
