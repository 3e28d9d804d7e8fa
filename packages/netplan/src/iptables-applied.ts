/**
 * What of a rendered Labnet rule set the kernel does not hold yet. A restore costs in
 * proportion to what it carries (about 45 ms for 1,000 rules, 5 ms for a small chain, even
 * next to 1,000 others), so a converge restores only the Labnet chains whose rules differ,
 * the hooks that are missing, and the deletion of Labnet chains no longer rendered; nothing
 * when the kernel already holds the set. A chain that only gains rules gets them inserted in
 * place (`-I CHAIN N`); any other difference in its text or order rewrites the whole chain.
 * The difference matters on nf_tables: a commit that removes a rule (a flush included) waits
 * for the kernel to retire it, 10-40 ms here, where one that only adds takes 2-3 ms, so a
 * node's published port costs no rewrite of its network's chains.
 */
import { readIptablesTables } from "./iptables-save";

interface Table {
  /** Chains declared (`:CHAIN`), in order. */
  chains: Set<string>;
  /** `-A` lines in order, per Labnet chain, whitespace-normalized. */
  rules: Map<string, string[]>;
  /** Lines that are neither declarations, `-A` to a Labnet chain, nor `-X` (hooks into built-ins). */
  other: string[];
  /** Chains deleted (`-X CHAIN`). */
  deleted: Set<string>;
  /** `-I CHAIN N rule` lines of Labnet chains, in order: the rule as `-A CHAIN rule`, at 1-based N. */
  inserts: { chain: string; position: number; rule: string }[];
}

const LABNET_CHAIN = /^LABNET-/;
/** `-I LABNET-… N rest`: a rule inserted into a Labnet chain at position N. */
const LABNET_INSERT = /^-I (LABNET-\S+) (\d+) (.+)$/;

function emptyTable(): Table {
  return { chains: new Set(), rules: new Map(), other: [], deleted: new Set(), inserts: [] };
}

/** Tables of an iptables-save output or an iptables-restore payload (same syntax). */
function parseTables(text: string): Map<string, Table> {
  const tables = new Map<string, Table>();
  for (const [name, lines] of readIptablesTables(text)) {
    const table = emptyTable();
    for (const line of lines) {
      if (line.kind === "chain") {
        table.chains.add(line.chain);
      } else if (line.kind === "delete") {
        table.deleted.add(line.chain);
      } else if (line.kind === "other" && LABNET_INSERT.test(line.text)) {
        const [, chain = "", position = "1", rest = ""] = LABNET_INSERT.exec(line.text) ?? [];
        table.inserts.push({ chain, position: Number(position), rule: `-A ${chain} ${rest}` });
      } else if (line.kind === "rule" && LABNET_CHAIN.test(line.chain)) {
        const rules = table.rules.get(line.chain);
        if (rules) {
          rules.push(line.text);
        } else {
          table.rules.set(line.chain, [line.text]);
        }
      } else {
        table.other.push(line.text);
      }
    }
    tables.set(name, table);
  }
  return tables;
}

function sameRules(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((rule, i) => rule === b[i]);
}

/**
 * The part of `payload` (a complete rendered rule set) that `iptablesSave` does not hold: per
 * table, the Labnet chains whose rules differ (a chain that only gains rules gets them
 * inserted in place, any other is declared, so flushed, and refilled), the hooks the payload
 * adds (it renders only missing ones), and for each Labnet chain the kernel has but the
 * payload no longer renders, its declaration and `-X` after every rewrite (whatever jumped to
 * it is rewritten in the same commit). "" when nothing differs.
 *
 * @example
 * minimalRestore(renderIptablesRestore(bridges, save, ports), save) // "" on a converged host
 */
