/**
 * Hostile requests for any operation of the OpenAPI document, generated with fast-check from
 * the operation's own declaration (path, query and header parameters, the body schema), so a new
 * endpoint is fuzzed without a line here. Each request carries exactly one element that Labnet
 * must refuse: a wrong type, a huge value, shell metacharacters, traversal, odd Unicode, a control
 * character or a lone surrogate, a bad CIDR or address, an unknown field, a hostile key, deep
 * nesting, malformed JSON, bytes that are not UTF-8, a wrong content type, a hostile path or query
 * parameter, a malformed Idempotency-Key. Everything else is the operation's baseline (a valid
 * request against the suite's fixtures, or a sample of the schema), so the hostile element is
 * what the server judges, down to the commands.
 */
import type { OperationSpec } from "@labnet/gateway";
import fc from "fast-check";

/** A request as sent, with a word on what in it is hostile (shown when an answer is wrong). */
export interface HostileRequest {
  hostile: string;
  method: string;
  /** Encoded path and query. */
  url: string;
  headers: Record<string, string>;
  body?: string | Uint8Array;
}

/** What the generator needs to know beyond the document: the suite's fixtures. */
export interface HostileContext {
  /** The bundled document (refs are `#/components/...`). */
  document: unknown;
  /** A valid value for a path parameter, by name (resources the suite made); unknown names get a made-up one. */
  pathValues: Record<string, string>;
  /** A valid body, by operationId; other operations get a sample of their schema. */
  baselines: Record<string, unknown>;
  /**
   * Body paths whose strings are free text, so shell metacharacters or Unicode letters in them are
   * data, not an attack (Docker labels, a token's name), by operationId (`*`: every operation).
   * Segments match exactly or `*`.
   */
  freeText: Readonly<Record<string, readonly (readonly string[])[]>>;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Schema = Record<string, unknown>;
type Segment = string | number;

const MAX_DEPTH = 8;

function isObject(value: unknown): value is Schema {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function readPointer(document: unknown, pointer: string): unknown {
  let node = document;
  for (const raw of pointer.split("/").slice(1)) {
    const segment = raw.replaceAll("~1", "/").replaceAll("~0", "~");
    node = isObject(node) || Array.isArray(node) ? (node as Schema)[segment] : undefined;
  }
  return node;
}

function resolve(document: unknown, schema: unknown): Schema {
  let current = schema;
  for (let hops = 0; hops < 16 && isObject(current) && typeof current.$ref === "string"; hops++) {
    current = readPointer(document, current.$ref.slice(1));
  }
  return isObject(current) ? current : {};
}

function typesOf(schema: Schema): string[] {
  const type = schema.type;
  return Array.isArray(type) ? type.map(String) : typeof type === "string" ? [type] : [];
}

function clone<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
}

/** A value the schema takes: its example, its default, or one built from its type. */
export function sampleOf(document: unknown, raw: unknown, depth = 0): Json {
  const schema = resolve(document, raw);
  if (Array.isArray(schema.examples) && schema.examples.length > 0) {
    return clone(schema.examples[0] as Json);
  }
  if (schema.default !== undefined) {
    return clone(schema.default as Json);
  }
  for (const keyword of ["oneOf", "anyOf", "allOf"]) {
    const list = schema[keyword];
    if (Array.isArray(list) && list.length > 0) {
      return sampleOf(document, list[0], depth + 1);
    }
  }
  if (Array.isArray(schema.enum) && schema.enum.length > 0) {
    return clone(schema.enum[0] as Json);
  }
  const [type] = typesOf(schema);
  if (depth > MAX_DEPTH) {
    return null;
  }
  switch (type) {
    case "object": {
      const properties = isObject(schema.properties) ? schema.properties : {};
      const required = Array.isArray(schema.required) ? schema.required.map(String) : [];
      return Object.fromEntries(required.map((key) => [key, sampleOf(document, properties[key], depth + 1)]));
    }
    case "array":
      return Number(schema.minItems ?? 0) > 0 ? [sampleOf(document, schema.items, depth + 1)] : [];
    case "integer":
    case "number":
      return typeof schema.minimum === "number" ? schema.minimum : 1;
    case "boolean":
      return false;
    default:
      return "a";
  }
}

/** Stands for "leave the field out" where a hostile value goes. */
const REMOVE: unique symbol = Symbol("remove");

/** A place in a body the generator may put something hostile, with the schemas on the way there. */
interface Spot {
  path: Segment[];
  /** The resolved schema of each container on the way (index i: the schema holding path[i]). */
  trail: Schema[];
  schema: Schema;
  /** Every type the value may have here, `oneOf`/`anyOf` siblings' too (a wrong type is none of them). */
  types: string[];
}

/** Every spot of a body schema: each property (present in the baseline or not), array item and map value. */
function spotsOf(document: unknown, root: unknown): Spot[] {
  const spots: Spot[] = [];
  const walk = (
    raw: unknown,
    path: Segment[],
    trail: Schema[],
    siblings: string[],
    seen: ReadonlySet<unknown>,
  ) => {
    const schema = resolve(document, raw);
    if (path.length > MAX_DEPTH || seen.has(schema)) {
      return;
    }
    const next = new Set([...seen, schema]);
    const branches = ["oneOf", "anyOf"].flatMap((k) =>
      Array.isArray(schema[k]) ? (schema[k] as unknown[]) : [],
    );
    if (branches.length > 0) {
      const types = branches.flatMap((branch) => typesOf(resolve(document, branch)));
      for (const branch of branches) {
        walk(branch, path, trail, types, next);
      }
      return;
    }
    const types = typesOf(schema);
    spots.push({ path, trail, schema, types: [...new Set([...types, ...siblings])] });
    if (types.includes("object")) {
      if (isObject(schema.properties)) {
        for (const [key, child] of Object.entries(schema.properties)) {
          walk(child, [...path, key], [...trail, schema], [], next);
        }
      }
      if (isObject(schema.additionalProperties)) {
        walk(schema.additionalProperties, [...path, "fz-key"], [...trail, schema], [], next);
      }
    }
    if (types.includes("array") && schema.items !== undefined) {
      walk(schema.items, [...path, 0], [...trail, schema], [], next);
    }
  };
  walk(root, [], [], [], new Set());
  return spots;
}

/** `base` with `value` at `path`, containers on the way created from their schemas where missing. */
function withValueAt(document: unknown, base: Json, spot: Spot, value: Json | symbol): Json {
  if (spot.path.length === 0) {
    return typeof value === "symbol" ? null : value;
  }
  const root = clone(base);
  let node: Json = root;
  spot.path.forEach((segment, i) => {
    const last = i === spot.path.length - 1;
    const container = node as Record<string, Json> & Json[];
    if (last) {
      if (typeof value === "symbol") {
        delete container[segment as string];
      } else {
        container[segment as string] = value;
      }
      return;
    }
    let child: Json | undefined = container[segment as string];
    const childSchema = spot.trail[i + 1] ?? {};
    const wantArray = typeof spot.path[i + 1] === "number";
    if (wantArray ? !Array.isArray(child) : !isObject(child)) {
      const sampled = sampleOf(document, childSchema);
      child = wantArray ? (Array.isArray(sampled) ? sampled : []) : isObject(sampled) ? sampled : {};
      container[segment as string] = child;
    }
    if (wantArray && (child as Json[]).length === 0) {
      (child as Json[]).push(sampleOf(document, resolve(document, childSchema.items)));
    }
    node = child as Json;
  });
  return root;
}

/** Strings no field of the API takes: control characters and invalid Unicode. */
const ALWAYS_BAD_STRINGS = [
  "a\u0000b",
  "\u0000",
  "x\u001b[2J",
  "line\nbreak",
  "cr\rlf",
  "tab\there",
  "del\u007f",
  "c1\u0085",
  "\ud800",
  "lone\udfffhalf",
  "\udc00\ud800",
];

/** Strings no field with a meaning takes (names, addresses, argv, modes): only free text would. */
const STRICT_BAD_STRINGS = [
  "",
  " ",
  "a b",
  "; rm -rf /",
  "$(reboot)",
  "`id`",
  "a|b",
  "a&&b",
  "> /etc/passwd",
  "'",
  '"',
  "\\",
  "*",
  "../../etc/passwd",
  "..",
  "/etc/shadow",
  "..\\..\\windows",
  "%2e%2e%2f",
  "-rf",
  "--help",
  "café",
  "宿主机",
  "🚀",
  "\u202eevil",
  "ｆｕｌｌ",
  "a\u00a0b",
  "a\u200bb",
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the attack is the literal text
  "${jndi:ldap://x}",
  "{{7*7}}",
  "<script>",
  "' OR '1'='1",
];

const BAD_CIDRS = [
  "172.18.0.1/16",
  "300.1.1.0/24",
  "10.0.0.0/33",
  "10.0.0.0",
  "10.0.0.0/-1",
  "010.0.0.0/8",
  "::/0",
  "0.0.0.0/0",
  "0.0.0.0/8",
  "127.0.0.0/8",
  "169.254.0.0/16",
  "224.0.0.0/4",
  "240.0.0.0/4",
  "255.255.255.0/24",
  "255.255.255.255/32",
];

const BAD_ADDRESSES = [
  "999.1.1.1",
  "1.2.3",
  "1.2.3.4.5",
  "01.2.3.4",
  "1.2.3.4/24",
  "::1",
  "0x7f.0.0.1",
  " 10.0.0.1",
  "10.0.0.1 ",
  "10.0.0.-1",
];

/** The generator's unknown field and hostile keys (every one fails a closed object or a key pattern). */
const UNKNOWN_FIELD = "zz_unknown";
const BAD_KEYS = [
  "",
  "a b",
  "../x",
  "-x",
  "_x",
  "__proto__",
  "k".repeat(300),
  "a\u0000b",
  "\u001b[2J",
  "\ud800",
  "é",
];

/** A string with one control character (or lone surrogate) somewhere in it. */
const taintedString = fc
  .tuple(fc.string({ maxLength: 12 }), fc.constantFrom(...ALWAYS_BAD_STRINGS), fc.string({ maxLength: 12 }))
  .map(([a, bad, b]) => `${a}${bad}${b}`);

function matchesAny(patterns: readonly (readonly string[])[], path: readonly Segment[]): boolean {
  return patterns.some(
    (p) => p.length === path.length && p.every((s, i) => s === "*" || s === String(path[i])),
  );
}

/** Hostile values for one spot, each one the spot's schema (or the server) must refuse. */
function badValuesFor(
  spot: Spot,
  freeText: boolean,
): fc.Arbitrary<{ what: string; value: Json | typeof REMOVE }> {
  const types = typesOf(spot.schema);
  const anyOf = spot.types;
  const last = String(spot.path.at(-1) ?? "");
  const options: fc.Arbitrary<{ what: string; value: Json | typeof REMOVE }>[] = [];
  const tagged = (what: string, arb: fc.Arbitrary<Json>) => arb.map((value) => ({ what, value }));
  const wrongTypes: Json[] = [
    ...(anyOf.includes("string") ? [] : ["a", "1", "true"]),
    ...(anyOf.includes("integer") || anyOf.includes("number") ? [] : [0, -1, 1.5, 1e300]),
    ...(anyOf.includes("boolean") ? [] : [true, false]),
    ...(anyOf.includes("null") ? [] : [null]),
    ...(anyOf.includes("array") ? [] : [[], ["a"]]),
    ...(anyOf.includes("object") ? [] : [{}, { a: 1 }]),
  ];
  if (types.length > 0 && wrongTypes.length > 0) {
    options.push(tagged("a wrong type", fc.constantFrom(...wrongTypes)));
  }
  if (types.includes("string")) {
    options.push(
      tagged(
        "a control character or lone surrogate",
        fc.oneof(fc.constantFrom(...ALWAYS_BAD_STRINGS), taintedString),
      ),
    );
    const maxLength = typeof spot.schema.maxLength === "number" ? spot.schema.maxLength : 4096;
    options.push(tagged("a huge string", fc.constantFrom("a".repeat(maxLength + 1), "z".repeat(300_000))));
    if (!freeText) {
      options.push(
        tagged(
          "shell metacharacters, traversal or odd Unicode",
          // "" only where the schema wants something (`hostPort: ""` means a random port).
          fc.constantFrom(...STRICT_BAD_STRINGS.filter((t) => t !== "" || Number(spot.schema.minLength) > 0)),
        ),
      );
      if (/subnet|ipRange|ip_range/i.test(last)) {
        options.push(tagged("a bad CIDR", fc.constantFrom(...BAD_CIDRS)));
      }
      if (
        /gateway|address|hostIp|servers/i.test(last) ||
        /aux|servers/i.test(String(spot.path.at(-2) ?? ""))
      ) {
        options.push(tagged("a bad address", fc.constantFrom(...BAD_ADDRESSES)));
      }
    }
  }
  if (types.includes("integer") || types.includes("number")) {
    const out: Json[] = [1e21, -1e21, 0.5];
    if (typeof spot.schema.maximum === "number") {
      out.push(spot.schema.maximum + 1);
    }
    if (typeof spot.schema.minimum === "number") {
      out.push(spot.schema.minimum - 1);
    }
    options.push(tagged("a number out of range", fc.constantFrom(...out)));
  }
  if (types.includes("array")) {
    const maxItems = typeof spot.schema.maxItems === "number" ? spot.schema.maxItems : 256;
    options.push(tagged("too many items", fc.constant(Array.from({ length: maxItems + 1 }, () => "\u0000"))));
    options.push(tagged("deep nesting", fc.constant(nested(2000))));
  }
  if (types.includes("object")) {
    if (spot.schema.additionalProperties === false) {
      options.push(tagged("an unknown field", fc.constant({ [UNKNOWN_FIELD]: "x" })));
    }
    options.push(
      tagged(
        "a hostile key",
        fc.constantFrom(...BAD_KEYS).map((key) => JSON.parse(`{${JSON.stringify(key)}:"x"}`) as Json),
      ),
    );
    if (typeof spot.schema.maxProperties === "number") {
      const count = spot.schema.maxProperties + 1;
      options.push(
        tagged(
          "too many properties",
          fc.constant(Object.fromEntries(Array.from({ length: count }, (_, i) => [`k${i}`, "\u0000"]))),
        ),
      );
    }
  }
  const parent = spot.trail.at(-1);
  const key = spot.path.at(-1);
  if (typeof key === "string" && Array.isArray(parent?.required) && parent.required.includes(key)) {
    options.push(
      fc.constant<{ what: string; value: typeof REMOVE }>({
        what: "a required field missing",
        value: REMOVE,
      }),
    );
  }
  if (options.length === 0) {
    options.push(tagged("a control character", fc.constantFrom(...ALWAYS_BAD_STRINGS)));
  }
  return fc.oneof(...options);
}

function nested(depth: number): Json {
  let value: Json = "x";
  for (let i = 0; i < depth; i++) {
    value = [value];
  }
  return value;
}

/** Path parameters that are not what any resource is called, and what URLs make of them. */
const BAD_PATH_VALUES = [
  "%00",
  "a%00b",
  "%1b%5b2J",
  "..%2F..%2Fetc%2Fpasswd",
  "%2e%2e",
  "..%5C..",
  "a%20b",
  "%24(reboot)",
  "%3Brm%20-rf",
  "%60id%60",
  "%E2%80%AE",
  "%F0%9F%9A%80",
  "%ED%A0%80",
  "%C0%AF",
  "%FF",
  "%25",
  "-rf",
  "caf%C3%A9",
  "x".repeat(5000),
  "%0A",
  "*",
];

/** Query values no declared parameter takes. */
const BAD_QUERY_VALUES = ["%00", "a%00", "%0Ax", "%1b", "%ED%A0%80", "%FF", "x".repeat(5000)];

/** Bodies that are not one JSON document. */
const MALFORMED_JSON = [
  "{",
  '{"name":',
  "{'name':'x'}",
  '{"name":"x",}',
  "[1,]",
  "NaN",
  '{"a":1}{',
  // One BOM is allowed (RFC 8259 lets a parser ignore it, and TextDecoder does); two are not.
  "\ufeff\ufeff{}",
  '{"name":"x"} trailing',
  "//c\n{}",
  '{"name":"\\x00"}',
  '{"name":"\\u12"}',
  "undefined",
  "{".repeat(50_000),
];

/** Bodies that are JSON, but not an object. */
const NOT_OBJECTS = ["[]", "1", '"s"', "null", "true", "[{}]", "1e400"];

const WRONG_CONTENT_TYPES = [
  "text/plain",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=x",
  "application/xml",
  "application/jsonx",
  "application/json-patch+json",
  "application/vnd.api+json",
  "text/json",
  "*/*",
];

const NOT_UTF8 = [
  new Uint8Array([0x7b, 0x22, 0x6e, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]),
  new Uint8Array([0x7b, 0x22, 0xc0, 0xaf, 0x22, 0x3a, 0x31, 0x7d]),
  new Uint8Array([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xed, 0xa0, 0x80, 0x22, 0x7d]),
];

// Not " lead": fetch trims header values, and a valid key would claim a row.
const BAD_IDEMPOTENCY_KEYS = ["", "a b", "é", "k".repeat(256), "tab\there"];

/** Every hostile request of one operation (fast-check draws from it, seeded by the caller). */
export function hostileRequests(spec: OperationSpec, ctx: HostileContext): fc.Arbitrary<HostileRequest> {
  const method = spec.method.toUpperCase();
  const pathParams = spec.parameters.filter((p) => p.in === "path");
  const queryParams = spec.parameters.filter((p) => p.in === "query");
  const goodPath = Object.fromEntries(
    pathParams.map((p) => [p.name, encodeURIComponent(ctx.pathValues[p.name] ?? "fz-missing")]),
  );
  const urlOf = (params: Record<string, string>, query = "") =>
    spec.path.replace(/\{([^}]+)\}/g, (_, name: string) => params[name] ?? "") + query;
  const bodySchema = spec.requestBody ? readPointer(ctx.document, spec.requestBody.schemaPointer) : undefined;
  const baseline: Json | undefined =
    bodySchema === undefined
      ? undefined
      : ((ctx.baselines[spec.operationId] as Json | undefined) ?? sampleOf(ctx.document, bodySchema));
  const json = { "content-type": "application/json" };
  const request = (hostile: string, init: Partial<HostileRequest> = {}): HostileRequest => ({
    hostile,
    method,
    url: urlOf(goodPath),
    headers: baseline === undefined ? {} : json,
    ...(baseline === undefined ? {} : { body: JSON.stringify(baseline) }),
    ...init,
  });
  const families: fc.Arbitrary<HostileRequest>[] = [];

