import { isDatabaseUnavailable } from "./queries/postgres-error";

export interface UntilDatabaseAvailableOptions {
  /** Told of each failed attempt before waiting `delayMs` (for a log line). */
  onRetry?: (error: unknown, delayMs: number, attempt: number) => void;
  /** First wait (default 250 ms); doubles up to `maxDelayMs` (default 5 s). */
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** Stops waiting: the last error is thrown. */
  signal?: AbortSignal;
}

/**
 * Runs `step` until it succeeds, waiting with capped exponential backoff while Postgres is
 * unreachable (isDatabaseUnavailable): a service starting before its database, or during a
 * restart, comes up once it is there instead of exiting. Any other error is thrown at once,
 * so a broken migration still fails the start.
 */
export async function untilDatabaseAvailable<T>(
  step: () => Promise<T>,
  options: UntilDatabaseAvailableOptions = {},
): Promise<T> {
  const max = options.maxDelayMs ?? 5_000;
  let delay = options.initialDelayMs ?? 250;
  for (let attempt = 1; ; attempt++) {
    try {
      return await step();
    } catch (error) {
      if (!isDatabaseUnavailable(error) || options.signal?.aborted) {
        throw error;
      }
      options.onRetry?.(error, delay, attempt);
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, max);
    }
  }
}
