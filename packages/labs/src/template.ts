import type { STUDENT_ACTIONS } from "./schema";
/**
 * A template after parsing: defaults filled in and Compose's alternative forms normalized
 * (a service's networks as ordered attachments, `dns` as a list, `extra_hosts` as a map,
 * ports as strings). Names keep the template's spelling; keys keep the template's order.
 */

export type NetworkDriver = "bridge" | "macvlan" | "overlay";

export interface TemplateMachine {
  /** What the machine calls itself (default: its key), the same for every student. */
  hostname: string;
  /** Its `eth0` address on the instance's LAN (only with `lan.subnet`). */
  address?: string;
}

export interface TemplateIpamConfig {
  subnet: string;
  gateway?: string;
  ipRange?: string;
  auxAddresses?: Record<string, string>;
}

export interface TemplateNetwork {
  /** Its real name (Compose's `name`, default: its key); services and steps name it by key. */
  name: string;
  /** The machine it is on; for overlay networks the machine that creates it (see expandInstance). */
  machine: string;
  driver: NetworkDriver;
  /** Docker's `driver_opts`, values as strings (`isolated` is Labnet's own switch). */
  driverOpts: Record<string, string>;
  internal: boolean;
  attachable: boolean;
  ipam: TemplateIpamConfig[];
  labels: Record<string, string>;
}

export interface TemplateAttachment {
  network: string;
  ipv4Address?: string;
  aliases?: string[];
}

export interface TemplateService {
  machine: string;
  /**
   * `none`, `bridge`, `host`, `container:<service>` or a network's name; undefined when
   * `networks` decide (then the first attachment is eth0).
   */
  networkMode?: string;
  /** In order: eth0, eth1, ... */
  networks: TemplateAttachment[];
  /** `docker run -p` strings. */
  ports: string[];
  /** `--expose` strings. */
  expose: string[];
  hostname?: string;
  dns: string[];
  dnsSearch: string[];
  dnsOptions: string[];
  /** name → IPv4 address or `host-gateway`. */
  extraHosts: Record<string, string>;
  labels: Record<string, string>;
}

export type TemplateStep =
  | { kind: "connect"; network: string; service: string; ipv4Address?: string; aliases?: string[] }
  | { kind: "disconnect"; network: string; service: string }
  | { kind: "createNetwork"; name: string; network: TemplateNetwork }
  | { kind: "deleteNetwork"; name: string }
  | { kind: "createService"; name: string; service: TemplateService }
  | { kind: "deleteService"; name: string }
  | { kind: "publish"; service: string; ports: string[] };

/** Where a check's probe starts: a service's namespace, a machine's own, or the lab host's outside world. */
export type CheckOrigin =
  | { kind: "service"; service: string }
  | { kind: "machine"; machine: string }
  | { kind: "outside" };

export type TemplateCheck =
  | {
      kind: "reach";
      name: string;
      from: CheckOrigin;
      /** A service name, a DNS name or an IPv4 address, as written. */
      to: string;
      protocol: "icmp" | "tcp" | "udp";
      port?: number;
      expect: "reachable" | "unreachable";
      timeoutMs?: number;
    }
  | {
      kind: "resolve";
      name: string;
      from: CheckOrigin;
      resolve: string;
      expect: "resolves" | "does_not_resolve";
      address?: string;
      timeoutMs?: number;
    }
  | {
      kind: "published";
      name: string;
      from: CheckOrigin;
      service: string;
      port: number;
      protocol: "tcp" | "udp";
      expect: "reachable" | "unreachable";
      timeoutMs?: number;
    };

export interface LabTemplate {
  name: string;
  title: string;
  description?: string;
  machines: Record<string, TemplateMachine>;
  lan: { subnet?: string };
  networks: Record<string, TemplateNetwork>;
  services: Record<string, TemplateService>;
  solution: TemplateStep[];
  checks: TemplateCheck[];
  /** What students may change in their instance, and how much they may add. */
  students: TemplateStudents;
}

/** What a student may change in their instance: one of STUDENT_ACTIONS. */
export type StudentAction = (typeof STUDENT_ACTIONS)[number];

export interface TemplateStudents {
  may: StudentAction[];
  /** At most this many networks, nodes and published ports in an instance (the template's own included). */
  limits: { networks: number; nodes: number; ports: number };
}

/** A problem in a template, said in the template's own vocabulary. */
export interface TemplateError {
  /** `services.web.networks[1]`; empty for the template as a whole. */
  path: string;
  message: string;
  /** 1-based, for YAML (and JSON) text. */
  line?: number;
  column?: number;
}
