import type { Role } from "@labnet/db";
import type { MiddlewareHandler } from "hono";
import { RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";
import { ProblemError } from "../http/problem";
import type { AuthVariables } from "../middleware/auth";

/** Requests per second allowed per token, by role; 0: unlimited. */
export type RateLimits = Readonly<Record<Role, number>>;

/**
 * A student clicking around or a script in a loop stays well under these; a runaway client
 * does not starve the class. Admins (services, benches) are not limited unless configured.
 */
export const DEFAULT_RATE_LIMITS: RateLimits = { admin: 0, instructor: 100, student: 20 };

/** A token may spend this many seconds' worth of requests at once. */
const BURST_SECONDS = 5;

/**
 * Limits each token's request rate (per gateway process, in memory: a token bucket per token
 * id). Past it: 429 RATE_LIMITED with Retry-After in whole seconds.
 */
export function rateLimitPerToken(limits: RateLimits = DEFAULT_RATE_LIMITS): MiddlewareHandler<{
  Variables: AuthVariables;
}> {
  const limiters = new Map<Role, RateLimiterMemory>();
  for (const [role, perSecond] of Object.entries(limits) as [Role, number][]) {
    if (perSecond > 0) {
      limiters.set(
        role,
        new RateLimiterMemory({ points: perSecond * BURST_SECONDS, duration: BURST_SECONDS }),
      );
    }
  }
  return async (c, next) => {
    const token = c.get("token") as AuthVariables["token"] | undefined;
    const limiter = token ? limiters.get(token.role) : undefined;
    if (!token || !limiter) {
      return next();
    }
    try {
      await limiter.consume(token.id);
    } catch (error) {
      if (error instanceof RateLimiterRes) {
        const retryAfter = Math.max(1, Math.ceil(error.msBeforeNext / 1000));
        throw new ProblemError({
          code: "RATE_LIMITED",
          detail: `this token made more than ${limits[token.role] * BURST_SECONDS} requests in ${BURST_SECONDS} s: try again in ${retryAfter} s`,
          headers: { "Retry-After": String(retryAfter) },
        });
      }
      throw error;
    }
    return next();
  };
}
