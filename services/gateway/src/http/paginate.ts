/**
 * Pages of a list (`?limit=N&cursor=...`): the items after the cursor in the list's order, at
 * most `limit` of them, and the cursor of the next page (null on the last). The cursor is the
 * sort key of the last item given (keyset, not an offset), so removals and additions between
 * two calls neither repeat nor skip an item that stays. Without `limit` the whole list is one page.
 */
import { badRequest } from "./problem";

/** The paging parameters of a list operation. */
export interface PageQuery {
  limit?: number;
  cursor?: string;
}

/** A list's page as the contract shapes it. */
export interface Page<T> {
  items: T[];
  next: string | null;
}

function compareKeys(a: readonly string[], b: readonly string[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i] ?? "";
    const y = b[i] ?? "";
    if (x !== y) {
      return x < y ? -1 : 1;
    }
  }
  return 0;
}

function encodeCursor(key: readonly string[]): string {
  return Buffer.from(JSON.stringify(key)).toString("base64url");
}

function decodeCursor(cursor: string): string[] {
  try {
    const key: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    if (Array.isArray(key) && key.length > 0 && key.every((k) => typeof k === "string")) {
      return key;
    }
  } catch {
    // Not ours: refused below.
  }
  throw badRequest("The cursor is not one this list gave.", [
    { location: "query.cursor", message: "is not a cursor of this list (pass the `next` of a page)" },
  ]);
}

/** A number as a key part that sorts as the number does (ports, up to 10 digits). */
export function numberKey(value: number): string {
  return String(value).padStart(10, "0");
}

/**
 * Sorts `items` by `keyOf` (a tuple that ends with something unique, e.g. `[createdAt, id]`)
 * and answers the page the query asks for.
 *
 * @throws a 400 naming `query.cursor` when the cursor is not one a page gave.
 * @example paginate(networks, { limit: 2 }, (n) => [n.createdAt, n.id]) // { items: [first two], next: "WyIy..." }
 */
export function paginate<T>(
  items: readonly T[],
  query: PageQuery,
  keyOf: (item: T) => readonly string[],
): Page<T> {
  const keyed = items.map((item) => ({ item, key: keyOf(item) })).sort((a, b) => compareKeys(a.key, b.key));
  const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
  const rest = after === undefined ? keyed : keyed.filter((k) => compareKeys(k.key, after) > 0);
  if (query.limit === undefined || rest.length <= query.limit) {
    return { items: rest.map((k) => k.item), next: null };
  }
  const page = rest.slice(0, query.limit);
  const last = page.at(-1);
  return { items: page.map((k) => k.item), next: last ? encodeCursor(last.key) : null };
}
