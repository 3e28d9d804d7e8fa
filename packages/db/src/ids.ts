import { randomBytes } from "node:crypto";

const ALPHABET = "abcdefghijklmnopqrstuvwxyz234567";

/** Resource kinds and the prefix their ids carry (`net_k3x...`). */
export const ID_PREFIX = {
  portMapping: "pm",
  host: "hst",
  network: "net",
  ipamConfig: "ipc",
  node: "nod",
  endpoint: "ep",
  operation: "op",
  token: "tok",
  account: "acc",
  labTemplate: "tpl",
  lab: "lab",
  labInstance: "lin",
  checkRun: "chk",
} as const;

export type IdKind = keyof typeof ID_PREFIX;

/**
 * A new random id: prefix, underscore, 16 base32 characters (80 bits).
 * Kernel names are derived from the random part, so it is lowercase, never all digits,
 * and has no `:` (BullMQ job ids) — see @labnet/netplan names.
 */
export function newId(kind: IdKind): string {
  const bytes = randomBytes(16);
  let out = "";
  for (const byte of bytes) {
    out += ALPHABET[byte & 31];
  }
  return `${ID_PREFIX[kind]}_${out}`;
}
