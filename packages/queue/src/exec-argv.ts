/**
 * The diagnostics allow-list: which commands `POST /v1/nodes/{id}/exec` and
 * `POST /v1/machines/{id}/exec` may run, checked argument by argument. Pure and shared: the
 * gateway refuses with a problem naming the argument (`body.argv[2]`) before anything is
 * queued, and the executor checks again before it spawns. Every argument must match a strict
 * pattern (a name, an address, a number in range, a listed flag); there is no shell anywhere,
 * so a metacharacter would be inert, but it is refused anyway with a sentence that says why.
 */
import { isIpv4Address, isProbeTarget } from "./probe";

/** Where a command runs: a node's namespace, or a machine's (iptables only there). */
export type ExecPlace = "node" | "machine";

/** Why an argv is refused: the argument at fault (absent: the argv as a whole) and a sentence. */
export interface ExecRefusal {
  index?: number;
  message: string;
}

/** At most this many arguments, program included. */
export const MAX_EXEC_ARGS = 32;
/** At most this many characters per argument (a URL is the longest). */
export const MAX_EXEC_ARG_LENGTH = 512;

/** The programs of the allow-list, by name (never a path). */
export const EXEC_PROGRAMS = [
  "ping",
  "traceroute",
  "tracepath",
  "curl",
  "nc",
  "getent",
  "nslookup",
  "dig",
  "ip",
  "bridge",
  "ss",
  "iptables",
] as const;
export type ExecProgram = (typeof EXEC_PROGRAMS)[number];

