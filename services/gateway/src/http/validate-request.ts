import { type OpenApiDocument, openapiDocument } from "@labnet/api";
import type { ErrorObject, ValidateFunction } from "ajv";
import Ajv2020 from "ajv/dist/2020";
import addFormats from "ajv-formats";
import type { Context } from "hono";
import { carriesNoBody } from "./body-limit";
import type { OperationSpec, ParameterLocation, ParameterSpec } from "./openapi-operations";
import { badRequest, ProblemError, type ProblemFieldError } from "./problem";
import { findTextProblems, formatLocation, multilinePaths } from "./text-fields";

/** The request as validated against the operation: what a handler receives. */
export interface ValidatedRequest {
  params: Record<string, unknown>;
  query: Record<string, unknown>;
  headers: Record<string, unknown>;
  body: unknown;
}

/** Validates a request; resolves with its input or rejects with a {@link ProblemError} (400/415). */
export type RequestValidator = (c: Context) => Promise<ValidatedRequest>;

/** The id under which the document is known to Ajv; every schema is compiled as a ref into it. */
const DOCUMENT_ID = "labnet.openapi.json";

/** The most field errors one problem lists; more only repeat the point. */
const MAX_FIELD_ERRORS = 20;

interface Compilers {
  /** Coerces strings to the declared types (`"5"` → 5, a single `?label=a` → `["a"]`): for path, query, header. */
  parameters: Ajv2020;
  /** Takes JSON as sent: `"5"` is not a number in a body. */
  body: Ajv2020;
}

const compilersByDocument = new WeakMap<OpenApiDocument, Compilers>();

function createAjv(document: OpenApiDocument, coerce: boolean): Ajv2020 {
  const ajv = new Ajv2020({
    allErrors: true,
    strict: false,
    verbose: true,
    coerceTypes: coerce ? "array" : false,
    // The document is not a JSON Schema itself; only the parts we ref into are schemas.
    validateSchema: false,
  });
  // ajv-formats resolves the hoisted `ajv` (Redocly's fork, via @redocly/openapi-core), whose
  // class is a different type; the plugin only calls `addFormat`, which both share.
  addFormats(ajv as unknown as Parameters<typeof addFormats>[0], { keywords: false });
  ajv.addSchema(document, DOCUMENT_ID);
  return ajv;
}

function getCompilers(document: OpenApiDocument): Compilers {
  let compilers = compilersByDocument.get(document);
  if (!compilers) {
    compilers = { parameters: createAjv(document, true), body: createAjv(document, false) };
    compilersByDocument.set(document, compilers);
  }
  return compilers;
}

function refTo(pointer: string): { $ref: string } {
  return { $ref: `${DOCUMENT_ID}#${pointer}` };
}

/**
 * Compiles the schema at `pointer` inside `document` with the Ajv instances requests are
 * validated with (`coerce`: the parameters' one, which reads strings as their declared types),
 * so other checks against the document (responses, in tests) judge by the same rules.
 */
export function compileDocumentSchema(
  pointer: string,
  options: { coerce: boolean },
  document: OpenApiDocument = openapiDocument,
): ValidateFunction {
  const compilers = getCompilers(document);
  return (options.coerce ? compilers.parameters : compilers.body).compile(refTo(pointer));
}

