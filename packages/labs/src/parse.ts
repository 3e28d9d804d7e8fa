/**
 * `parseTemplate`: text → checked, normalized template, or every problem with its path in the
 * template's words and, for text the YAML parser reads (YAML, and JSON, which is YAML's flow
 * style), the line and column of the node at fault.
 */
import { textProblem } from "@labnet/netplan";
import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from "yaml";
import type { z } from "zod";
import { formatPath, quote } from "./names";
import { normalizeTemplate } from "./normalize";
import { LIMITS, RawTemplate } from "./schema";
import type { LabTemplate, TemplateError } from "./template";
import { type PathedError, validateTemplate } from "./validate";

export type ParseTemplateResult =
  | { ok: true; template: LabTemplate }
  | { ok: false; errors: TemplateError[] };

/** Keys that would reach an object's prototype, refused wherever they appear. */
const PROTOTYPE_KEYS = new Set(["__proto__", "constructor", "prototype"]);

/** Deeper than any template needs; a guard against pathological nesting. */
const MAX_DEPTH = 16;

/** A YAML alias may be expanded this often (billion laughs). */
const MAX_ALIASES = 32;

type Locate = (path: readonly PropertyKey[]) => { line: number; column: number } | undefined;

/**
 * Parses and checks a lab template (YAML or JSON; the format is guessed from the first
 * character when not given). Nothing of a refused template is returned.
 *
 * @example
 * const parsed = parseTemplate("name: t\ntitle: T\nservices:\n  web: { networks: [ap] }\n");
 * // { ok: false, errors: [{ path: "services.web.networks[0]", message: 'unknown network "ap"', line: 4, column: 23 }] }
 */
export function parseTemplate(text: string, format?: "yaml" | "json"): ParseTemplateResult {
  if (typeof text !== "string") {
    return fail([{ path: "", message: "a template is text (YAML or JSON)" }]);
  }
  if (text.length > LIMITS.text) {
    return fail([{ path: "", message: `a template has at most ${LIMITS.text} characters` }]);
  }
  const kind = format ?? (/^\s*[{[]/.test(text) ? "json" : "yaml");
  const read = kind === "json" ? readJson(text) : readYaml(text);
  if (!read.ok) {
    return fail(read.errors);
  }
  const { value, locate } = read;
  const located = (errors: PathedError[]): TemplateError[] =>
    errors.map((error) => {
      const at = locate(error.path);
      return { path: formatPath(error.path), message: error.message, ...(at ?? {}) };
    });

  const hostile = findHostileKeys(value, [], 0);
  if (hostile.length > 0) {
    return fail(located(hostile));
  }
  const parsed = RawTemplate.safeParse(value);
  if (!parsed.success) {
    return fail(located(dedupe(parsed.error.issues.flatMap((issue) => describeIssue(issue, [], value)))));
  }
  const problems = validateTemplate(parsed.data);
  if (problems.length > 0) {
    return fail(located(problems));
  }
  return { ok: true, template: normalizeTemplate(parsed.data) };
}

function fail(errors: TemplateError[]): ParseTemplateResult {
  return { ok: false, errors };
}

type Read = { ok: true; value: unknown; locate: Locate } | { ok: false; errors: TemplateError[] };

function readYaml(text: string): Read {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false, merge: false });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      errors: doc.errors.slice(0, 20).map((error) => {
        const at = lineCounter.linePos(error.pos[0]);
        return {
          path: "",
          message: `not valid YAML: ${error.message.split("\n")[0]}`,
          line: at.line,
          column: at.col,
        };
      }),
    };
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIASES });
  } catch (error) {
    return {
      ok: false,
      errors: [{ path: "", message: `not a usable YAML document: ${(error as Error).message}` }],
    };
  }
  const locate: Locate = (path) => {
    const range = rangeAt(doc.contents as Node | null, path);
    if (!range) {
      return undefined;
    }
    const pos = lineCounter.linePos(range);
    return { line: pos.line, column: pos.col };
  };
  return { ok: true, value, locate };
}

function readJson(text: string): Read {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const message = (error as Error).message;
    const position = /position (\d+)/.exec(message);
    const at = position ? positionOf(text, Number(position[1])) : undefined;
    return { ok: false, errors: [{ path: "", message: `not valid JSON: ${message}`, ...(at ?? {}) }] };
  }
  // JSON is YAML's flow style: the YAML parser gives the lines of its nodes.
  const yaml = readYaml(text);
  return { ok: true, value, locate: yaml.ok ? yaml.locate : () => undefined };
}

function positionOf(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset).split("\n");
  return { line: before.length, column: (before.at(-1)?.length ?? 0) + 1 };
}

/** Offset of the node at `path`, or of its deepest ancestor that exists. */
function rangeAt(root: Node | null, path: readonly PropertyKey[]): number | undefined {
  let node: unknown = root;
  let offset = (root as Node | null)?.range?.[0];
  for (const segment of path) {
    if (isMap(node)) {
      const pair = node.items.find(
        (item) => isScalar(item.key) && String(item.key.value) === String(segment),
      );
      if (!pair) {
        break;
      }
      const key = pair.key as Node;
      const value = pair.value as Node | null;
      // A scalar's own line; a collection's line is its key's.
      offset = value && isScalar(value) ? value.range?.[0] : key.range?.[0];
      node = value;
    } else if (isSeq(node) && typeof segment === "number") {
      const item = node.items[segment] as Node | undefined;
      if (!item) {
        break;
      }
      offset = item.range?.[0];
      node = item;
    } else {
      break;
    }
  }
  return offset;
}

