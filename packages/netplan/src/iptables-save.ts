/**
 * The one reader of `iptables-save` text (and of `iptables-restore` payloads, which share its
 * syntax): tables and their lines, classified. What each caller makes of them (the hooks
 * present, the chains that differ, the kernel view's Labnet part) is its own.
 */

/** One line of a table, whitespace-normalized (`text`). */
export type IptablesLine =
  /** `:CHAIN POLICY [packets:bytes]`; POLICY is `-` for a user-defined chain. */
  | { kind: "chain"; chain: string; policy: string; text: string }
  /** `-A CHAIN ...`; `target` is what `-j`/`-g` names, if anything. */
  | { kind: "rule"; chain: string; target: string | undefined; text: string }
  /** `-X CHAIN`. */
  | { kind: "delete"; chain: string; text: string }
  /** Anything else inside a table (`-I`, `-D`, `-F` ...). */
  | { kind: "other"; text: string };

/**
 * The tables of `text` in order of appearance, each with its lines; comments, blank lines,
 * `COMMIT` and lines outside a table are left out. A table that appears twice is one.
 *
 * @example
 * readIptablesTables("*nat\n:LABNET-DNAT - [0:0]\n-A PREROUTING -j LABNET-DNAT\nCOMMIT\n").get("nat")
 * // [{ kind: "chain", chain: "LABNET-DNAT", policy: "-", ... }, { kind: "rule", chain: "PREROUTING", target: "LABNET-DNAT", ... }]
 */
export function readIptablesTables(text: string): Map<string, IptablesLine[]> {
  const tables = new Map<string, IptablesLine[]>();
  let current: IptablesLine[] | undefined;
  for (const raw of text.split("\n")) {
    const line = raw.trim().replace(/\s+/g, " ");
    if (line.startsWith("*")) {
      const name = line.slice(1);
      current = tables.get(name) ?? [];
      tables.set(name, current);
    } else if (line === "COMMIT") {
      current = undefined;
    } else if (current !== undefined && line !== "" && !line.startsWith("#")) {
      current.push(classify(line));
    }
  }
  return tables;
}

function classify(text: string): IptablesLine {
  if (text.startsWith(":")) {
    const [chain = "", policy = "-"] = text.slice(1).split(" ");
    return { kind: "chain", chain, policy, text };
  }
  if (text.startsWith("-A ")) {
    const chain = text.split(" ")[1] ?? "";
    return { kind: "rule", chain, target: / -[jg] (\S+)/.exec(text)?.[1], text };
  }
  if (text.startsWith("-X ")) {
    return { kind: "delete", chain: text.slice(3), text };
  }
  return { kind: "other", text };
}