/** One object schema over all parameters of one location, so Ajv reports them together. */
function compileParameters(ajv: Ajv2020, parameters: ParameterSpec[]): ValidateFunction | undefined {
  if (parameters.length === 0) {
    return undefined;
  }
  return ajv.compile({
    type: "object",
    properties: Object.fromEntries(parameters.map((p) => [p.name, refTo(p.schemaPointer)])),
    required: parameters.filter((p) => p.required).map((p) => p.name),
  });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * A readable location for a JSON pointer into `data`: `body.ipam.configs[0].subnet`,
 * `body.labels["org.example/course"]`, `query.label[1]`.
 */
function locate(root: string, data: unknown, pointer: string, extraKey?: string): string {
  const segments =
    pointer === ""
      ? []
      : pointer
          .split("/")
          .slice(1)
          .map((s) => s.replaceAll("~1", "/").replaceAll("~0", "~"));
  if (extraKey !== undefined) {
    segments.push(extraKey);
  }
  let node = data;
  const typed = segments.map((segment) => {
    if (Array.isArray(node)) {
      node = node[Number(segment)];
      return Number(segment);
    }
    node = isRecord(node) ? node[segment] : undefined;
    return segment;
  });
  return formatLocation(root, typed);
}

function describeAllowed(values: unknown): string {
  return Array.isArray(values)
    ? values.map((v) => (typeof v === "string" ? v : JSON.stringify(v))).join(", ")
    : "";
}

/** Ajv's errors as `{ location, message }` with messages for humans. */
function toFieldErrors(root: string, data: unknown, errors: ErrorObject[]): ProblemFieldError[] {
  const result: ProblemFieldError[] = [];
  const seen = new Set<string>();
  for (const error of errors) {
    const params: Record<string, unknown> = error.params;
    let extraKey: string | undefined;
    let message = error.message ?? "is invalid";
    switch (error.keyword) {
      case "required":
        extraKey = String(params.missingProperty);
        message = "is required";
        break;
      case "additionalProperties": {
        extraKey = String(params.additionalProperty);
        const properties: unknown = isRecord(error.parentSchema) ? error.parentSchema.properties : undefined;
        const allowed = isRecord(properties) ? Object.keys(properties) : [];
        message =
          allowed.length > 0
            ? `is not a known field (allowed: ${allowed.join(", ")})`
            : "is not a known field";
        break;
      }
      case "type":
        message = `must be ${String(params.type).split(",").join(" or ")}`;
        break;
      case "enum":
        message = `must be one of: ${describeAllowed(params.allowedValues)}`;
        break;
      case "const":
        message = `must be ${describeAllowed([params.allowedValue])}`;
        break;
      case "pattern":
        message = `must match the pattern ${String(params.pattern)}`;
        break;
      case "propertyNames":
      case "if":
        // Summaries of errors already reported on their own.
        continue;
    }
    if (error.propertyName !== undefined) {
      // An error about a key itself (propertyNames): name the key, not the object.
      extraKey = error.propertyName;
      message = `is not a valid key: ${message}`;
    }
    const location = locate(root, data, error.instancePath, extraKey);
    const id = `${location}\u0000${message}`;
    if (!seen.has(id)) {
      seen.add(id);
      result.push({ location, message });
    }
  }
  return result;
}

/** `application/json; charset=utf-8` → `application/json`. */
function mediaTypeOf(header: string | undefined): string | undefined {
  const type = header?.split(";")[0]?.trim().toLowerCase();
  return type ? type : undefined;
}

function describe(errors: ProblemFieldError[]): string {
  const shown = errors.slice(0, 3).map((e) => `${e.location} ${e.message}`);
  const more = errors.length > 3 ? `; and ${errors.length - 3} more` : "";
  return `The request is invalid: ${shown.join("; ")}${more}.`;
}

function decodes(text: string): boolean {
  try {
    decodeURIComponent(text.replaceAll("+", " "));
    return true;
  } catch {
    return false;
  }
}

/**
 * Path and query parts whose percent-encoding is not UTF-8 (`%FF`, `%ED%A0%80`): Hono hands
 * those on undecoded, as if `%FF` were three characters someone meant.
 */
function undecodableParts(c: Context, spec: OperationSpec): ProblemFieldError[] {
  // Only percent-encoded bytes can fail to decode: most requests have none (no URL to parse).
  if (!c.req.url.includes("%")) {
    return [];
  }
  const url = new URL(c.req.url);
  const errors: ProblemFieldError[] = [];
  const message = "is not valid UTF-8 (its percent-encoded bytes)";
  const raw = url.pathname.split("/");
  spec.path.split("/").forEach((segment, i) => {
    const param = /^\{(.+)\}$/.exec(segment)?.[1];
    const value = raw[i];
    if (param !== undefined && value !== undefined && !decodes(value)) {
      errors.push({ location: `path.${param}`, message });
    }
  });
  for (const part of url.search.slice(1).split("&")) {
    const [name = "", ...rest] = part.split("=");
    if (part !== "" && (!decodes(name) || !decodes(rest.join("=")))) {
      errors.push({ location: `query.${decodes(name) ? decodeURIComponent(name) : name}`, message });
    }
  }
  return errors;
}

/** Reads path, query and header values as declared; reports undeclared and repeated query parameters. */
function collectParameters(
  c: Context,
  location: ParameterLocation,
  parameters: ParameterSpec[],
  errors: ProblemFieldError[],
): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  if (location === "path") {
    const raw = c.req.param();
    for (const p of parameters) {
      const value = raw[p.name];
      if (value !== undefined) {
        values[p.name] = value;
      }
    }
    return values;
  }
  if (location === "header") {
    for (const p of parameters) {
      const value = c.req.header(p.name);
      if (value !== undefined) {
        values[p.name] = value;
      }
    }
    return values;
  }
  const declared = new Map(parameters.map((p) => [p.name, p]));
  for (const [name, list] of Object.entries(c.req.queries())) {
    const p = declared.get(name);
    if (!p) {
      const allowed = parameters.map((q) => q.name).join(", ");
      errors.push({
        location: `query.${name}`,
        message: allowed
          ? `is not a known query parameter (allowed: ${allowed})`
          : "is not a known query parameter",
      });
      continue;
    }
    if (p.isArray) {
      values[name] = list;
    } else if (list.length > 1) {
      errors.push({ location: `query.${name}`, message: "must be given at most once" });
    } else {
      values[name] = list[0];
    }
  }
  return values;
}

const UTF8 = new TextDecoder("utf-8", { fatal: true });

