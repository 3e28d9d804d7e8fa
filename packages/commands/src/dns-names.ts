/**
 * DNS name syntax for the names nodes answer to (aliases), by RFC 1123: labels of 1 to
 * 63 letters, digits and hyphens, neither starting nor ending with a hyphen, joined by
 * dots, 253 characters at most. Stricter than Docker (which accepts `_`), so that every
 * alias Labnet stores is a name any resolver will look up.
 */

const LABEL = /^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/;
const NAME_MAX = 253;

/**
 * Why `name` is not a valid DNS name, or undefined when it is.
 *
 * @example dnsNameProblem("db.internal") // undefined
 * @example dnsNameProblem("-db") // "label \"-db\" must start and end with a letter or digit"
 */
export function dnsNameProblem(name: string): string | undefined {
  if (name.length === 0) {
    return "must not be empty";
  }
  if (name.length > NAME_MAX) {
    return `is ${name.length} characters long, at most ${NAME_MAX} are allowed`;
  }
  for (const label of name.split(".")) {
    if (label.length === 0) {
      return "has an empty label (two dots, or a dot at either end)";
    }
    if (label.length > 63) {
      return `label "${label.slice(0, 16)}..." is longer than 63 characters`;
    }
    if (!LABEL.test(label)) {
      return /^[a-zA-Z0-9-]+$/.test(label)
        ? `label "${label}" must start and end with a letter or digit`
        : `label "${label}" may hold only letters, digits and hyphens`;
    }
  }
  // RFC 1123 §2.1: the top-level label is never all digits, so a name never reads as an
  // address (`ping 999.1.1.1` would not ask DNS for it, or fail as a bad address).
  if (/^[0-9]+$/.test(name.slice(name.lastIndexOf(".") + 1))) {
    return "must not end in an all-digit label (it would read as an address)";
  }
  return undefined;
}

/**
 * The hostname of a node that names none (what its hosts file and inspect show): its name when
 * that is a valid hostname; otherwise the name made one (`web_container` → `web-container`:
 * other characters become `-`, hyphens at a label's ends and empty labels go); and when
 * nothing valid is left (`web.1`), its id as a hostname (`nod-3b4bxpycy324vutl`), as Docker
 * names every container's host after its id. Never a name the `hostname` field would refuse.
 *
 * @example defaultHostname({ name: "web_container", id: "nod_3b4bxpycy324vutl" }) // "web-container"
 */
export function defaultHostname(node: { name: string; id: string }): string {
  if (dnsNameProblem(node.name) === undefined) {
    return node.name;
  }
  const derived = node.name
    .replace(/[^a-zA-Z0-9.-]/g, "-")
    .split(".")
    .map((label) => label.replace(/^-+|-+$/g, "").slice(0, 63))
    .filter((label) => label !== "")
    .join(".");
  return dnsNameProblem(derived) === undefined ? derived : node.id.replaceAll("_", "-").toLowerCase();
}