export function minimalRestore(payload: string, iptablesSave: string): string {
  const wanted = parseTables(payload);
  const present = parseTables(iptablesSave);
  const lines: string[] = [];
  for (const [name, table] of wanted) {
    const have = present.get(name) ?? emptyTable();
    const rewritten: string[] = [];
    const inserted: string[] = [];
    for (const chain of table.chains) {
      if (!LABNET_CHAIN.test(chain)) {
        continue;
      }
      const rules = table.rules.get(chain) ?? [];
      const kernel = have.rules.get(chain) ?? [];
      if (have.chains.has(chain) && sameRules(rules, kernel)) {
        continue;
      }
      const inserts = have.chains.has(chain) ? insertsInto(chain, kernel, rules) : undefined;
      if (inserts) {
        inserted.push(...inserts);
      } else {
        rewritten.push(chain);
      }
    }
    const stale = [...have.chains].filter((chain) => LABNET_CHAIN.test(chain) && !table.chains.has(chain));
    if (rewritten.length === 0 && inserted.length === 0 && stale.length === 0 && table.other.length === 0) {
      continue;
    }
    lines.push(`*${name}`, ...[...rewritten, ...stale].map((chain) => `:${chain} - [0:0]`), ...table.other);
    for (const chain of rewritten) {
      lines.push(...(table.rules.get(chain) ?? []));
    }
    lines.push(...inserted, ...stale.map((chain) => `-X ${chain}`), "COMMIT");
  }
  return lines.length === 0 ? "" : `${lines.join("\n")}\n`;
}

/**
 * When `kernel` (a chain's rules now) is `wanted` with rules missing, the lines that put them
 * in place, first to last (each position counts the ones before it); undefined when the
 * chain holds a rule not wanted or in another order, which only a rewrite mends.
 */
function insertsInto(
  chain: string,
  kernel: readonly string[],
  wanted: readonly string[],
): string[] | undefined {
  const lines: string[] = [];
  let matched = 0;
  for (const [i, rule] of wanted.entries()) {
    if (matched < kernel.length && kernel[matched] === rule) {
      matched += 1;
    } else if (matched === kernel.length) {
      // Nothing of the kernel's after it: appended.
      lines.push(rule);
    } else {
      lines.push(rule.replace(`-A ${chain} `, `-I ${chain} ${i + 1} `));
    }
  }
  return matched === kernel.length ? lines : undefined;
}

/**
 * True when the kernel already holds exactly the rendered rule set: every Labnet chain with
 * the payload's rules in the payload's order, no hook missing, no stale Labnet chain.
 *
 * @example
 * isRuleSetApplied(renderIptablesRestore(bridges, save, ports), save) // true after a converge
 */
export function isRuleSetApplied(payload: string, iptablesSave: string): boolean {
  return minimalRestore(payload, iptablesSave) === "";
}

/**
 * What `iptables-save` would show after `payload` was restored (`--noflush`) over `before`:
 * every Labnet chain the payload declares holds exactly the payload's rules, chains it
 * deletes are gone, other chains keep theirs, and the payload's hooks are present. Lets a
 * converge that just applied its rules skip reading them back on the next converge (an
 * `iptables-save` costs about 45 ms at 1,000 rules); the reconcile loop reads the real ones,
 * so drift is still repaired.
 *
 * @example
 * isRuleSetApplied(payload, ruleSetAfter(minimalRestore(payload, save), save)) // true
 */
export function ruleSetAfter(payload: string, before: string): string {
  const tables = parseTables(before);
  for (const [name, applied] of parseTables(payload)) {
    const table = tables.get(name) ?? emptyTable();
    for (const chain of applied.chains) {
      // Declaring a chain in a --noflush payload flushes it.
      table.chains.add(chain);
      table.rules.set(chain, applied.rules.get(chain) ?? []);
    }
    // Rules of a chain the payload does not declare were added to what it held.
    for (const [chain, rules] of applied.rules) {
      if (!applied.chains.has(chain)) {
        table.rules.set(chain, [...(table.rules.get(chain) ?? []), ...rules]);
      }
    }
    for (const { chain, position, rule } of applied.inserts) {
      const rules = table.rules.get(chain) ?? [];
      rules.splice(position - 1, 0, rule);
      table.rules.set(chain, rules);
    }
    for (const chain of applied.deleted) {
      table.chains.delete(chain);
      table.rules.delete(chain);
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
