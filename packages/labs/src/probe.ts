/**
 * The contract between check planning (this package) and the probe executor (runs on the
 * lab host): what one probe is, and what it answers. Kept small and stable on purpose.
 */

/** One probe to run: a packet or a lookup from a namespace, with a time limit. */
export interface Probe {
  /** Unique within one run; the result carries it back. */
  id: string;
  kind: "icmp" | "tcp" | "udp" | "resolve";
  /** A node's or a machine's network namespace, or the lab host's outside world. */
  from: { netns: string } | { labHost: true };
  /** An IPv4 address, or a name resolved in `from` (for `resolve`: the name to look up). */
  target: string;
  /** tcp/udp: the port to probe on `target`. */
  port?: number;
  /** Netns where a listener must be started for tcp/udp, when the target is a node of the lab. */
  listenIn?: string;
  /**
   * The port that listener listens on when it is not `port`: a published port is probed on
   * its external (lab host) port and answered on the container port behind it.
   */
  listenPort?: number;
  timeoutMs: number;
}

/** What a probe answered. */
export interface ProbeResult {
  id: string;
  /** Reached (icmp/tcp/udp) or resolved (resolve). */
  ok: boolean;
  /** What a name resolved to. */
  address?: string;
  /** The command that ran, as a person would type it (evidence). */
  command: string;
  /** Its output (evidence). */
  output: string;
  ms: number;
}
