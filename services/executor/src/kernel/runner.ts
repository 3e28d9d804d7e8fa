/**
 * The executor's only door to the kernel: argv arrays (never a shell) and stdin payloads
 * (`ip -batch -`, `iptables-restore`). The executor runs as root, so the first argument
 * is checked against a short allow-list before anything is spawned.
 */
import { isDesiredBridgeName } from "@labnet/netplan";
import { sharedSpawner } from "@labnet/process";

/** Programs the executor may run. Everything else is refused before spawning. */
const ALLOWED_COMMANDS: ReadonlySet<string> = new Set([
  "ip",
  "iptables-restore",
  "iptables-save",
  "bridge",
  "nsenter",
  "sysctl",
  "mount",
  "umount",
]);

/** The only mount forms: pinning a machine's user namespace (userns.ts) and releasing it. */
const USERNS_PIN_PATTERN = /^\/run\/labnet\/userns\/[a-zA-Z0-9_.-]+$/;
const PROC_USERNS_PATTERN = /^\/proc\/[0-9]+\/ns\/user$/;

/** Default upper bound for one command; a batch of hundreds of sandboxes takes ~1 s. */
const DEFAULT_TIMEOUT_MS = 60_000;

/**
 * The only sysctl forms: route_localnet of Labnet bridges (see route-localnet.ts) and a virtual
 * machine's ip_forward (sysctl.ts), both set inside the namespace the command runs in.
 */
const SYSCTL_FLAGS = ["-q", "-e", "-w"];
const SYSCTL_SETTING_PATTERN =
  /^(?:net\.ipv4\.conf\.([a-zA-Z0-9_-]{1,15})\.route_localnet=[01]|net\/ipv4\/conf\/([a-zA-Z0-9_.-]{1,15})\/route_localnet=[01]|net\.ipv4\.ip_forward=1)$/;

/** True for a setting of those forms whose interface is a Labnet bridge name (never `all` or `lo`). */
function isAllowedSysctlSetting(setting: string): boolean {
  const match = SYSCTL_SETTING_PATTERN.exec(setting);
  const bridge = match?.[1] ?? match?.[2];
  return match !== null && (bridge === undefined || isDesiredBridgeName(bridge));
}

const NSENTER_NET_PATTERN = /^--net=(\/run\/netns\/[a-zA-Z0-9_.-]+|\/proc\/[0-9]+\/ns\/net)$/;

export interface RunOptions {
  /** Written to the command's stdin, which is then closed. */
  stdin?: string;
  /** Kill the command (SIGKILL) after this long. */
  timeoutMs?: number;
}

export interface RunResult {
  /** Exit code; 124 when killed at its time limit, 128 + N when killed by signal N (@labnet/process). */
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs one command. Resolves with any exit code; rejects only when it could not run at all. */
export interface Runner {
  run(argv: readonly string[], options?: RunOptions): Promise<RunResult>;
}

/** A kernel command that failed: its argv, exit code and stderr. */
export class KernelCommandError extends Error {
  readonly argv: readonly string[];
  readonly code: number;
  readonly stderr: string;

