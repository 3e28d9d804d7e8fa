/**
 * Entity tags of resources that can be changed (networks, accounts): the row's revision, which
 * a trigger raises on every change (migration 0016), as a strong ETag; and `If-Match` (RFC 9110
 * §13.1.1) read into the revisions a client accepts, so a change made from a stale read is
 * refused with 412 instead of applied.
 */

/** The ETag of revision `revision`: `"7"`. */
export function etagOf(revision: number): string {
  return `"${revision}"`;
}

/**
 * The revisions an `If-Match` header accepts: undefined when there is none or it is `*` (any
 * current representation: the resource exists, which the lookup checks), otherwise the strong
 * tags it lists as revisions. Weak tags (`W/"7"`) never match under If-Match's strong
 * comparison, and tags that are not ours cannot match: both are left out, so `[]` matches nothing.
 *
 * @example ifMatchRevisions('"3", "4"') // [3, 4]
 * @example ifMatchRevisions("*") // undefined
 * @example ifMatchRevisions('W/"3"') // []
 */
export function ifMatchRevisions(header: string | undefined): number[] | undefined {
  if (header === undefined || header.trim() === "*") {
    return undefined;
  }
  return header
    .split(",")
    .map((tag) => /^"([1-9][0-9]{0,9})"$/.exec(tag.trim())?.[1])
    .filter((digits): digits is string => digits !== undefined)
    .map(Number);
}
