/**
 * The commands of grading probes, built and checked in one place. Every value that reaches
 * argv passed a validator here (netns names, targets, ports, seconds), and
 * {@link assertProbeArgv} accepts only the exact forms the builders produce, so a template
 * author's string can never become an option or a program.
 */
import { isValidNetnsName } from "@labnet/netplan";
import { isIpv4Address, isProbeTarget, type ProbeOrigin } from "@labnet/queue";

/** Whole seconds a probe tool may wait (`nc -w`): 1 to 10. */
const SECONDS_PATTERN = /^([1-9]|10)$/;
/** Seconds `ping -W` may wait, to the millisecond: 0.1 to 10 (iputils takes fractions). */
const PING_SECONDS_PATTERN = /^(?:10|[0-9](?:\.[0-9]{1,3})?)$/;
const PORT_PATTERN = /^[1-9][0-9]{0,4}$/;

/** True for a port number 1-65535. */
export function isPort(value: number): boolean {
  return Number.isInteger(value) && value >= 1 && value <= 65_535;
}

function assertTarget(target: string): void {
  if (!isProbeTarget(target)) {
    throw new Error(`invalid probe target: ${JSON.stringify(target)}`);
  }
}

function assertPort(port: number): void {
  if (!isPort(port)) {
    throw new Error(`invalid port: ${JSON.stringify(port)}`);
  }
}

/** A valid netns name that starts with a letter or digit (never read as an option of `ip`). */
export function isProbeNetns(netns: string): boolean {
  return isValidNetnsName(netns) && /^[A-Za-z0-9]/.test(netns);
}

function assertNetns(netns: string): void {
  if (!isProbeNetns(netns)) {
    throw new Error(`invalid netns name: ${JSON.stringify(netns)}`);
  }
}

/** The whole seconds a tool waits within `timeoutMs`: at least 1, at most 10. */
export function toolSeconds(timeoutMs: number): number {
  return Math.min(10, Math.max(1, Math.floor(timeoutMs / 1000)));
}

/** `ping -W` for `timeoutMs`: its seconds to the millisecond, 0.1 to 10 ("0.3", "1.5", "2"). */
export function pingSeconds(timeoutMs: number): string {
  return String(Math.min(10_000, Math.max(100, Math.round(timeoutMs))) / 1000);
}

/**
 * `argv` run inside `from`: `ip netns exec <netns> argv` for a namespace (which bind-mounts its
 * /etc/netns/<netns>/resolv.conf and hosts, so names resolve as the node sees them), `argv`
 * itself in the lab host's own namespace (the executor's).
 */
export function inOrigin(from: ProbeOrigin, argv: readonly string[]): string[] {
  if ("labHost" in from) {
    return [...argv];
  }
  assertNetns(from.netns);
  return ["ip", "netns", "exec", from.netns, ...argv];
}

/** `ping -n -c 1 -W <s> <target>`: one echo request, numeric output, waiting `timeoutMs`. */
export function pingArgv(target: string, timeoutMs: number): string[] {
  assertTarget(target);
  return ["ping", "-n", "-c", "1", "-W", pingSeconds(timeoutMs), target];
}

/** `getent ahostsv4 <name>`: the name's IPv4 addresses through the namespace's resolver. */
export function resolveArgv(target: string): string[] {
  assertTarget(target);
  return ["getent", "ahostsv4", target];
}

/** `-n` (no lookups) for an address; a name is resolved by nc inside the namespace. */
function numericFlag(target: string): string[] {
  return isIpv4Address(target) ? ["-n"] : [];
}

/** `nc [-n] -v -z -w <s> <target> <port>`: a TCP connect, closed at once. */
export function tcpConnectArgv(target: string, port: number, timeoutMs: number): string[] {
  assertTarget(target);
  assertPort(port);
  return [
    "nc",
    ...numericFlag(target),
    "-v",
    "-z",
    "-w",
    String(toolSeconds(timeoutMs)),
    target,
    String(port),
  ];
}

/** `nc [-n] -u -v -w 1 <target> <port>`: sends its stdin as one datagram, then waits a second. */
export function udpSendArgv(target: string, port: number): string[] {
  assertTarget(target);
  assertPort(port);
  return ["nc", ...numericFlag(target), "-u", "-v", "-w", "1", target, String(port)];
}

/**
 * A listener on `port` of every address: `nc -l -k -d -n <port>` for TCP (keeps accepting,
 * never reads stdin), `nc -u -l -d -n <port>` for UDP (prints what it receives).
 */
export function listenerArgv(protocol: "tcp" | "udp", port: number): string[] {
  assertPort(port);
  return protocol === "tcp"
    ? ["nc", "-l", "-k", "-d", "-n", String(port)]
    : ["nc", "-u", "-l", "-d", "-n", String(port)];
}

type Matcher = string | ((value: string) => boolean);

const SECONDS = (v: string) => SECONDS_PATTERN.test(v);
const PING_SECONDS = (v: string) => PING_SECONDS_PATTERN.test(v) && Number(v) >= 0.1;
const PORT = (v: string) => PORT_PATTERN.test(v) && isPort(Number(v));
const TARGET = (v: string) => isProbeTarget(v);
const IPV4 = (v: string) => isIpv4Address(v);

/** The only commands a probe runs (inside a namespace or not). */
const FORMS: readonly (readonly Matcher[])[] = [
  ["ping", "-n", "-c", "1", "-W", PING_SECONDS, TARGET],
  ["getent", "ahostsv4", TARGET],
  ["nc", "-v", "-z", "-w", SECONDS, TARGET, PORT],
  ["nc", "-n", "-v", "-z", "-w", SECONDS, IPV4, PORT],
  ["nc", "-u", "-v", "-w", "1", TARGET, PORT],
  ["nc", "-n", "-u", "-v", "-w", "1", IPV4, PORT],
  ["nc", "-l", "-k", "-d", "-n", PORT],
  ["nc", "-u", "-l", "-d", "-n", PORT],
];

function matches(form: readonly Matcher[], argv: readonly string[]): boolean {
  return (
    form.length === argv.length &&
    form.every((m, i) => {
      const value = argv[i] as string;
      return typeof m === "string" ? m === value : m(value);
    })
  );
}

/**
 * Throws unless `argv` is exactly one of the probe forms, optionally inside
 * `ip netns exec <valid netns>`.
 */
export function assertProbeArgv(argv: readonly string[]): void {
  const inner =
    argv[0] === "ip" && argv[1] === "netns" && argv[2] === "exec" && isProbeNetns(argv[3] ?? "")
      ? argv.slice(4)
      : argv;
  if (!FORMS.some((form) => matches(form, inner))) {
    throw new Error(`refusing probe command ${JSON.stringify(argv)}: not a probe form`);
  }
}
