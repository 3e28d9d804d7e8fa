/**
 * `Prefer` (RFC 7240) as Labnet reads it: `wait=N`; everything else (`respond-async`, which is
 * what Labnet does anyway, malformed parts included) is ignored, as the RFC asks.
 */

/** The longest a call waits for its operation, whatever the client asks. */
export const MAX_PREFER_WAIT_SECONDS = 60;

/** The preferences Labnet honours. */
export interface Preferences {
  /** Seconds to wait for the operation (clamped to the maximum), if asked. */
  wait?: number;
}

/** Splits on `sep` outside double-quoted strings. */
function splitOutsideQuotes(value: string, sep: string): string[] {
  const parts: string[] = [];
  let current = "";
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const ch = value[i] ?? "";
    if (quoted && ch === "\\") {
      current += ch + (value[i + 1] ?? "");
      i++;
      continue;
    }
    if (ch === '"') {
      quoted = !quoted;
    }
    if (ch === sep && !quoted) {
      parts.push(current);
      current = "";
      continue;
    }
    current += ch;
  }
  parts.push(current);
  return parts;
}

function unquote(value: string): string {
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
    return value.slice(1, -1).replace(/\\(.)/g, "$1");
  }
  return value;
}

/**
 * Parses one or more `Prefer` header values (several headers arrive joined by `,`).
 * Only the first occurrence of a preference counts (RFC 7240 §2).
 *
 * @example
 * parsePrefer("respond-async, wait=100") // { wait: 60 }
 */
export function parsePrefer(
  header: string | null | undefined,
  maxWaitSeconds: number = MAX_PREFER_WAIT_SECONDS,
): Preferences {
  const preferences: Preferences = {};
  if (!header) {
    return preferences;
  }
  const seen = new Set<string>();
  for (const item of splitOutsideQuotes(header, ",")) {
    // Parameters after `;` qualify a preference; none of ours takes any.
    const [head = ""] = splitOutsideQuotes(item, ";");
    const eq = head.indexOf("=");
    const name = (eq === -1 ? head : head.slice(0, eq)).trim().toLowerCase();
    const value = eq === -1 ? undefined : unquote(head.slice(eq + 1).trim());
    if (name === "" || seen.has(name)) {
      continue;
    }
    seen.add(name);
    if (name === "wait" && value !== undefined && /^\d{1,12}$/.test(value)) {
      preferences.wait = Math.min(Number(value), maxWaitSeconds);
    }
  }
  return preferences;
}

/** The seconds `Prefer: wait=N` asks for, clamped; `undefined` when absent or malformed. */
export function parsePreferWait(
  header: string | null | undefined,
  maxWaitSeconds: number = MAX_PREFER_WAIT_SECONDS,
): number | undefined {
  return parsePrefer(header, maxWaitSeconds).wait;
}

/** The `Preference-Applied` value for a wait the server honoured: `wait=30`. */
export function preferenceApplied(waitSeconds: number): string {
  return `wait=${waitSeconds}`;
}
