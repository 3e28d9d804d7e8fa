import type { components } from "./generated/labnet";

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
