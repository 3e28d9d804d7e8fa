/**
 * The template as written (YAML or JSON), as a strict zod schema: unknown keys are refused,
 * every string has a pattern or a bound, every number a range. Compose's alternative forms
 * (`networks` as a list or a map, `dns` as a string or a list, ...) are accepted here and
 * normalized later (normalize.ts); cross-references are checked in validate.ts.
 */
import { isIpv4, parseCidr, reservedSubnetProblem } from "@labnet/ipam";
import { z } from "zod";
import { DNS_LABEL, isAllDigits, isDnsName, LABEL_KEY, RESOURCE_NAME, TEMPLATE_NAME } from "./names";

/** Limits of one template. */
/** What a student token may change in its instance (on its own machines): the template's `students.may`. */
export const STUDENT_ACTIONS = ["connect", "disconnect", "networks", "nodes", "ports"] as const;

export const LIMITS = {
  machines: 16,
  networks: 64,
  services: 256,
  checks: 128,
  solution: 256,
  /** Characters of template text. */
  text: 512 * 1024,
} as const;

/** C0 controls and DEL (the queue package uses the same Unicode class for probe ids). */
const CONTROL = /\p{Cc}/u;

/** A name ending in a digits-only label reads as an address to tools (`1.2.3`, `010.0.0.1`). */
const NUMERIC_LAST_LABEL = /(^|\.)[0-9]+$/;

const resourceName = (what: string) =>
  z
    .string()
    .max(63, { error: `a ${what} name has at most 63 characters` })
    .regex(RESOURCE_NAME, {
      error: `a ${what} name is a letter or digit, then up to 62 letters, digits, _ or -`,
    })
    .refine((name) => !isAllDigits(name), { error: `a ${what} name must not be all digits` });

const machineKey = z
  .string()
  .max(63, { error: "a machine name has at most 63 characters" })
  .regex(DNS_LABEL, { error: "a machine name is a DNS label: a-z, 0-9 and inner -, at most 63" })
  .refine((name) => !isAllDigits(name), { error: "a machine name must not be all digits" });

const ipv4 = z
  .string()
  .max(15, { error: "not an IPv4 address" })
  .refine(isIpv4, { error: "not an IPv4 address (a dotted quad such as 172.18.0.5)" });

const cidr = z
  .string()
  .max(18, { error: "not an IPv4 subnet" })
  .superRefine((value, ctx) => {
    const parsed = parseCidr(value);
    if (!parsed.ok) {
      ctx.addIssue({ code: "custom", message: parsed.message });
      return;
    }
    const reserved = reservedSubnetProblem(parsed.cidr);
    if (reserved !== undefined) {
      ctx.addIssue({ code: "custom", message: `invalid subnet ${value}: ${reserved}` });
    }
  });

const dnsName = (what: string) =>
  z
    .string()
    .max(253, { error: `a ${what} has at most 253 characters` })
    .refine((name) => isDnsName(name), {
      error: `a ${what} is a DNS name: labels of letters, digits and inner -, joined by dots`,
    });

const hostname = z
  .string()
  .max(63, { error: "a hostname has at most 63 characters" })
  .regex(DNS_LABEL, { error: "a hostname is a DNS label: a-z, 0-9 and inner -, at most 63" });

/** A single-line text (titles, check names). */
const line = (max: number) =>
  z
    .string()
    .min(1, { error: "must not be empty" })
    .max(max, { error: `at most ${max} characters` })
    .refine((text) => !CONTROL.test(text), { error: "must be one line without control characters" });

const labels = z
  .record(
    z.string().regex(LABEL_KEY, {
      error: "a label key is a letter or digit, then up to 127 letters, digits, _ . / or -",
    }),
    z.string().max(1024, { error: "a label value has at most 1024 characters" }),
  )
  .refine((value) => Object.keys(value).length <= 64, { error: "at most 64 labels" });

/** A port as Compose writes it: a string (`"8080:80"`, `"53/udp"`) or a bare number. */
const portString = z.union([
  z.string().min(1).max(64, { error: "a port spec has at most 64 characters" }),
  z.int().min(0).max(65535),
]);

const port = z.int({ error: "a port is a whole number" }).min(1).max(65535);

const aliases = z.array(dnsName("alias")).max(16, { error: "at most 16 aliases" });