  constructor(argv: readonly string[], code: number, stderr: string, options?: { cause?: unknown }) {
    const detail = stderr.trim().split("\n").slice(0, 5).join("; ");
    super(`${argv.join(" ")} exited with ${code}${detail === "" ? "" : `: ${detail}`}`, options);
    this.name = "KernelCommandError";
    this.argv = argv;
    this.code = code;
    this.stderr = stderr;
  }
}

/**
 * Throws unless `argv` is an allowed command; `nsenter` is allowed only as
 * `nsenter --net=<netns path> -- <allowed command...>`.
 */
export function assertAllowedArgv(argv: readonly string[]): void {
  const [command] = argv;
  if (command === undefined || !ALLOWED_COMMANDS.has(command)) {
    throw new Error(`refusing to run ${JSON.stringify(command)}: not an allowed kernel command`);
  }
  if (command === "nsenter") {
    const [, net, separator, ...rest] = argv;
    if (net === undefined || !NSENTER_NET_PATTERN.test(net) || separator !== "--") {
      throw new Error(
        `refusing nsenter form ${JSON.stringify(argv.slice(0, 3))}: want nsenter --net=PATH -- ...`,
      );
    }
    assertAllowedArgv(rest);
  }
  if (command === "mount") {
    const [, flag, source, target, ...extra] = argv;
    if (
      flag !== "--bind" ||
      !PROC_USERNS_PATTERN.test(source ?? "") ||
      !USERNS_PIN_PATTERN.test(target ?? "") ||
      extra.length > 0
    ) {
      throw new Error(`refusing mount form ${JSON.stringify(argv)}: only pinning a user namespace`);
    }
  }
  if (command === "umount") {
    const [, target, ...extra] = argv;
    if (!USERNS_PIN_PATTERN.test(target ?? "") || extra.length > 0) {
      throw new Error(`refusing umount form ${JSON.stringify(argv)}: only a user namespace pin`);
    }
  }
  if (command === "sysctl") {
    const flags = argv.slice(1, 1 + SYSCTL_FLAGS.length);
    const settings = argv.slice(1 + SYSCTL_FLAGS.length);
    if (
      flags.join(" ") !== SYSCTL_FLAGS.join(" ") ||
      settings.length === 0 ||
      !settings.every(isAllowedSysctlSetting)
    ) {
      throw new Error(
        `refusing sysctl form ${JSON.stringify(argv)}: only route_localnet of Labnet bridges and ip_forward`,
      );
    }
  }
}

/**
 * A runner that runs real processes (argv only, no shell), started by this process's small
 * process starter (@labnet/process `sharedSpawner`): a process started from the executor itself
 * would stop its event loop for ~8 ms, a cost that grows with the executor's memory.
 *
 * @example
 * const runner = createExecRunner();
 * const { stdout } = await runOrThrow(runner, ["ip", "-j", "-d", "addr", "show"]);
 */
export function createExecRunner(defaults: { timeoutMs?: number } = {}): Runner {
  const defaultTimeoutMs = defaults.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const spawner = sharedSpawner();
  return {
    async run(argv, options = {}) {
      assertAllowedArgv(argv);
      const result = await spawner.run(argv, {
        timeoutMs: options.timeoutMs ?? defaultTimeoutMs,
        ...(options.stdin !== undefined ? { input: options.stdin } : {}),
      });
      if (result.spawnError) {
        throw new KernelCommandError(argv, result.code, result.spawnError.message, {
          cause: result.spawnError,
        });
      }
      return { code: result.code, stdout: result.stdout, stderr: result.stderr };
    },
  };
}

/** Runs `argv` and throws {@link KernelCommandError} unless it exits with 0. */
export async function runOrThrow(
  runner: Runner,
  argv: readonly string[],
  options?: RunOptions,
): Promise<RunResult> {
  const result = await runner.run(argv, options);
  if (result.code !== 0) {
    throw new KernelCommandError(argv, result.code, result.stderr);
  }
  return result;
}

/**
 * Runs every command inside the network namespace at `netnsPath` via
 * `nsenter --net=<path> --`, keeping the caller's mount namespace (unlike
 * `ip netns exec`, so creating further named namespaces keeps working). Tests use it
 * to drive a simulated host from outside.
 *
 * @example withNetns(createExecRunner(), "/run/netns/lt4f2ah1h-host")
 */
export function withNetns(runner: Runner, netnsPath: string): Runner {
  const net = `--net=${netnsPath}`;
  if (!NSENTER_NET_PATTERN.test(net)) {
    throw new Error(`invalid netns path: ${JSON.stringify(netnsPath)}`);
  }
  return {
    run(argv, options) {
      return runner.run(["nsenter", net, "--", ...argv], options);
    },
  };
}

/** One command a recording runner saw. */
/**
 * `argv` run inside sandbox `netns` (a name under /run/netns): `nsenter --net=/run/netns/NS --
 * argv`. Cheaper than `ip -n NS`, which also unshares the mount namespace, a copy that grows
 * with every namespace on the machine (each is a mount): about 25% at 300 sandboxes, more beyond.
 */
export function inNetns(netns: string, argv: readonly string[]): string[] {
  const net = `--net=/run/netns/${netns}`;
  if (!NSENTER_NET_PATTERN.test(net)) {
    throw new Error(`invalid netns name: ${JSON.stringify(netns)}`);
  }
  return ["nsenter", net, "--", ...argv];
}

export interface RecordedCall {
  argv: readonly string[];
  stdin?: string;
}

/** Canned answers: by `argv.join(" ")`, or computed from the call. Unmatched calls exit 0 silently. */
export type RecordedResponses =
  | Readonly<Record<string, Partial<RunResult>>>
  | ((call: RecordedCall) => Partial<RunResult> | undefined);

/** A runner that records calls instead of running them. */
export interface RecordingRunner extends Runner {
  readonly calls: RecordedCall[];
}

/**
 * A runner for unit tests: records argv and stdin, answers from `responses`, and
 * enforces the same allow-list as the real one.
 *
 * @example
 * const runner = createRecordingRunner({ "iptables-save": { stdout: "" } });
 * await applyPlan(runner, plan);
 * expect(runner.calls.map((c) => c.argv)).toEqual([...]);
 */
export function createRecordingRunner(responses: RecordedResponses = {}): RecordingRunner {
  const calls: RecordedCall[] = [];
  return {
    calls,
    async run(argv, options = {}) {
      assertAllowedArgv(argv);
      const call: RecordedCall =
        options.stdin === undefined ? { argv: [...argv] } : { argv: [...argv], stdin: options.stdin };
      calls.push(call);
      const answer = typeof responses === "function" ? responses(call) : responses[argv.join(" ")];
      return { code: 0, stdout: "", stderr: "", ...answer };
    },
  };
}
