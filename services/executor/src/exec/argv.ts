/**
 * Where a diagnostics command runs, as argv: `ip netns exec <node netns> ...` for a node (it
 * bind-mounts the node's /etc/netns/<netns>/resolv.conf and hosts, so names resolve as the
 * node sees them), `nsenter --net=/run/netns/<machine> -- ...` for a virtual machine, the command
 * itself on the lab host's own machine (the executor's namespace). {@link assertExecSpawnArgv}
 * accepts exactly these three shapes around an allow-listed command, and is checked right
 * before every spawn.
 */
import { isValidNetnsName } from "@labnet/netplan";
import {
  checkExecArgv,
  describeExecRefusal,
  type ExecPlace,
  type ExecTarget,
  execSpawnArgv,
} from "@labnet/queue";

const NETNS = (name: string) => isValidNetnsName(name) && /^[A-Za-z0-9]/.test(name);
const NSENTER_NET = /^--net=\/run\/netns\/([A-Za-z0-9][A-Za-z0-9_.-]*)$/;

/** Throws unless `argv` may run in `place` (the allow-list, checked again here). */
export function assertExecArgv(argv: readonly string[], place: ExecPlace): void {
  const refusal = checkExecArgv(argv, place);
  if (refusal !== undefined) {
    throw new Error(`refusing command ${JSON.stringify(argv)}: ${describeExecRefusal(refusal)}`);
  }
}

/** The spawn argv of allow-listed `argv` inside `target`. */
export function execArgvIn(target: ExecTarget, argv: readonly string[]): string[] {
  const command = execSpawnArgv(argv);
  if ("node" in target) {
    assertExecArgv(argv, "node");
    if (!NETNS(target.node)) {
      throw new Error(`invalid netns name: ${JSON.stringify(target.node)}`);
    }
    return ["ip", "netns", "exec", target.node, ...command];
  }
  assertExecArgv(argv, "machine");
  if ("machine" in target) {
    if (!NETNS(target.machine)) {
      throw new Error(`invalid netns name: ${JSON.stringify(target.machine)}`);
    }
    return ["nsenter", `--net=/run/netns/${target.machine}`, "--", ...command];
  }
  return command;
}

/** The allowed command inside a spawn argv (curl's `-q` taken back out). */
function unwrapCurl(argv: readonly string[]): string[] {
  return argv[0] === "curl" && argv[1] === "-q" ? ["curl", ...argv.slice(2)] : [...argv];
}

/** Throws unless `argv` is one of {@link execArgvIn}'s shapes around an allowed command. */
export function assertExecSpawnArgv(argv: readonly string[]): void {
  if (argv[0] === "ip" && argv[1] === "netns" && argv[2] === "exec" && NETNS(argv[3] ?? "")) {
    assertExecArgv(unwrapCurl(argv.slice(4)), "node");
    return;
  }
  const net = NSENTER_NET.exec(argv[1] ?? "");
  if (argv[0] === "nsenter" && net && NETNS(net[1] ?? "") && argv[2] === "--") {
    assertExecArgv(unwrapCurl(argv.slice(3)), "machine");
    return;
  }
  assertExecArgv(unwrapCurl(argv), "machine");
}