/** `driver_opts` keys Labnet knows (Docker's names, and Labnet's `isolated`). */
export const DRIVER_OPTS = [
  "parent",
  "macvlan_mode",
  "isolated",
  "com.docker.network.bridge.enable_icc",
  "com.docker.network.driver.mtu",
  "com.docker.network.driver.overlay.vxlanid_list",
] as const;

const optionValue = z.union([z.string().max(64), z.int().min(0).max(16_777_215), z.boolean()]);

export const RawIpamConfig = z.strictObject({
  subnet: cidr,
  gateway: ipv4.optional(),
  ip_range: cidr.optional(),
  aux_addresses: z
    .record(resourceName("aux address"), ipv4)
    .refine((value) => Object.keys(value).length <= 64, { error: "at most 64 aux addresses" })
    .optional(),
});

const networkFields = {
  machine: machineKey.optional(),
  driver: z
    .enum(["bridge", "macvlan", "overlay"], { error: "driver is bridge, macvlan or overlay" })
    .optional(),
  driver_opts: z
    .strictObject(Object.fromEntries(DRIVER_OPTS.map((key) => [key, optionValue.optional()])))
    .optional(),
  internal: z.boolean().optional(),
  attachable: z.boolean().optional(),
  ipam: z
    .strictObject({
      driver: z.literal("default", { error: "the only IPAM driver is default" }).optional(),
      config: z.array(RawIpamConfig).max(8, { error: "at most 8 IPAM configs" }).optional(),
    })
    .optional(),
  labels: labels.optional(),
};

/** `name`: the network's real name when it is not its key (Compose's word), so two machines can each have `macvlan_1`. */
export const RawNetwork = z.strictObject({ ...networkFields, name: resourceName("network").optional() });

const attachment = z.strictObject({
  ipv4_address: ipv4.optional(),
  aliases: aliases.optional(),
});

const stringOrList = <T extends z.ZodType>(item: T, max: number, what: string) =>
  z.union([item, z.array(item).max(max, { error: `at most ${max} ${what}` })]);

const serviceFields = {
  machine: machineKey.optional(),
  network_mode: z
    .string()
    .max(80, { error: "not a network mode" })
    .regex(/^(none|bridge|host|container:[a-zA-Z0-9][a-zA-Z0-9_-]{0,62}|[a-zA-Z0-9][a-zA-Z0-9_-]{0,62})$/, {
      error: "network_mode is none, bridge, host, container:<service> or a network's name",
    })
    .optional(),
  networks: z
    .union([
      z.array(resourceName("network")).max(8, { error: "at most 8 networks" }),
      z
        .record(resourceName("network"), attachment.nullable())
        .refine((value) => Object.keys(value).length <= 8, { error: "at most 8 networks" }),
    ])
    .optional(),
  ports: z.array(portString).max(256, { error: "at most 256 ports" }).optional(),
  expose: z.array(portString).max(256, { error: "at most 256 exposed ports" }).optional(),
  hostname: hostname.optional(),
  dns: stringOrList(ipv4, 3, "name servers").optional(),
  dns_search: stringOrList(dnsName("search domain"), 6, "search domains").optional(),
  dns_opt: z
    .array(
      z.string().regex(/^[a-z][a-z0-9-]*(:[0-9]{1,3})?$/, { error: "a resolver option such as ndots:2" }),
    )
    .max(16, { error: "at most 16 resolver options" })
    .optional(),
  extra_hosts: z
    .union([
      z
        .array(
          z
            .string()
            .max(270, { error: "an extra host has at most 270 characters" })
            .regex(/^[^:=\s]+[:=][^\s]+$/, { error: "an extra host is name:address" }),
        )
        .max(64, { error: "at most 64 extra hosts" }),
      z
        .record(dnsName("host name"), z.string().max(15))
        .refine((value) => Object.keys(value).length <= 64, { error: "at most 64 extra hosts" }),
    ])
    .optional(),
  labels: labels.optional(),
  /** Compose keys without meaning for a network namespace; accepted so compose files paste, ignored. */
  image: z.string().max(256).optional(),
  command: z.union([z.string().max(4096), z.array(z.string().max(4096)).max(64)]).optional(),
  tty: z.boolean().optional(),
  stdin_open: z.boolean().optional(),
};

export const RawService = z.strictObject(serviceFields);

const checkName = line(200);

const serviceRef = resourceName("service");
const networkRef = resourceName("network");

