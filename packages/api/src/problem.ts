import type { components } from "./generated/labnet.js";

/** An RFC 9457 problem document as Labnet sends it (`application/problem+json`). */
export type Problem = components["schemas"]["Problem"];

/** The closed list of machine-readable error codes. */
export type ProblemCode = components["schemas"]["ProblemCode"];

/** One field at fault in a problem (`{ location: "body.ipam.configs[0].subnet", message }`). */
export type ProblemFieldError = components["schemas"]["ProblemFieldError"];

/**
 * True when `value` has the shape of a Labnet problem document.
 *
 * @example
 * const { data, error } = await client.POST("/v1/networks", { body });
 * if (isProblem(error)) console.error(error.code, error.detail);
 */
export function isProblem(value: unknown): value is Problem {
  if (typeof value !== "object" || value === null) {
    return false;
  }
  const record = value as Record<string, unknown>;
  return (
    typeof record.type === "string" &&
    typeof record.title === "string" &&
    typeof record.status === "number" &&
    typeof record.code === "string"
  );
}

/** Field errors named in {@link describeProblem}'s sentence; the rest are counted. */
const FIELDS_IN_SENTENCE = 3;

/**
 * A problem as one sentence for a person: its `detail`, and the fields at fault when the
 * detail does not already name them.
 *
 * @example
 * describeProblem(problem); // "network with name my-net already exists."
 */
export function describeProblem(problem: Pick<Problem, "detail" | "title" | "errors">): string {
  const detail = (problem.detail || problem.title).trim().replace(/[.\s]+$/, "");
  const unnamed = (problem.errors ?? []).filter((e) => !detail.includes(e.location));
  if (unnamed.length === 0) {
    return `${detail}.`;
  }
  const fields = unnamed.slice(0, FIELDS_IN_SENTENCE).map((e) => `${e.location} ${e.message}`);
  const more = unnamed.length - fields.length;
  return `${detail}: ${fields.join("; ")}${more > 0 ? ` (and ${more} more)` : ""}.`;
}

/**
 * An API answer that was a problem, thrown by helpers that return only success
 * ({@link waitForOperation}); `problem` is the document, `status` the HTTP status.
 */
export class LabnetProblemError extends Error {
  override readonly name = "LabnetProblemError";
  constructor(
    readonly problem: Problem,
    readonly status: number,
  ) {
    super(describeProblem(problem));
  }

  /** From openapi-fetch's `{ error, response }`; a body that is no problem becomes one. */
  static from(error: unknown, response: Response): LabnetProblemError {
    if (isProblem(error)) {
      return new LabnetProblemError(error, response.status);
    }
    const detail = `the API answered ${response.status} ${response.statusText}`.trim();
    return new LabnetProblemError(
      {
        type: "about:blank",
        title: response.statusText || "Error",
        status: response.status,
        detail,
        code: "INTERNAL",
        requestId: response.headers.get("x-request-id") ?? "",
      },
      response.status,
    );
  }
}
