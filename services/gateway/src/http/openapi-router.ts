import { type OperationId, openapiDocument, type operations } from "@labnet/api";
import type { Context, Env, Hono } from "hono";
import type { Schema } from "hono/types";
import { createPathMatcher, indexOperations, type OperationSpec } from "./openapi-operations";
import { ProblemError, problemResponse } from "./problem";
import { createRequestValidator } from "./validate-request";

export type { OperationId };

/** `T` without `undefined`, or an empty record when the operation has none of it. */
type Present<T> = [Exclude<T, undefined>] extends [never] ? Record<string, never> : Exclude<T, undefined>;

type JsonBodyOf<RequestBody> = [NonNullable<RequestBody>] extends [never]
  ? undefined
  : NonNullable<RequestBody> extends { content: { "application/json": infer Body } }
    ? Body
    : undefined;

/**
 * What a handler receives, typed from the generated `operations[Id]`: path parameters,
 * query parameters (repeatable ones as arrays, numbers coerced), declared headers and the
 * JSON body, all validated against the document.
 */
export interface OperationInput<Id extends OperationId> {
  params: Present<operations[Id]["parameters"]["path"]>;
  query: Present<operations[Id]["parameters"]["query"]>;
  headers: Present<operations[Id]["parameters"]["header"]>;
  body: JsonBodyOf<operations[Id]["requestBody"]>;
}

/** A route handler for one operation. */
export type OperationHandler<E extends Env, Id extends OperationId> = (
  c: Context<E>,
  input: OperationInput<Id>,
) => Response | Promise<Response>;

const operationIndex = indexOperations(openapiDocument);

const matchPath = createPathMatcher(operationIndex.values());

/**
 * The methods the contract has for a concrete path (`HEAD` with `GET`), for `Allow`; empty
 * when no operation has the path.
 *
 * @example allowedMethods("/v1/networks/my-net") // ["DELETE", "GET", "HEAD", "PATCH"]
 */
export function allowedMethods(path: string): string[] {
  const methods = new Set(matchPath(path).map((s) => s.method.toUpperCase()));
  if (methods.has("GET")) {
    methods.add("HEAD");
  }
  return [...methods].sort();
}

/** Every operationId of the contract, so the app can assert that each one has a route. */
export function listOperationIds(): OperationId[] {
  return [...operationIndex.keys()] as OperationId[];
}

/**
 * How the document declares one operation (method, path, Hono path, whether it needs a token).
 *
 * @throws when the document has no such operation.
 */
export function getOperationSpec(operationId: string): OperationSpec {
  const spec = operationIndex.get(operationId);
  if (!spec) {
    throw new Error(`operation ${operationId} is not in openapi/labnet.yaml (run npm run generate?)`);
  }
  return spec;
}

/**
 * Routes one operation of the contract: looks up its method and path by operationId,
 * validates every request against the document (a failure answers 400 `VALIDATION_FAILED`
 * naming each field, or 415) and calls `handler(c, input)` with the typed, validated input.
 * Errors the handler throws go to the app's `onError`.
 * Register on the root app (or one mounted at `/`): the route is the document's full path.
 *
 * @throws at startup when the operationId is not in the document.
 * @example
 * registerOperation(app, "getNetwork", async (c, { params }) => c.json(await show(params.networkId), 200));
 */
export function registerOperation<E extends Env, S extends Schema, B extends string, Id extends OperationId>(
  app: Hono<E, S, B>,
  operationId: Id,
  handler: OperationHandler<E, Id>,
): void {
  const spec = getOperationSpec(operationId);
  const validate = createRequestValidator(spec);
  app.on(spec.method.toUpperCase(), spec.honoPath, async (c) => {
    let input: OperationInput<Id>;
    try {
      // The validator checked the values against the same document the types come from.
      input = (await validate(c)) as unknown as OperationInput<Id>;
    } catch (error) {
      if (error instanceof ProblemError) {
        return problemResponse(
          c,
          error,
          error.status === 415 && spec.method === "post" ? { "Accept-Post": "application/json" } : {},
        );
      }
      throw error;
    }
    if (spec.secured) {
      // Every operation that needs a token passes the access gate before its handler; with
      // no gate in place (no authentication ran) nothing is let through.
      const admit = (c.var as { admit?: OperationGate }).admit;
      if (!admit) {
        throw new ProblemError({
          code: "UNAUTHORIZED",
          detail: "this operation needs an API token",
          headers: { "WWW-Authenticate": 'Bearer realm="labnet"' },
        });
      }
      await admit(operationId, input as unknown as GateInput);
    }
    return handler(c, input);
  });
}

/** The validated input as the access gate reads (and narrows) it. */
export interface GateInput {
  params: Record<string, unknown>;
  query: Record<string, unknown>;
  body: unknown;
}

/** Applies the access rules to one operation's request (set per request by authentication). */
export type OperationGate = (operationId: OperationId, input: GateInput) => Promise<void>;
