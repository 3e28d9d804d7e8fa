import type { ErrorObject } from "ajv";

/** `application/problem+json; charset=utf-8` → `application/problem+json`. */
export function mediaTypeOf(header: string | null): string | undefined {
  const type = header?.split(";")[0]?.trim().toLowerCase();
  return type ? type : undefined;
}

/** Ajv's errors as one line, the first five. */
export function describeErrors(errors: ErrorObject[] | null | undefined): string {
  return (errors ?? [])
    .slice(0, 5)
    .map((e) => {
      const extra = e.keyword === "additionalProperties" ? `: ${String(e.params.additionalProperty)}` : "";
      return `${e.instancePath || "(root)"} ${e.message ?? "is invalid"}${extra}`;
    })
    .join("; ");
}

/**
 * Checks an answer's JSON body with `validate` (a copy is read; the answer stays unread):
 * no problems, or one saying it is not JSON or how it does not match.
 */
export async function checkJsonBody(
  response: Response,
  validate: (body: unknown) => { ok: boolean; errors?: ErrorObject[] | null | undefined },
  what: string,
  mismatch: string,
): Promise<string[]> {
  const text = await response.clone().text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return [`${what}: the body is not JSON: ${text.slice(0, 200)}`];
  }
  const result = validate(body);
  return result.ok ? [] : [`${what}: ${mismatch}: ${describeErrors(result.errors)}`];
}
