/** The parts of a postgres.js error that say which constraint a statement broke. */
export interface ConstraintViolation {
  /** SQLSTATE: 23505 unique, 23P01 exclusion, 23503 foreign key. */
  code: string;
  constraint: string;
  detail?: string;
}

/** The constraint violation behind `error`, if that is what it is (drizzle wraps driver errors in `cause`). */
export function constraintViolation(error: unknown): ConstraintViolation | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current; depth++) {
    if (typeof current === "object" && current !== null) {
      const candidate = current as {
        code?: unknown;
        constraint_name?: unknown;
        detail?: unknown;
        cause?: unknown;
      };
      if (typeof candidate.code === "string" && typeof candidate.constraint_name === "string") {
        return {
          code: candidate.code,
          constraint: candidate.constraint_name,
          ...(typeof candidate.detail === "string" ? { detail: candidate.detail } : {}),
        };
      }
      current = candidate.cause;
    } else {
      return undefined;
    }
  }
  return undefined;
}
