import type { LabnetClient } from "./client.js";
import type { components } from "./generated/labnet.js";
import { LabnetProblemError } from "./problem.js";
import { isFinalOperationState } from "./states.js";

/** An operation as `GET /v1/operations/{id}` answers it. */
export type Operation = components["schemas"]["Operation"];

/** Options of {@link waitForOperation}. */
export interface WaitForOperationOptions {
  /** Give up after this long (default 120 s): rejects with {@link OperationTimeoutError}. */
  timeoutMs?: number;
  /** First pause between reads (default 200 ms); it doubles up to `maxIntervalMs`. */
  intervalMs?: number;
  /** Longest pause between reads (default 2 s). */
  maxIntervalMs?: number;
  /** Stops waiting (rejects with the signal's reason). */
  signal?: AbortSignal;
  /** Called with every read, e.g. to show `progress` or the state. */
  onUpdate?: (operation: Operation) => void;
}

/** {@link waitForOperation} gave up; `operation` is the last state it read. */
export class OperationTimeoutError extends Error {
  override readonly name = "OperationTimeoutError";
  constructor(readonly operation: Operation) {
    super(`operation ${operation.id} is still ${operation.state} after the wait`);
  }
}

/**
 * Reads an operation until it is final (`succeeded`, `failed` or `cancelled`) and returns it.
 * A failed operation is returned, not thrown: its `error` is the problem. An API error while
 * reading rejects with {@link LabnetProblemError}.
 *
 * @example
 * const { data } = await client.POST("/v1/networks", { body: { name: "my-net" } });
 * const op = await waitForOperation(client, data.operation.id, { timeoutMs: 60_000 });
 * if (op.state !== "succeeded") throw new Error(op.error?.detail);
 */
export async function waitForOperation(
  client: LabnetClient,
  operationId: string,
  options: WaitForOperationOptions = {},
): Promise<Operation> {
  const deadline = Date.now() + (options.timeoutMs ?? 120_000);
  const maxInterval = options.maxIntervalMs ?? 2_000;
  let interval = options.intervalMs ?? 200;
  for (;;) {
    options.signal?.throwIfAborted();
    const { data, error, response } = await client.GET("/v1/operations/{operationId}", {
      params: { path: { operationId } },
      ...(options.signal ? { signal: options.signal } : {}),
    });
    if (!data) {
      throw LabnetProblemError.from(error, response);
    }
    options.onUpdate?.(data);
    if (isFinalOperationState(data.state)) {
      return data;
    }
    const left = deadline - Date.now();
    if (left <= 0) {
      throw new OperationTimeoutError(data);
    }
    await sleep(Math.min(interval, left), options.signal);
    interval = Math.min(interval * 2, maxInterval);
  }
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(done, ms);
    function done() {
      signal?.removeEventListener("abort", aborted);
      resolve();
    }
    function aborted() {
      clearTimeout(timer);
      reject(signal?.reason);
    }
    signal?.addEventListener("abort", aborted, { once: true });
  });
}