/**
 * Where a template's text may span lines: its description and a pasted Compose `command`
 * (ignored, but kept as written). Every other string is one line.
 */
function isMultiline(path: readonly PropertyKey[]): boolean {
  return path[0] === "description" || path.includes("command");
}

/**
 * Prototype keys, nesting past {@link MAX_DEPTH}, and strings (keys and values) with control
 * characters or invalid Unicode: YAML's and JSON's escapes (`"\0"`, `"\u0000"`, `"\ud800"`)
 * make them out of clean text, and Postgres refuses them in the stored template.
 */
function findHostileKeys(value: unknown, path: PropertyKey[], depth: number): PathedError[] {
  if (depth > MAX_DEPTH) {
    return [{ path, message: `nested deeper than ${MAX_DEPTH} levels` }];
  }
  if (typeof value === "string") {
    const problem = textProblem(value, { multiline: isMultiline(path) });
    return problem === undefined ? [] : [{ path, message: problem }];
  }
  if (Array.isArray(value)) {
    return value.flatMap((item, i) => findHostileKeys(item, [...path, i], depth + 1));
  }
  if (value !== null && typeof value === "object") {
    if (Object.getPrototypeOf(value) !== Object.prototype && Object.getPrototypeOf(value) !== null) {
      return [{ path, message: "not a plain mapping" }];
    }
    return Object.keys(value).flatMap((key) => {
      if (PROTOTYPE_KEYS.has(key)) {
        return [{ path: [...path, key], message: `key ${quote(key)} is not allowed` }];
      }
      const problem = textProblem(key);
      if (problem !== undefined) {
        return [{ path: [...path, key], message: `key ${quote(key)} ${problem}` }];
      }
      return findHostileKeys((value as Record<string, unknown>)[key], [...path, key], depth + 1);
    });
  }
  return [];
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let node = root;
  for (const segment of path) {
    if (node === null || typeof node !== "object") {
      return undefined;
    }
    node = (node as Record<PropertyKey, unknown>)[segment as string];
  }
  return node;
}

type Issue = z.core.$ZodIssue;

/** One zod issue as template errors: unknown keys one by one, unions by the branch the input meant. */
function describeIssue(issue: Issue, base: PropertyKey[], root: unknown): PathedError[] {
  const path = [...base, ...issue.path];
  switch (issue.code) {
    case "unrecognized_keys":
      return issue.keys.map((key) => ({ path: [...path, key], message: `unknown key ${quote(key)}` }));
    case "invalid_key":
      return [
        {
          path,
          message: `invalid name ${quote(String(issue.path.at(-1) ?? ""))}: ${issue.issues[0]?.message ?? "not allowed"}`,
        },
      ];
    case "invalid_union": {
      const branch = bestBranch(issue.errors);
      if (branch) {
        return branch.flatMap((inner) => describeIssue(inner, path, root));
      }
      return [{ path, message: unionMessage(path, root) }];
    }
    case "invalid_type":
      if (valueAt(root, path) === undefined) {
        return [{ path, message: "required" }];
      }
      return [{ path, message: `expected ${issue.expected}, got ${describeValue(valueAt(root, path))}` }];
    default:
      return [{ path, message: issue.message }];
  }
}

/**
 * The branch of a union the input was meant for: the one whose issues reach deepest into
 * the value (the others fail on its shape at once). Undefined when every branch fails on the
 * shape, so no branch is a better guess than another.
 */
function bestBranch(branches: Issue[][]): Issue[] | undefined {
  let best: Issue[] | undefined;
  let bestDepth = 0;
  for (const issues of branches) {
    const shallow = issues.every(
      (issue) =>
        issue.path.length === 0 ||
        (issue.code === "invalid_type" && issue.path.length <= 1) ||
        issue.code === "unrecognized_keys",
    );
    if (shallow) {
      continue;
    }
    const deepest = Math.max(...issues.map((issue) => issue.path.length));
    if (deepest > bestDepth) {
      best = issues;
      bestDepth = deepest;
    }
  }
  return best;
}

function unionMessage(path: PropertyKey[], root: unknown): string {
  const last = path.at(-1);
  const parent = path.at(-2);
  if (path[0] === "solution" && path.length === 2) {
    return "a step is one of connect, disconnect, create_network, delete_network, create_service, delete_service, publish (one key)";
  }
  if (last === "networks") {
    return "networks is a list of network names or a map of network name to { ipv4_address, aliases }";
  }
  if (last === "extra_hosts") {
    return 'extra_hosts is a list of "name:address" or a map of name to address';
  }
  if (last === "dns" || last === "dns_search") {
    return `${String(last)} is a string or a list of strings`;
  }
  if (parent === "ports" || parent === "expose") {
    return "a port is a string such as 8080:80 or a number";
  }
  return `unexpected ${describeValue(valueAt(root, path))}`;
}

function describeValue(value: unknown): string {
  if (value === null) {
    return "null";
  }
  if (Array.isArray(value)) {
    return "a list";
  }
  if (typeof value === "object") {
    return "a mapping";
  }
  if (typeof value === "string") {
    return `the string ${quote(value)}`;
  }
  return `${typeof value} ${quote(String(value))}`;
}

function dedupe(errors: PathedError[]): PathedError[] {
  const seen = new Set<string>();
  return errors.filter((error) => {
    const key = `${formatPath(error.path)}\u0000${error.message}`;
    if (seen.has(key)) {
      return false;
    }
    seen.add(key);
    return true;
  });
}
