/**
 * Name rules of templates and the names an instance's resources get. One place for every
 * pattern, so the schema, the semantic checks and the expansion agree.
 */
import { createHash } from "node:crypto";

/** A template's name: a lowercase DNS label start, as `seed-001-ex2`. */
export const TEMPLATE_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

/**
 * Networks and services: Labnet's resource names without dots (a dot would make
 * `service.network` ambiguous), so `web_container` and `my-net` work as in Docker.
 */
export const RESOURCE_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_-]{0,62}$/;

/** A machine key: a lowercase DNS label (it becomes part of a machine name and its default hostname). */
export const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** A DNS name of RFC 1123 labels (hostnames, aliases, search domains, extra hosts). */
const NAME_LABEL = /^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/;

/** Label keys as the API takes them. */
export const LABEL_KEY = /^[a-zA-Z0-9][a-zA-Z0-9_./-]{0,127}$/;

/** Names Docker predefines on every machine: declared by no template. */
export const PREDEFINED_NETWORKS = ["bridge", "host", "none"] as const;

/** The predefined `bridge` network of every machine (Docker's docker0). */
export const DEFAULT_BRIDGE = { name: "bridge", subnet: "172.17.0.0/16", gateway: "172.17.0.1" } as const;

/** The template's LAN when it names none (the LAN pool's first subnet): machine addresses lie in it. */
export const DEFAULT_TEMPLATE_LAN = "10.0.0.0/24";

/** The machine a template without `machines` gets. */
export const DEFAULT_MACHINE_KEY = "host";

/** Whether `name` is a DNS name of RFC 1123 labels, at most 253 characters. */
export function isDnsName(name: string, { underscore = false } = {}): boolean {
  if (name.length === 0 || name.length > 253) {
    return false;
  }
  const label = underscore ? /^[a-zA-Z0-9_]([a-zA-Z0-9_-]{0,61}[a-zA-Z0-9_])?$/ : NAME_LABEL;
  return name.split(".").every((part) => label.test(part));
}

/** Whether a name is all digits (it would sort first among an object's keys and read as a number). */
export function isAllDigits(name: string): boolean {
  return /^[0-9]+$/.test(name);
}

/** A value shown in a message: JSON-quoted (newlines and quotes escaped) and cut at 64 characters. */
export function quote(value: unknown): string {
  const text = typeof value === "string" ? value : String(value);
  const cut = text.length > 64 ? `${text.slice(0, 64)}...` : text;
  return JSON.stringify(cut);
}

/**
 * A path in the template's own words: `services.web.networks[1]`,
 * `networks.web.driver_opts["com.docker.network.driver.mtu"]`.
 */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const segment of path) {
    if (typeof segment === "number") {
      out += `[${segment}]`;
    } else {
      const key = String(segment);
      if (/^[A-Za-z0-9_-]+$/.test(key) && key.length <= 64) {
        out += out === "" ? key : `.${key}`;
      } else {
        out += `[${quote(key)}]`;
      }
    }
  }
  return out;
}

const MAX_LABEL = 63;
const HASH_LENGTH = 8;

/**
 * `parts` joined by `-` as a DNS label of at most 63 characters. When the joined text is not
 * one already (too long, upper case, other characters), it is folded to one and ends in a
 * hash of the original text, so different inputs stay different names and the same input
 * always gives the same name.
 *
 * @example instanceLabel(["net101", "alice", "bdc01"]) // "net101-alice-bdc01"
 * @example instanceLabel(["net101", "Alice Smith", "bdc01"]) // "net101-alice-smith-bdc01-<8 hex>"
 */
export function instanceLabel(parts: readonly string[]): string {
  const joined = parts.join("-");
  if (DNS_LABEL.test(joined)) {
    return joined;
  }
  const hash = createHash("sha256").update(joined).digest("hex").slice(0, HASH_LENGTH);
  const folded = joined
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/-+/g, "-")
    .replace(/^-|-$/g, "")
    .slice(0, MAX_LABEL - HASH_LENGTH - 1)
    .replace(/-$/, "");
  return folded === "" ? `x-${hash}` : `${folded}-${hash}`;
}