  if (pathParams.length > 0) {
    families.push(
      fc
        .tuple(fc.constantFrom(...pathParams.map((p) => p.name)), fc.constantFrom(...BAD_PATH_VALUES))
        .map(([name, value]) =>
          request(`path.${name} = ${value.slice(0, 40)}`, { url: urlOf({ ...goodPath, [name]: value }) }),
        ),
    );
  }
  families.push(
    fc
      .constantFrom(`${UNKNOWN_FIELD}=1`, "force=true&force=true", "%00=1", "a%0Ab=1")
      .map((query) => request(`query ${query}`, { url: urlOf(goodPath, `?${query}`) })),
  );
  if (queryParams.length > 0) {
    families.push(
      fc
        .tuple(
          fc.constantFrom(...queryParams),
          fc.constantFrom(...BAD_QUERY_VALUES, ...STRICT_BAD_STRINGS.map(encodeURIComponent)),
        )
        .map(([p, value]) =>
          request(`query.${p.name} = ${value.slice(0, 40)}`, { url: urlOf(goodPath, `?${p.name}=${value}`) }),
        ),
    );
    const single = queryParams.filter((p) => !p.isArray);
    if (single.length > 0) {
      families.push(
        fc
          .constantFrom(...single)
          .map((p) => request(`query.${p.name} twice`, { url: urlOf(goodPath, `?${p.name}=1&${p.name}=2`) })),
      );
    }
  }
  if (method === "POST") {
    families.push(
      fc.constantFrom(...BAD_IDEMPOTENCY_KEYS).map((key) => {
        const base = request(`Idempotency-Key ${JSON.stringify(key.slice(0, 20))}`);
        return { ...base, headers: { ...base.headers, "idempotency-key": key } };
      }),
    );
  }

