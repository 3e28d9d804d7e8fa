import { type OpenApiDocument, openapiDocument } from "@labnet/api";
import type { ValidateFunction } from "ajv";
import { checkJsonBody, describeErrors, mediaTypeOf } from "./answer-checks";
import {
  createPathMatcher,
  indexOperations,
  type OperationSpec,
  type ResponseSpec,
} from "./openapi-operations";
import { PROBLEM_CODES, PROBLEM_CONTENT_TYPE, problemType } from "./problem";
import { createDockerResponseValidator } from "./validate-docker-response";
import { compileDocumentSchema } from "./validate-request";

/** Checks one answer against the document; resolves with what does not conform (empty: it does). */
export type ResponseValidator = (request: Request, response: Response) => Promise<string[]>;

/** Where every problem document's schema is, for answers no operation declares (404, 405). */
const PROBLEM_SCHEMA = "/components/schemas/Problem";

function isJson(mediaType: string): boolean {
  return mediaType === "application/json" || mediaType.endsWith("+json");
}

/** The declared response for `status`: exact, then its class (`4XX`), then `default`. */
function declaredResponse(spec: OperationSpec, status: number): ResponseSpec | undefined {
  return (
    spec.responses.get(String(status)) ??
    spec.responses.get(`${String(status)[0]}XX`) ??
    spec.responses.get("default")
  );
}

/**
 * A checker of answers against the OpenAPI document, for the test suite (so the contract
 * cannot drift from the code unnoticed): the operation is found by method and path, and the
 * answer's status must be declared for it, every required header present and every declared
 * header valid, the media type declared, and a JSON body valid against its schema (compiled by
 * the request validator's Ajv, so both directions judge alike). A path with no operation for
 * the method must answer a problem: 405 with `Allow` when other methods have it, 404 when none
 * does (or an earlier refusal: 401, 429).
 * Answers of the `/docker/{machine}` facade follow the Engine API instead, and are judged by
 * validate-docker-response.ts. Other paths (the docs page, `/openapi.json`, `/metrics`) are not.
 *
 * @example
 * const validate = createResponseValidator();
 * const mismatches = await validate(request, await app.fetch(request)); // [] when it conforms
 */
