import type { CliContext } from "../context";

/** Commander's accumulator for repeatable flags (`-p 80 -p 443`). */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** A positive integer flag value, or commander's error naming the flag. */
export function integer(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) {
    throw new Error(`${JSON.stringify(value)} is not a whole number`);
  }
  return n;
}

/** Machine (host) id → name, for tables that show where things are; empty when unreadable. */
export async function machineNames(ctx: CliContext): Promise<Map<string, string>> {
  const { data } = await ctx.client.GET("/v1/machines").catch(() => ({ data: undefined }));
  return new Map((data?.items ?? []).map((m) => [m.id, m.name]));
}

/** `2 minutes ago`-style age of a timestamp, as docker's tables show it. */
export function age(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) {
    return "";
  }
  const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  const units: [number, string][] = [
    [86_400, "day"],
    [3_600, "hour"],
    [60, "minute"],
    [1, "second"],
  ];
  for (const [size, unit] of units) {
    if (seconds >= size) {
      const n = Math.floor(seconds / size);
      return `${n} ${unit}${n === 1 ? "" : "s"} ago`;
    }
  }
  return "just now";
}
