/**
 * Every string of a request (path, query and header values, body values and body keys) is
 * refused with a 400 naming it when it holds a control character or invalid Unicode, before
 * any handler or query sees it. A body string whose schema says `x-labnet-multiline: true`
 * (a template's source) may also hold tabs and line breaks; nothing else may.
 */
import { textProblem } from "@labnet/netplan";
import type { ProblemFieldError } from "./problem";

/** The schema extension that lets a string hold tabs and line breaks. */
export const MULTILINE_EXTENSION = "x-labnet-multiline";

/** Deeper than any request of the contract (a template is text, not nesting). */
export const MAX_BODY_DEPTH = 32;

/** A path into a body: keys and array indexes, `*` for any (array items, map values). */
type PathPattern = readonly string[];

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function readPointer(document: unknown, pointer: string): unknown {
  let node = document;
  for (const raw of pointer.split("/").slice(1)) {
    const segment = raw.replaceAll("~1", "/").replaceAll("~0", "~");
    node = isObject(node) || Array.isArray(node) ? (node as JsonObject)[segment] : undefined;
  }
  return node;
}

/**
 * The body paths whose schema (under `pointer` in `document`) marks the string multiline.
 * Walks properties, items, map values and combinators; a `$ref` already on the way is not
 * followed again (recursive schemas).
 */
export function multilinePaths(document: unknown, pointer: string): PathPattern[] {
  const found: PathPattern[] = [];
  const walk = (schema: unknown, path: string[], refs: ReadonlySet<string>): void => {
    if (!isObject(schema) || path.length > MAX_BODY_DEPTH) {
      return;
    }
    const ref = schema.$ref;
    if (typeof ref === "string" && ref.startsWith("#/")) {
      if (!refs.has(ref)) {
        walk(readPointer(document, ref.slice(1)), path, new Set([...refs, ref]));
      }
    }
    if (schema[MULTILINE_EXTENSION] === true) {
      found.push(path);
    }
    if (isObject(schema.properties)) {
      for (const [key, child] of Object.entries(schema.properties)) {
        walk(child, [...path, key], refs);
      }
    }
    for (const child of [schema.items, schema.additionalProperties]) {
      walk(child, [...path, "*"], refs);
    }
    for (const keyword of ["oneOf", "anyOf", "allOf"]) {
      const list = schema[keyword];
      if (Array.isArray(list)) {
        for (const child of list) {
          walk(child, path, refs);
        }
      }
    }
  };
  walk(readPointer(document, pointer), [], new Set());
  return found;
}

function matches(patterns: readonly PathPattern[], path: readonly string[]): boolean {
  return patterns.some((p) => p.length === path.length && p.every((s, i) => s === "*" || s === path[i]));
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/**
 * A readable location: `body.ipam.configs[0].subnet`, `body.labels["org.example/course"]`,
 * `query.label[1]`, `header.Idempotency-Key` (parameter names as declared).
 */
export function formatLocation(root: string, segments: readonly (string | number)[]): string {
  let location = root;
  segments.forEach((segment, index) => {
    if (typeof segment === "number") {
      location += `[${segment}]`;
    } else if ((root !== "body" && index === 0) || IDENTIFIER.test(segment)) {
      location += `.${segment}`;
    } else {
      location += `[${JSON.stringify(segment)}]`;
    }
  });
  return location;
}

/**
 * The field errors of every string in `value` (keys included) that {@link textProblem} refuses,
 * and of nesting deeper than {@link MAX_BODY_DEPTH}. `multiline` lists the paths that may hold
 * line breaks.
 */
export function findTextProblems(
  root: string,
  value: unknown,
  multiline: readonly PathPattern[] = [],
  limit = 20,
): ProblemFieldError[] {
  const errors: ProblemFieldError[] = [];
  // Iterative, so a hostile nesting cannot exhaust the stack before the depth check says no.
  const stack: { value: unknown; path: (string | number)[] }[] = [{ value, path: [] }];
  while (stack.length > 0 && errors.length < limit) {
    const item = stack.pop();
    if (!item) {
      break;
    }
    const { value: node, path } = item;
    if (path.length > MAX_BODY_DEPTH) {
      errors.push({ location: root, message: `is nested deeper than ${MAX_BODY_DEPTH} levels` });
      break;
    }
    if (typeof node === "string") {
      const problem = textProblem(node, { multiline: matches(multiline, path.map(String)) });
      if (problem !== undefined) {
        errors.push({ location: formatLocation(root, path), message: problem });
      }
    } else if (Array.isArray(node)) {
      for (let i = node.length - 1; i >= 0; i--) {
        stack.push({ value: node[i], path: [...path, i] });
      }
    } else if (isObject(node)) {
      for (const [key, child] of Object.entries(node).reverse()) {
        const keyProblem = textProblem(key);
        if (keyProblem !== undefined) {
          errors.push({
            location: formatLocation(root, [...path, key]),
            message: `is not a valid key: it ${keyProblem}`,
          });
          continue;
        }
        stack.push({ value: child, path: [...path, key] });
      }
    }
  }
  return errors;
}