/** The body as text; bytes that are not UTF-8 are a 400, not silently U+FFFD. */
async function readBodyText(c: Context): Promise<string> {
  const bytes = await c.req.arrayBuffer();
  try {
    return UTF8.decode(bytes);
  } catch {
    throw badRequest("The request body is not valid UTF-8.", [
      { location: "body", message: "is not valid UTF-8" },
    ]);
  }
}

async function readJsonBody(c: Context, required: boolean): Promise<{ present: boolean; value: unknown }> {
  const text = await readBodyText(c);
  if (text.trim() === "") {
    if (required) {
      throw badRequest("The request body is required.", [{ location: "body", message: "is required" }]);
    }
    return { present: false, value: undefined };
  }
  try {
    return { present: true, value: JSON.parse(text) };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw badRequest(`The request body is not valid JSON: ${reason}`, [
      { location: "body", message: `is not valid JSON: ${reason}` },
    ]);
  }
}

/**
 * Builds the validator of one operation from the document: path, query and header parameters
 * (coerced to their declared types, repeatable query parameters as arrays, unknown query
 * parameters rejected) and the JSON body (`Content-Type: application/json` required: 415
 * otherwise; malformed JSON: 400; unknown fields rejected by `additionalProperties: false`).
 * Schemas are compiled once, here, not per request.
 */
export function createRequestValidator(
  spec: OperationSpec,
  document: OpenApiDocument = openapiDocument,
): RequestValidator {
  const compilers = getCompilers(document);
  const byLocation = (location: ParameterLocation) => spec.parameters.filter((p) => p.in === location);
  const checks = (["path", "query", "header"] as const).map((location) => ({
    location,
    parameters: byLocation(location),
    validate: compileParameters(compilers.parameters, byLocation(location)),
  }));
  const bodySpec = spec.requestBody;
  const validateBody = bodySpec ? compilers.body.compile(refTo(bodySpec.schemaPointer)) : undefined;
  const multiline = bodySpec ? multilinePaths(document, bodySpec.schemaPointer) : [];

  return async (c) => {
    let body: unknown;
    let bodyPresent = false;
    if (bodySpec) {
      const mediaType = mediaTypeOf(c.req.header("content-type"));
      if (mediaType === "application/json") {
        ({ present: bodyPresent, value: body } = await readJsonBody(c, bodySpec.required));
      } else if (mediaType !== undefined || bodySpec.required || (await c.req.text()).trim() !== "") {
        throw new ProblemError({
          code: "UNSUPPORTED_MEDIA_TYPE",
          detail: `Send the request body as application/json${mediaType ? `, not ${mediaType}` : " (Content-Type is missing)"}.`,
          errors: [{ location: "header.Content-Type", message: "must be application/json" }],
        });
      }
    }

    if (!bodySpec && !carriesNoBody(c) && (await readBodyText(c)).trim() !== "") {
      // A body the operation does not read is refused, not ignored (a DELETE with fields, say).
      throw badRequest("This operation takes no request body.", [
        { location: "body", message: "is not taken by this operation" },
      ]);
    }

    const errors: ProblemFieldError[] = [];
    const input: ValidatedRequest = { params: {}, query: {}, headers: {}, body };
    const collected = checks.map((check) => ({
      check,
      values: collectParameters(c, check.location, check.parameters, errors),
    }));
    // Control characters and invalid Unicode first: no schema, handler or query sees them.
    const textErrors = [
      ...undecodableParts(c, spec),
      ...collected.flatMap(({ check, values }) => findTextProblems(check.location, values)),
      ...(bodyPresent ? findTextProblems("body", body, multiline) : []),
    ];
    if (textErrors.length > 0) {
      throw badRequest(describe(textErrors), textErrors.slice(0, MAX_FIELD_ERRORS));
    }
    for (const { check, values } of collected) {
      if (check.validate && !check.validate(values)) {
        errors.push(...toFieldErrors(check.location, values, check.validate.errors ?? []));
      }
      input[check.location === "path" ? "params" : check.location === "header" ? "headers" : "query"] =
        values;
    }
    if (validateBody && bodyPresent && !validateBody(body)) {
      errors.push(...toFieldErrors("body", body, validateBody.errors ?? []));
    }
    if (errors.length > 0) {
      throw badRequest(describe(errors), errors.slice(0, MAX_FIELD_ERRORS));
    }
    return input;
  };
}

/**
 * Validates a value against a schema of the document (`#/components/schemas/CreateNodeRequest`),
 * as request bodies are: for what reaches the commands another way (the docker facade's
 * translations), so it meets the same rules. The field errors, located under `root`; none: valid.
 */
export function validateAgainstSchema(
  schemaPointer: string,
  value: unknown,
  root = "body",
  document: OpenApiDocument = openapiDocument,
): ProblemFieldError[] {
  const ajv = getCompilers(document).body;
  const validate = ajv.getSchema(`${DOCUMENT_ID}#${schemaPointer}`) ?? ajv.compile(refTo(schemaPointer));
  return validate(value) ? [] : toFieldErrors(root, value, validate.errors ?? []);
}
