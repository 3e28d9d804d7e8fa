/**
 * Whether the kernel already holds a rendered Labnet rule set, so a converge can skip its
 * `iptables-restore` (~35 ms even for a no-op on this machine: it flushes and refills
 * every Labnet chain). Conservative: any difference in the text, order or hooks counts as
 * "not applied", and the payload is applied as before.
 */

interface Table {
  /** User chains declared (`:CHAIN`). */
  chains: Set<string>;
  /** `-A` lines in order, per chain, whitespace-normalized. */
  rules: Map<string, string[]>;
  /** Lines that are neither declarations nor `-A` to a Labnet chain (hooks into built-ins). */
  other: string[];
}

const LABNET_CHAIN = /^LABNET-/;

/** Tables of an iptables-save output or an iptables-restore payload (same syntax). */
function parseTables(text: string): Map<string, Table> {
  const tables = new Map<string, Table>();
  let current: Table | undefined;
  for (const raw of text.split("\n")) {
    const line = raw.trim().replace(/\s+/g, " ");
    if (line.startsWith("*")) {
      current = { chains: new Set(), rules: new Map(), other: [] };
      tables.set(line.slice(1), current);
    } else if (current === undefined || line === "" || line.startsWith("#") || line === "COMMIT") {
      // outside a table, or nothing to compare
    } else if (line.startsWith(":")) {
      current.chains.add(line.slice(1).split(" ")[0] ?? "");
    } else {
      const chain = line.startsWith("-A ") ? (line.split(" ")[1] ?? "") : "";
      if (LABNET_CHAIN.test(chain)) {
        current.rules.set(chain, [...(current.rules.get(chain) ?? []), line]);
      } else {
        current.other.push(line);
      }
    }
  }
  return tables;
}

/**
 * True when every Labnet chain the payload declares exists in `iptablesSave` with exactly
 * the payload's rules in the payload's order, the payload adds no hook (hooks are only
 * rendered when missing), and the host has no Labnet rules in tables the payload leaves out.
 *
 * @example
 * isRuleSetApplied(renderIptablesRestore(bridges, save, ports), save) // true after a converge
 */
export function isRuleSetApplied(payload: string, iptablesSave: string): boolean {
  const wanted = parseTables(payload);
  const present = parseTables(iptablesSave);
  for (const [name, table] of wanted) {
    const have = present.get(name);
    if (have === undefined || table.other.length > 0) {
      return false;
    }
    for (const chain of table.chains) {
      if (!LABNET_CHAIN.test(chain) || !have.chains.has(chain)) {
        return false;
      }
      const want = table.rules.get(chain) ?? [];
      const got = have.rules.get(chain) ?? [];
      if (want.length !== got.length || want.some((rule, i) => rule !== got[i])) {
        return false;
      }
    }
  }
  for (const [name, table] of present) {
    if (!wanted.has(name) && [...table.rules.values()].some((rules) => rules.length > 0)) {
      return false;
    }
  }
  return true;
}

/**
 * What `iptables-save` would show after `payload` was restored (`--noflush`) over `before`:
 * every Labnet chain the payload declares holds exactly the payload's rules, other chains keep
 * theirs, and the payload's hooks are present. Lets a converge that just applied its rules
 * skip reading them back on the next converge (an `iptables-save` costs about 45 ms at 1,000
 * rules); the reconcile loop reads the real ones, so drift is still repaired.
 *
 * @example
 * isRuleSetApplied(payload, ruleSetAfter(payload, save)) // true
 */
export function ruleSetAfter(payload: string, before: string): string {
  const tables = parseTables(before);
  for (const [name, applied] of parseTables(payload)) {
    const table: Table = tables.get(name) ?? { chains: new Set(), rules: new Map(), other: [] };
    for (const chain of applied.chains) {
      // Declaring a chain in a --noflush payload flushes it.
      table.chains.add(chain);
      table.rules.set(chain, applied.rules.get(chain) ?? []);
    }
    table.other.push(...applied.other.map(asAppended));
    tables.set(name, table);
  }
  const lines: string[] = [];
  for (const [name, table] of tables) {
    lines.push(`*${name}`, ...[...table.chains].map((chain) => `:${chain} - [0:0]`), ...table.other);
    for (const rules of table.rules.values()) {
      lines.push(...rules);
    }
    lines.push("COMMIT");
  }
  return `${lines.join("\n")}\n`;
}

/** `-I CHAIN 1 -j X` as iptables-save lists it: `-A CHAIN -j X`. */
function asAppended(line: string): string {
  return line.replace(/^-I (\S+) 1 /, "-A $1 ");
}
