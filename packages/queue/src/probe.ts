import { isIpv4 } from "@labnet/ipam";
import type { Probe as LabsProbe, ProbeResult as LabsProbeResult } from "@labnet/labs";
import { isValidNetnsName } from "@labnet/netplan";
import { z } from "zod";

/** At most this many probes in one `host.probe` job (a 30-student lab of 10 checks is 300). */
export const MAX_PROBES_PER_JOB = 512;
/** A probe's own time limit: at most 10 s. */
export const MAX_PROBE_TIMEOUT_MS = 10_000;
/** And at least this long (ping and nc take whole seconds; less would only ever fail). */
export const MIN_PROBE_TIMEOUT_MS = 100;

/**
 * A DNS name: labels of letters, digits, `_` (Docker's node names have them: `web_container.app`)
 * and inner `-`, joined by single dots. Never starts with `-`, so never read as an option.
 */
const HOSTNAME_PATTERN =
  /^[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*$/;
/** The longest DNS name (RFC 1035, without the trailing dot). */
const HOSTNAME_MAX = 253;

/** A last label of digits only: no DNS name ends so, and tools would read `010.1` as an address. */
const NUMERIC_LAST_LABEL = /(^|\.)[0-9]+$/;

/**
 * True for a probe target: an IPv4 address or a DNS name (what reaches ping, getent and nc).
 * A name whose last label is all digits (`010.0.0.1`, `1.2.3`) is neither.
 */
export function isProbeTarget(value: string): boolean {
  if (isIpv4(value)) {
    return true;
  }
  return value.length <= HOSTNAME_MAX && HOSTNAME_PATTERN.test(value) && !NUMERIC_LAST_LABEL.test(value);
}

/** True for a dotted-quad IPv4 address, no leading zeros (`010.0.0.1` would be read as octal by some tools). */
export function isIpv4Address(value: string): boolean {
  return isIpv4(value);
}

const NetnsName = z.string().refine(isValidNetnsName, { message: "not a valid netns name" });

/** Where a probe runs: a namespace under /run/netns (a node or a machine), or the lab host itself. */
export const ProbeOrigin = z.union([
  z.object({ netns: NetnsName }).strict(),
  z.object({ labHost: z.literal(true) }).strict(),
]);
export type ProbeOrigin = z.infer<typeof ProbeOrigin>;

/**
 * One grading probe, run for real inside `from`: ICMP echo, a TCP connect, a UDP datagram, or a
 * name lookup. `listenIn` starts a listener on `port` in that namespace for the probe's duration
 * (a lab's target node runs no service of its own).
 */
export const Probe = z
  .object({
    /** The caller's id, echoed back in the result. */
    id: z
      .string()
      .min(1)
      .max(256)
      .regex(/^[^\p{Cc}]+$/u, "no control characters"),
    kind: z.enum(["icmp", "tcp", "udp", "resolve"]),
    from: ProbeOrigin,
    /** IPv4 address or DNS name, resolved inside `from` (its /etc/netns files). */
    target: z.string().refine(isProbeTarget, { message: "not an IPv4 address or DNS name" }),
    port: z.number().int().min(1).max(65_535).optional(),
    listenIn: NetnsName.optional(),
    /**
     * The listener's port when it is not `port`: a published port's container port (`-p 8080:80`
     * probes port 8080 of the host with the listener on 80 in the node). Default: `port`.
     */
    listenPort: z.number().int().min(1).max(65_535).optional(),
    timeoutMs: z.number().int().min(MIN_PROBE_TIMEOUT_MS).max(MAX_PROBE_TIMEOUT_MS),
  })
  .strict()
  .superRefine((probe, ctx) => {
    const needsPort = probe.kind === "tcp" || probe.kind === "udp";
    if (needsPort && probe.port === undefined) {
      ctx.addIssue({ code: "custom", path: ["port"], message: `a ${probe.kind} probe needs a port` });
    }
    if (!needsPort && probe.port !== undefined) {
      ctx.addIssue({ code: "custom", path: ["port"], message: `a ${probe.kind} probe has no port` });
    }
    if (!needsPort && probe.listenIn !== undefined) {
      ctx.addIssue({ code: "custom", path: ["listenIn"], message: `a ${probe.kind} probe has no listener` });
    }
    if (probe.listenPort !== undefined && probe.listenIn === undefined) {
      ctx.addIssue({ code: "custom", path: ["listenPort"], message: "listenPort needs listenIn" });
    }
  });
/** The probe contract of `@labnet/labs` (check planning), which {@link Probe} validates. */
export type Probe = LabsProbe;

/**
 * What a probe found: `ok`, the address a name resolved to (or ping reached), the command that
 * ran (argv joined by spaces) and its output as evidence, and its wall time.
 */
export const ProbeResult = z
  .object({
    id: z.string(),
    ok: z.boolean(),
    address: z.string().optional(),
    command: z.string(),
    output: z.string(),
    ms: z.number(),
  })
  .strict();
/** The result contract of `@labnet/labs`, which {@link ProbeResult} validates. */
export type ProbeResult = LabsProbeResult;

/** True only when `A` and `B` are assignable both ways: the schemas and the contract agree. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
// Compile-time guards: a field added to or changed in the labs contract without its schema
// here (or the reverse) fails the typecheck.
const probeSchemaMatchesContract: Same<z.infer<typeof Probe>, LabsProbe> = true;
const resultSchemaMatchesContract: Same<z.infer<typeof ProbeResult>, LabsProbeResult> = true;
void probeSchemaMatchesContract;
void resultSchemaMatchesContract;

/** A `host.probe` job: the machine (or lab host) asked, and its probes. */
export const ProbeJob = z
  .object({
    hostId: z.string().regex(/^hst_[a-z2-7]{16}$/),
    probes: z.array(Probe).max(MAX_PROBES_PER_JOB),
  })
  .strict();
export type ProbeJob = z.infer<typeof ProbeJob>;