const SHELL_METACHARACTERS = /[;&|$`<>(){}[\]*?!~'"\\#]/;
const PRINTABLE = /^[\x21-\x7e]+$/;
/** An interface name (IFNAMSIZ: at most 15 bytes), never an option. */
const IFNAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$/;
/** An iptables chain name, never an option. */
const CHAIN = /^[A-Za-z][A-Za-z0-9_-]{0,28}$/;
const PORT = /^[1-9][0-9]{0,4}$/;

/** The first problem of `argv` in `place`, or undefined when it may run. */
export function checkExecArgv(argv: readonly unknown[], place: ExecPlace): ExecRefusal | undefined {
  if (argv.length === 0) {
    return { message: "argv is empty: name a program of the allow-list" };
  }
  if (argv.length > MAX_EXEC_ARGS) {
    return { index: MAX_EXEC_ARGS, message: `at most ${MAX_EXEC_ARGS} arguments` };
  }
  for (const [index, arg] of argv.entries()) {
    const refusal = checkCharacters(arg);
    if (refusal !== undefined) {
      return { index, message: refusal };
    }
  }
  const args = argv as readonly string[];
  const program = args[0] as string;
  if (!isExecProgram(program)) {
    return {
      index: 0,
      message: program.includes("/")
        ? `${JSON.stringify(program)} is a path: name a program of the allow-list (${EXEC_PROGRAMS.join(", ")})`
        : `${JSON.stringify(program)} is not a program of the allow-list (${EXEC_PROGRAMS.join(", ")})`,
    };
  }
  if (program === "iptables" && place !== "machine") {
    return { index: 0, message: "iptables runs only in a machine (POST /v1/machines/{machineId}/exec)" };
  }
  return PROGRAMS[program](new Args(args));
}

/** True when `argv` may run in `place`. */
export function isAllowedExecArgv(argv: readonly unknown[], place: ExecPlace): boolean {
  return checkExecArgv(argv, place) === undefined;
}

/** The sentence of `checkExecArgv`'s refusal, prefixed with the argument (`argv[2]: ...`). */
export function describeExecRefusal(refusal: ExecRefusal): string {
  return refusal.index === undefined ? refusal.message : `argv[${refusal.index}]: ${refusal.message}`;
}

function isExecProgram(value: string): value is ExecProgram {
  return (EXEC_PROGRAMS as readonly string[]).includes(value);
}

function checkCharacters(arg: unknown): string | undefined {
  if (typeof arg !== "string") {
    return "every argument is a string";
  }
  if (arg.length === 0) {
    return "an empty argument";
  }
  if (arg.length > MAX_EXEC_ARG_LENGTH) {
    return `an argument of ${arg.length} characters (at most ${MAX_EXEC_ARG_LENGTH})`;
  }
  if (arg.includes("\u0000")) {
    return "a NUL byte";
  }
  if (SHELL_METACHARACTERS.test(arg)) {
    return `shell metacharacters in ${JSON.stringify(arg)}: argv never reaches a shell, and nothing of the allow-list takes them`;
  }
  if (!PRINTABLE.test(arg)) {
    return "whitespace or control characters: one argument per array entry, printable ASCII only";
  }
  return undefined;
}

/** The arguments after the program, read left to right. */
class Args {
  #next = 1;
  constructor(readonly argv: readonly string[]) {}

  get index(): number {
    return this.#next;
  }

  peek(): string | undefined {
    return this.argv[this.#next];
  }

  take(): string | undefined {
    const value = this.argv[this.#next];
    if (value !== undefined) {
      this.#next += 1;
    }
    return value;
  }

  done(): boolean {
    return this.#next >= this.argv.length;
  }
}

type Validator = (args: Args) => ExecRefusal | undefined;

/** A number check: the value's text, and whether it is in range. */
type ValueCheck = (value: string) => string | undefined;

function integer(min: number, max: number): ValueCheck {
  return (value) =>
    /^[0-9]{1,6}$/.test(value) && Number(value) >= min && Number(value) <= max
      ? undefined
      : `want a whole number from ${min} to ${max}`;
}

function decimal(min: number, max: number): ValueCheck {
  return (value) =>
    /^[0-9]{1,3}(\.[0-9]{1,3})?$/.test(value) && Number(value) >= min && Number(value) <= max
      ? undefined
      : `want a number from ${min} to ${max}`;
}

function target(value: string): string | undefined {
  return isProbeTarget(value) ? undefined : "want an IPv4 address or a host name";
}

function ipv4(value: string): string | undefined {
  return isIpv4Address(value) ? undefined : "want an IPv4 address";
}

/**
 * Short options in the classic form: flags that may be grouped (`-zv`), options with a value,
 * attached (`-c1`, `-w5`) or next (`-c 1`), and positionals checked in order.
 */
interface OptionSpec {
  flags: string;
  values?: Record<string, ValueCheck>;
  positionals: readonly { name: string; check: ValueCheck; optional?: boolean }[];
}

function shortOptions(spec: OptionSpec): Validator {
  return (args) => {
    const positionals: { index: number; value: string }[] = [];
    while (!args.done()) {
      const index = args.index;
      const arg = args.take() as string;
      if (!arg.startsWith("-") || arg === "-") {
        positionals.push({ index, value: arg });
        continue;
      }
      if (arg.startsWith("--")) {
        return { index, message: `long option ${arg} is not allowed here` };
      }
      // Letters one by one: flags, until an option that takes a value.
      for (let i = 1; i < arg.length; i += 1) {
        const letter = arg[i] as string;
        if (spec.flags.includes(letter)) {
          continue;
        }
        const check = spec.values?.[letter];
        if (check === undefined) {
          return { index, message: `option -${letter} is not allowed here` };
        }
        const attached = arg.slice(i + 1);
        const valueIndex = attached === "" ? args.index : index;
        const value = attached === "" ? args.take() : attached;
        if (value === undefined) {
          return { index, message: `option -${letter} needs a value` };
        }
        const problem = check(value);
        if (problem !== undefined) {
          return { index: valueIndex, message: `option -${letter}: ${problem}` };
        }
        break;
      }
    }
    return checkPositionals(args, spec.positionals, positionals);
  };
}

function checkPositionals(
  args: Args,
  specs: OptionSpec["positionals"],
  given: readonly { index: number; value: string }[],
): ExecRefusal | undefined {
  for (const [i, spec] of specs.entries()) {
    const arg = given[i];
    if (arg === undefined) {
      return spec.optional ? undefined : { message: `${args.argv[0]} needs ${spec.name}` };
    }
    const problem = spec.check(arg.value);
    if (problem !== undefined) {
      return { index: arg.index, message: `${spec.name}: ${problem}` };
    }
  }
  const extra = given[specs.length];
  return extra === undefined
    ? undefined
    : { index: extra.index, message: `unexpected argument ${JSON.stringify(extra.value)}` };
}

/** `http(s)://<address or name>[:port][/path]`, nothing else (no credentials, no query). */
const URL_PATTERN = /^https?:\/\/([^/:]+)(:([1-9][0-9]{0,4}))?(\/[A-Za-z0-9._%+/-]*)?$/;

function url(value: string): string | undefined {
  const match = URL_PATTERN.exec(value);
  if (!match || !isProbeTarget(match[1] ?? "") || (match[3] !== undefined && Number(match[3]) > 65_535)) {
    return "want http(s)://<address or name>[:port][/path]";
  }
  return undefined;
}

function port(value: string): string | undefined {
  return PORT.test(value) && Number(value) <= 65_535 ? undefined : "want a port from 1 to 65535";
}

/** `ip` and `bridge`: global flags, an object, `show`, and an optional `dev NAME`. */
function showCommand(flags: readonly string[], objects: readonly string[], canonical: string): Validator {
  return (args) => {
    while (args.peek()?.startsWith("-")) {
      const index = args.index;
      const flag = args.take() as string;
      if (!flags.includes(flag)) {
        return { index, message: `option ${flag} is not allowed (${flags.join(" ")})` };
      }
    }
    const objectIndex = args.index;
    const object = args.take();
    if (object === undefined) {
      return { message: `${args.argv[0]} needs an object (${canonical})` };
    }
    if (!objects.includes(object)) {
      return { index: objectIndex, message: `only ${canonical} may be shown, not ${JSON.stringify(object)}` };
    }
    const verbIndex = args.index;
    const verb = args.take();
    if (verb === undefined) {
      return undefined;
    }
    if (verb !== "show" && verb !== "list") {
      return { index: verbIndex, message: `read-only: only \`show\`, not ${JSON.stringify(verb)}` };
    }
    if (args.done()) {
      return undefined;
    }
    const devIndex = args.index;
    if (args.take() !== "dev") {
      return { index: devIndex, message: "only `dev NAME` may follow `show`" };
    }
    const nameIndex = args.index;
    const name = args.take();
    if (name === undefined || !IFNAME.test(name)) {
      return name === undefined
        ? { message: "`dev` needs an interface name" }
        : { index: nameIndex, message: "want an interface name" };
    }
    return args.done() ? undefined : { index: args.index, message: "unexpected argument after `dev NAME`" };
  };
}

const IPTABLES_TABLES = ["filter", "nat", "raw", "mangle"];

/** Read-only iptables: `[-t TABLE] -S [CHAIN]` or `[-t TABLE] -L` with -n, -v, -x (`-nL`, `-nvL`, `-L -n`). */
function iptables(args: Args): ExecRefusal | undefined {
  let mode: "S" | "L" | undefined;
  let chainSeen = false;
  let tableSeen = false;
  while (!args.done()) {
    const index = args.index;
    const arg = args.take() as string;
    if (arg === "-t") {
      const table = args.take();
      if (tableSeen || table === undefined || !IPTABLES_TABLES.includes(table)) {
        return {
          index: table === undefined ? index : index + 1,
          message: `want one table of ${IPTABLES_TABLES.join(", ")}`,
        };
      }
      tableSeen = true;
      continue;
    }
    if (arg === "--line-numbers") {
      continue;
    }
    if (/^-[A-Za-z]+$/.test(arg)) {
      for (const letter of arg.slice(1)) {
        if (letter === "S" || letter === "L") {
          if (mode !== undefined) {
            return { index, message: "one of -S or -L" };
          }
          mode = letter;
        } else if (!"nvx".includes(letter)) {
          return {
            index,
            message: `read-only: option -${letter} is not allowed (-S, -L, -n, -v, -x, -t TABLE)`,
          };
        }
      }
      continue;
    }
    if (mode !== undefined && !chainSeen && CHAIN.test(arg)) {
      chainSeen = true;
      continue;
    }
    return { index, message: `unexpected argument ${JSON.stringify(arg)}` };
  }
  return mode === undefined ? { message: "iptables needs -S or -L (read-only)" } : undefined;
}

const PROGRAMS: Readonly<Record<ExecProgram, Validator>> = {
  ping: shortOptions({
    flags: "nq",
    values: { c: integer(1, 20), W: integer(1, 10), i: decimal(0.2, 10), s: integer(0, 1472) },
    positionals: [{ name: "a target", check: target }],
  }),
  traceroute: shortOptions({
    flags: "nI",
    values: { m: integer(1, 30), w: integer(1, 5), q: integer(1, 3) },
    positionals: [{ name: "a target", check: target }],
  }),
  tracepath: shortOptions({
    flags: "n",
    values: { m: integer(1, 30) },
    positionals: [{ name: "a target", check: target }],
  }),
  curl: shortOptions({
    flags: "sSI",
    values: { m: integer(1, 30) },
    positionals: [{ name: "a URL", check: url }],
  }),
  nc: shortOptions({
    flags: "zvun",
    values: { w: integer(1, 10) },
    positionals: [
      { name: "a target", check: target },
      { name: "a port", check: port },
    ],
  }),
  getent: (args) =>
    checkPositionals(
      args,
      [
        {
          name: "a database (hosts, ahosts, ahostsv4)",
          check: (v) =>
            ["hosts", "ahosts", "ahostsv4"].includes(v) ? undefined : "want hosts, ahosts or ahostsv4",
        },
        { name: "a name", check: target },
      ],
      args.argv.slice(1).map((value, i) => ({ index: i + 1, value })),
    ),
  nslookup: (args) =>
    checkPositionals(
      args,
      [
        { name: "a name", check: target },
        { name: "a server", check: ipv4, optional: true },
      ],
      args.argv.slice(1).map((value, i) => ({ index: i + 1, value })),
    ),
  dig: (args) => {
    const given: { index: number; value: string }[] = [];
    for (const [i, value] of args.argv.slice(1).entries()) {
      const index = i + 1;
      if (value.startsWith("@")) {
        if (!isIpv4Address(value.slice(1))) {
          return { index, message: "a server: want @<IPv4 address>" };
        }
      } else if (value !== "+short") {
        given.push({ index, value });
      }
    }
    return checkPositionals(args, [{ name: "a name", check: target }], given);
  },
  ip: showCommand(
    ["-4", "-6", "-j", "-d", "-s", "-br", "-c", "-p"],
    ["addr", "address", "a", "link", "l", "route", "r", "neigh", "neighbour", "n"],
    "addr, link, route, neigh",
  ),
  bridge: showCommand(["-j", "-d", "-s", "-p"], ["link", "fdb"], "link, fdb"),
  ss: (args) => {
    while (!args.done()) {
      const index = args.index;
      const arg = args.take() as string;
      if (!/^-[tunaplse4]+$/.test(arg)) {
        return { index, message: "only the flags -t -u -n -a -p -l -s -e -4 (`ss -tunap`, `ss -ltn`)" };
      }
    }
    return undefined;
  },
  iptables,
};

/**
 * What is spawned for an allowed `argv`: the same arguments, with `curl -q` first so that no
 * `.curlrc` of the executor's account can add options (an output file, say).
 */
export function execSpawnArgv(argv: readonly string[]): string[] {
  return argv[0] === "curl" ? ["curl", "-q", ...argv.slice(1)] : [...argv];
}