export const RawStep = z.union([
  z.strictObject({
    connect: z.strictObject({
      network: networkRef,
      service: serviceRef,
      ipv4_address: ipv4.optional(),
      aliases: aliases.optional(),
    }),
  }),
  z.strictObject({ disconnect: z.strictObject({ network: networkRef, service: serviceRef }) }),
  z.strictObject({ create_network: z.strictObject({ name: resourceName("network"), ...networkFields }) }),
  z.strictObject({ delete_network: networkRef }),
  z.strictObject({ create_service: z.strictObject({ name: resourceName("service"), ...serviceFields }) }),
  z.strictObject({ delete_service: serviceRef }),
  z.strictObject({
    publish: z.strictObject({
      service: serviceRef,
      ports: z.array(portString).min(1).max(256, { error: "at most 256 ports" }),
    }),
  }),
]);

export const RawCheck = z.strictObject({
  name: checkName,
  from: z
    .string()
    .max(80, { error: "not a service, machine:<machine> or outside" })
    .regex(/^(outside|machine:[a-z0-9][a-z0-9-]{0,62}|[a-zA-Z0-9][a-zA-Z0-9_-]{0,62})$/, {
      error: "from is a service, machine:<machine> or outside",
    })
    .optional(),
  to: z
    .string()
    .max(253, { error: "a target has at most 253 characters" })
    .refine(
      (target) =>
        isIpv4(target) || (isDnsName(target, { underscore: true }) && !NUMERIC_LAST_LABEL.test(target)),
      {
        error: "to is a service, a DNS name (web_container.app) or an IPv4 address",
      },
    )
    .optional(),
  protocol: z.enum(["icmp", "tcp", "udp"], { error: "protocol is icmp, tcp or udp" }).optional(),
  port: port.optional(),
  resolve: z
    .string()
    .max(253)
    .refine((name) => isDnsName(name, { underscore: true }) && !NUMERIC_LAST_LABEL.test(name), {
      error: "resolve takes a DNS name",
    })
    .optional(),
  address: ipv4.optional(),
  published: z
    .strictObject({
      service: serviceRef,
      port,
      protocol: z.enum(["tcp", "udp"], { error: "protocol is tcp or udp" }).optional(),
    })
    .optional(),
  expect: z
    .enum(["reachable", "unreachable", "resolves", "does_not_resolve"], {
      error: "expect is reachable, unreachable, resolves or does_not_resolve",
    })
    .optional(),
  timeout_ms: z.int().min(100).max(10_000).optional(),
});

export const RawTemplate = z.strictObject({
  name: z
    .string()
    .max(63, { error: "a template name has at most 63 characters" })
    .regex(TEMPLATE_NAME, { error: "a template name is a-z, 0-9 and -, starting with a letter or digit" }),
  title: line(200).optional(),
  description: z.string().max(20_000, { error: "at most 20000 characters" }).optional(),
  machines: z
    .record(
      machineKey,
      z.strictObject({ hostname: hostname.optional(), address: ipv4.optional() }).nullable(),
    )
    .optional(),
  lan: z.strictObject({ subnet: cidr.optional() }).optional(),
  networks: z.record(resourceName("network"), RawNetwork.nullable()).optional(),
  services: z.record(resourceName("service"), RawService.nullable()).optional(),
  solution: z
    .array(RawStep)
    .max(LIMITS.solution, { error: `at most ${LIMITS.solution} steps` })
    .optional(),
  checks: z
    .array(RawCheck)
    .max(LIMITS.checks, { error: `at most ${LIMITS.checks} checks` })
    .optional(),
  students: z
    .strictObject({
      may: z
        .array(z.enum(STUDENT_ACTIONS, { error: `a student action: ${STUDENT_ACTIONS.join(", ")}` }))
        .max(STUDENT_ACTIONS.length)
        .optional(),
      limits: z
        .strictObject({
          networks: z.int().min(0).max(100).optional(),
          nodes: z.int().min(0).max(200).optional(),
          ports: z.int().min(0).max(1000).optional(),
        })
        .optional(),
    })
    .optional(),
});

export type RawTemplate = z.infer<typeof RawTemplate>;
export type RawNetwork = z.infer<typeof RawNetwork>;
export type RawService = z.infer<typeof RawService>;
export type RawStep = z.infer<typeof RawStep>;
export type RawCheck = z.infer<typeof RawCheck>;
export type RawIpamConfig = z.infer<typeof RawIpamConfig>;
