import type { OpenApiDocument } from "@labnet/api";

/** The HTTP methods an OpenAPI path item may hold. */
export const HTTP_METHODS = ["get", "put", "post", "delete", "patch", "head", "options", "trace"] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

/** Where a parameter is sent. */
export type ParameterLocation = "path" | "query" | "header" | "cookie";

/** One declared parameter, with its refs resolved. */
export interface ParameterSpec {
  name: string;
  in: ParameterLocation;
  required: boolean;
  /** `type: array` (a repeatable query parameter, `?label=a&label=b`). */
  isArray: boolean;
  /** JSON pointer to the parameter's schema inside the document (for Ajv). */
  schemaPointer: string;
}

/** The JSON request body an operation takes. */
export interface RequestBodySpec {
  required: boolean;
  /** JSON pointer to the `application/json` schema inside the document (for Ajv). */
  schemaPointer: string;
}

/** One header a response declares. */
export interface ResponseHeaderSpec {
  name: string;
  required: boolean;
  /** JSON pointer to the header's schema inside the document, when it has one. */
  schemaPointer: string | undefined;
}

/** One response an operation declares, under its status key (`200`, `4XX`, `default`). */
export interface ResponseSpec {
  headers: ResponseHeaderSpec[];
  /** Media type → JSON pointer to its schema (undefined: any content of that type). Empty: no body. */
  content: Map<string, string | undefined>;
}

/** One operation of the document, as the router needs it. */
export interface OperationSpec {
  operationId: string;
  method: HttpMethod;
  /** The OpenAPI path template: `/v1/networks/{networkId}`. */
  path: string;
  /** The same path in Hono's syntax: `/v1/networks/:networkId`. */
  honoPath: string;
  /** Whether the operation requires a bearer token (`security` not empty). */
  secured: boolean;
  parameters: ParameterSpec[];
  requestBody: RequestBodySpec | undefined;
  /** The declared responses by status key (`200`, `4XX`, `default`). */
  responses: Map<string, ResponseSpec>;
}

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function escapePointer(segment: string): string {
  return segment.replaceAll("~", "~0").replaceAll("/", "~1");
}

function readPointer(document: unknown, pointer: string): unknown {
  let node = document;
  for (const raw of pointer.split("/").slice(1)) {
    const segment = raw.replaceAll("~1", "/").replaceAll("~0", "~");
    node = isObject(node) || Array.isArray(node) ? (node as JsonObject)[segment] : undefined;
  }
  return node;
}

/** Follows local `$ref`s (`#/components/...`) to the object they name, keeping track of its pointer. */
function resolve(document: unknown, value: unknown, pointer: string): { value: JsonObject; pointer: string } {
  let current = value;
  let at = pointer;
  for (let hops = 0; hops < 32; hops++) {
    if (!isObject(current)) {
      throw new Error(`OpenAPI document: expected an object at ${at}`);
    }
    const ref = current.$ref;
    if (typeof ref !== "string") {
      return { value: current, pointer: at };
    }
    if (!ref.startsWith("#/")) {
      throw new Error(`OpenAPI document: only local refs are supported, got ${ref} at ${at}`);
    }
    at = ref.slice(1);
    current = readPointer(document, at);
  }
  throw new Error(`OpenAPI document: $ref cycle at ${pointer}`);
}

function isArraySchema(document: unknown, schema: unknown, pointer: string): boolean {
  if (!isObject(schema)) {
    return false;
  }
  const { value } = resolve(document, schema, pointer);
  return value.type === "array" || (Array.isArray(value.type) && value.type.includes("array"));
}

function readParameters(document: unknown, list: unknown, pointer: string): ParameterSpec[] {
  if (!Array.isArray(list)) {
    return [];
  }
  return list.map((entry, index) => {
    const { value, pointer: at } = resolve(document, entry, `${pointer}/${index}`);
    const { name, in: location } = value;
    if (typeof name !== "string" || !["path", "query", "header", "cookie"].includes(String(location))) {
      throw new Error(`OpenAPI document: parameter at ${at} needs a name and a location`);
    }
    return {
      name,
      in: location as ParameterLocation,
      required: value.required === true,
      isArray: isArraySchema(document, value.schema, `${at}/schema`),
      schemaPointer: `${at}/schema`,
    };
  });
}

function readRequestBody(document: unknown, body: unknown, pointer: string): RequestBodySpec | undefined {
  if (body === undefined) {
    return undefined;
  }
  const { value, pointer: at } = resolve(document, body, pointer);
  const content = value.content;
  if (!isObject(content) || !isObject(content["application/json"])) {
    throw new Error(`OpenAPI document: the request body at ${at} must offer application/json`);
  }
  return {
    required: value.required === true,
    schemaPointer: `${at}/content/${escapePointer("application/json")}/schema`,
  };
}