export function createResponseValidator(document: OpenApiDocument = openapiDocument): ResponseValidator {
  const match = createPathMatcher(indexOperations(document).values());
  const compiled = new Map<string, ValidateFunction>();
  const compile = (pointer: string, coerce: boolean): ValidateFunction => {
    const key = `${coerce}:${pointer}`;
    let validate = compiled.get(key);
    if (!validate) {
      validate = compileDocumentSchema(pointer, { coerce }, document);
      compiled.set(key, validate);
    }
    return validate;
  };

  const checkBody = async (response: Response, schemaPointer: string, what: string): Promise<string[]> => {
    const validate = compile(schemaPointer, false);
    return checkJsonBody(
      response,
      (body) => ({ ok: validate(body), errors: validate.errors }),
      what,
      "the body does not match the schema",
    );
  };

  /** Answers of a path and method no operation has: a problem; 405 with `Allow` where the path has others. */
  const checkUnrouted = async (response: Response, methods: string[], what: string): Promise<string[]> => {
    const mismatches: string[] = [];
    const mediaType = mediaTypeOf(response.headers.get("content-type"));
    if (mediaType !== "application/problem+json") {
      return [`${what}: content type ${mediaType ?? "(none)"}, want application/problem+json`];
    }
    mismatches.push(...(await checkBody(response, PROBLEM_SCHEMA, what)));
    if (methods.length === 0 && response.status === 405) {
      mismatches.push(`${what}: answered 405, but no operation has this path (want 404)`);
    }
    if (methods.length > 0 && response.status === 404) {
      mismatches.push(`${what}: answered 404, but the path has ${methods.join(", ")} (want 405 with Allow)`);
    }
    if (response.status === 405) {
      const allow = (response.headers.get("allow") ?? "").split(/,\s*/);
      if (!methods.every((m) => allow.includes(m))) {
        mismatches.push(
          `${what}: Allow is ${response.headers.get("allow") ?? "(missing)"}, want ${methods.join(", ")}`,
        );
      }
    }
    return mismatches;
  };

  const checkDocker = createDockerResponseValidator();

  return async (request, response) => {
    const docker = checkDocker(request, response);
    if (docker) {
      return docker;
    }
    const url = new URL(request.url);
    const method = request.method.toLowerCase();
    if (!url.pathname.startsWith("/v1/") || method === "head" || method === "options") {
      return [];
    }
    const matching = match(url.pathname);
    const spec = matching.find((s) => s.method === method);
    if (!spec) {
      const methods = [...new Set(matching.map((s) => s.method.toUpperCase()))];
      return checkUnrouted(response, methods, `${request.method} ${url.pathname} (no operation)`);
    }
    const what = `${spec.operationId} (${request.method} ${url.pathname}) answered ${response.status}`;
    const declared = declaredResponse(spec, response.status);
    if (!declared) {
      return [`${what}, which it does not declare (declared: ${[...spec.responses.keys()].join(", ")})`];
    }
    const mismatches: string[] = [];
    for (const header of declared.headers) {
      if (header.name.toLowerCase() === "content-type") {
        continue;
      }
      const value = response.headers.get(header.name);
      if (value === null) {
        if (header.required) {
          mismatches.push(`${what}: header ${header.name} is required but missing`);
        }
        continue;
      }
      if (header.schemaPointer) {
        const validate = compile(header.schemaPointer, true);
        if (!validate(value)) {
          mismatches.push(`${what}: header ${header.name}: ${value}: ${describeErrors(validate.errors)}`);
        }
      }
    }
    const mediaType = mediaTypeOf(response.headers.get("content-type"));
    if (declared.content.size === 0) {
      if (mediaType !== undefined || (response.body !== null && (await response.clone().text()) !== "")) {
        mismatches.push(`${what}: it declares no body but one came (${mediaType ?? "no content type"})`);
      }
      return mismatches;
    }
    if (mediaType === undefined || !declared.content.has(mediaType)) {
      mismatches.push(
        `${what}: content type ${mediaType ?? "(none)"} is not declared (declared: ${[...declared.content.keys()].join(", ")})`,
      );
      return mismatches;
    }
    const schemaPointer = declared.content.get(mediaType);
    if (schemaPointer && isJson(mediaType)) {
      mismatches.push(...(await checkBody(response, schemaPointer, what)));
    }
    return mismatches;
  };
}

/** What the gateway logs (at error) for each answer {@link validatingFetch} refuses; tests look for it. */
export const CONTRACT_MISMATCH = "answer does not match the contract";

/** The fetch of a served app (Hono's: a request and the server's bindings). */
type ServedFetch = (request: Request, ...rest: never[]) => Response | Promise<Response>;

/**
 * `LABNET_VALIDATE_RESPONSES=true` (tests of the gateway as a process; never in production):
 * every answer is checked as the in-process suite checks it, and one that does not conform is
 * logged (`onMismatch`) and replaced by a 500 naming the mismatch (a problem on `/v1`, dockerd's
 * `{"message"}` on `/docker`), so the test that caused it fails at the call rather than passing
 * on a drifted contract.
 */
export function validatingFetch<F extends ServedFetch>(
  fetch: F,
  onMismatch: (request: Request, mismatches: string[]) => void,
  validate: ResponseValidator = createResponseValidator(),
): F {
  const wrapped = async (request: Request, ...rest: never[]): Promise<Response> => {
    const response = await fetch(request, ...rest);
    const mismatches = await validate(request, response);
    if (mismatches.length === 0) {
      return response;
    }
    onMismatch(request, mismatches);
    const detail = `the answer does not match the contract: ${mismatches.join("; ")}`;
    const { pathname } = new URL(request.url);
    if (pathname.startsWith("/docker/")) {
      return Response.json({ message: detail }, { status: 500 });
    }
    const problem = {
      type: problemType("INTERNAL"),
      title: PROBLEM_CODES.INTERNAL.title,
      status: 500,
      detail,
      instance: pathname,
      code: "INTERNAL",
      requestId: response.headers.get("x-request-id") ?? "",
    };
    return new Response(JSON.stringify(problem), {
      status: 500,
      headers: { "content-type": PROBLEM_CONTENT_TYPE },
    });
  };
  return wrapped as F;
}
