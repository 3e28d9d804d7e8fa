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