function readResponses(document: unknown, responses: unknown, pointer: string): Map<string, ResponseSpec> {
  const result = new Map<string, ResponseSpec>();
  if (!isObject(responses)) {
    return result;
  }
  for (const [status, raw] of Object.entries(responses)) {
    const { value, pointer: at } = resolve(document, raw, `${pointer}/${escapePointer(status)}`);
    const headers = isObject(value.headers)
      ? Object.entries(value.headers).map(([name, rawHeader]) => {
          const { value: header, pointer: headerAt } = resolve(
            document,
            rawHeader,
            `${at}/headers/${escapePointer(name)}`,
          );
          return {
            name,
            required: header.required === true,
            schemaPointer: isObject(header.schema) ? `${headerAt}/schema` : undefined,
          };
        })
      : [];
    const content = new Map<string, string | undefined>();
    if (isObject(value.content)) {
      for (const [mediaType, media] of Object.entries(value.content)) {
        const schema = isObject(media) ? media.schema : undefined;
        content.set(
          mediaType,
          isObject(schema) ? `${at}/content/${escapePointer(mediaType)}/schema` : undefined,
        );
      }
    }
    result.set(status, { headers, content });
  }
  return result;
}

/** `/v1/networks/{networkId}` → `/v1/networks/:networkId`. */
export function toHonoPath(path: string): string {
  return path.replace(/\{([^}/]+)\}/g, ":$1");
}

/**
 * The operations whose path template matches a concrete path, the most specific first
 * (`/v1/networks/prune` before `/v1/networks/{networkId}`): what the router would consider
 * for any method, so a method none of them has answers 405 with their methods as `Allow`.
 *
 * @example createPathMatcher(index.values())("/v1/networks/net_1").map((s) => s.method) // ["get", "patch", "delete"]
 */
export function createPathMatcher(operations: Iterable<OperationSpec>): (path: string) => OperationSpec[] {
  const routes = [...operations]
    .map((spec) => {
      const segments = spec.path.split("/");
      const source = segments
        .map((s) => (/^\{[^}]+\}$/.test(s) ? "[^/]+" : s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")))
        .join("/");
      return {
        spec,
        pattern: new RegExp(`^${source}/?$`),
        literals: segments.filter((s) => !s.startsWith("{")).length,
      };
    })
    .sort((a, b) => b.literals - a.literals);
  return (path) => routes.filter((r) => r.pattern.test(path)).map((r) => r.spec);
}

/** Path-level parameters apply to every operation unless it redeclares the same name and location. */
function mergeParameters(pathLevel: ParameterSpec[], operationLevel: ParameterSpec[]): ParameterSpec[] {
  const key = (p: ParameterSpec) => `${p.in}:${p.name.toLowerCase()}`;
  const own = new Set(operationLevel.map(key));
  return [...pathLevel.filter((p) => !own.has(key(p))), ...operationLevel];
}

/**
 * Indexes every operation of the document by operationId.
 *
 * @throws when an operation lacks an operationId, one is duplicated, or a ref cannot be resolved.
 */
export function indexOperations(document: OpenApiDocument): Map<string, OperationSpec> {
  const operations = new Map<string, OperationSpec>();
  const rootSecurity = (document as unknown as JsonObject).security;
  for (const [path, rawItem] of Object.entries(document.paths)) {
    const itemPointer = `/paths/${escapePointer(path)}`;
    const { value: item, pointer: itemAt } = resolve(document, rawItem, itemPointer);
    const pathParameters = readParameters(document, item.parameters, `${itemAt}/parameters`);
    for (const method of HTTP_METHODS) {
      const rawOperation = item[method];
      if (rawOperation === undefined) {
        continue;
      }
      const { value: operation, pointer: at } = resolve(document, rawOperation, `${itemAt}/${method}`);
      const operationId = operation.operationId;
      if (typeof operationId !== "string") {
        throw new Error(`OpenAPI document: ${method.toUpperCase()} ${path} has no operationId`);
      }
      if (operations.has(operationId)) {
        throw new Error(`OpenAPI document: operationId ${operationId} is used twice`);
      }
      const security = operation.security ?? rootSecurity;
      operations.set(operationId, {
        operationId,
        method,
        path,
        honoPath: toHonoPath(path),
        secured:
          Array.isArray(security) &&
          security.length > 0 &&
          security.every((s) => isObject(s) && Object.keys(s).length > 0),
        parameters: mergeParameters(
          pathParameters,
          readParameters(document, operation.parameters, `${at}/parameters`),
        ),
        requestBody: readRequestBody(document, operation.requestBody, `${at}/requestBody`),
        responses: readResponses(document, operation.responses, `${at}/responses`),
      });
    }
  }
  return operations;
}