  if (baseline === undefined || !spec.requestBody) {
    families.push(
      fc.constantFrom('{"force":true}', "{}", "[]", "x", "\u0000").map((body) =>
        request(`a body (${JSON.stringify(body)}) for an operation that takes none`, {
          headers: json,
          body,
        }),
      ),
    );
    return fc.oneof(...families);
  }

  families.push(
    fc
      .constantFrom(...MALFORMED_JSON)
      .map((body) => request(`malformed JSON ${JSON.stringify(body.slice(0, 30))}`, { body })),
    fc.constantFrom(...NOT_OBJECTS).map((body) => request(`a body that is ${body}`, { body })),
    fc.constantFrom(...NOT_UTF8).map((body) => request("a body that is not UTF-8", { body })),
    fc.constant(
      request("a body past the size limit", { body: JSON.stringify({ pad: "x".repeat(1_100_000) }) }),
    ),
    fc.constant(request("deep nesting", { body: `${"[".repeat(100_000)}${"]".repeat(100_000)}` })),
    fc
      .constantFrom(...WRONG_CONTENT_TYPES)
      .map((type) => request(`Content-Type ${type}`, { headers: { "content-type": type } })),
    fc.constant(request("no Content-Type", { headers: {} })),
  );
  if (spec.requestBody.required) {
    families.push(fc.constantFrom("", " ", "\n").map((body) => request("an empty body", { body })));
  }

  const spots = spotsOf(ctx.document, bodySchema);
  // Half of the requests: one field made hostile is what reaches the handlers and the commands.
  const bodyFields = fc
    .constantFrom(...spots)
    .chain((spot) => {
      const free = matchesAny(
        [...(ctx.freeText["*"] ?? []), ...(ctx.freeText[spec.operationId] ?? [])],
        spot.path,
      );
      return badValuesFor(spot, free).map(({ what, value }) => ({ spot, what, value }));
    })
    .map(({ spot, what, value }) =>
      request(`body.${spot.path.join(".")}: ${what}`, {
        body: JSON.stringify(withValueAt(ctx.document, baseline, spot, value)),
      }),
    );
  return fc.oneof(
    { arbitrary: bodyFields, weight: families.length },
    ...families.map((arbitrary) => ({ arbitrary, weight: 1 })),
  );
}
