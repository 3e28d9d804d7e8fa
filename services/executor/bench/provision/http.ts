/**
 * The bench's HTTP side: a small JSON client over undici's connection pool, a pool of
 * concurrent clients, and percentiles. Not fetch nor node:http: the load generator shares the
 * machine's two cores with what it measures, and undici's request API costs it less CPU a
 * request than node:http (about 15% less at 300 requests/s here), which costs less than fetch.
 */
import type { IncomingHttpHeaders } from "node:http";
import { Pool } from "undici";

export interface ApiResponse<T> {
  status: number;
  headers: IncomingHttpHeaders;
  body: T | undefined;
  /** Wall time of the call, body included. */
  ms: number;
}

export interface RequestOptions {
  body?: unknown;
  /** `Prefer: wait=N`. */
  wait?: number;
  /** Aborts the call after this long (default 120 s). */
  timeoutMs?: number;
  /** Parse the body as JSON (default true; the reads only need it read). */
  parse?: boolean;
}

/** A client of the gateway under test, authenticated as admin. */
export class Api {
  /** Connections stay open between calls, as a client's pool keeps them. */
  private readonly pool: Pool;

  constructor(
    readonly baseUrl: string,
    readonly token: string,
  ) {
    this.pool = new Pool(baseUrl);
  }

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}` };
    const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
    if (payload !== undefined) {
      headers["content-type"] = "application/json";
    }
    if (options.wait !== undefined) {
      headers.prefer = `wait=${options.wait}`;
    }
    const timeoutMs = options.timeoutMs ?? 120_000;
    const started = performance.now();
    const answer = await this.pool.request({
      method: method as "GET",
      path,
      headers,
      body: payload,
      signal: AbortSignal.timeout(timeoutMs),
      // The signal bounds the call; undici's own 300 s timeouts must not outlast it.
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    const text = await answer.body.text();
    const ms = performance.now() - started;
    let body: T | undefined;
    if (text !== "" && options.parse !== false) {
      try {
        body = JSON.parse(text) as T;
      } catch {
        body = undefined;
      }
    }
    return { status: answer.statusCode, headers: answer.headers, body, ms };
  }

  /** Like {@link request}, but throws unless the status is one of `want`. */
  async expect<T>(
    want: readonly number[],
    method: string,
    path: string,
    options: RequestOptions = {},
  ): Promise<ApiResponse<T>> {
    const response = await this.request<T>(method, path, options);
    if (!want.includes(response.status)) {
      throw new Error(
        `${method} ${path}: want ${want.join(" or ")}, got ${response.status} ${JSON.stringify(response.body)}`,
      );
    }
    return response;
  }

  /** Closes the kept connections (at the end of a run). */
  close(): Promise<void> {
    return this.pool.destroy();
  }
}

/** The operation id of a 202/201 answer: its `Operation-Location`, else the body's `operation.id`. */
export function operationIdOf(response: ApiResponse<unknown>): string {
  const location = response.headers["operation-location"];
  const fromHeader = (Array.isArray(location) ? location[0] : location)?.split("/").pop();
  if (fromHeader?.startsWith("op_")) {
    return fromHeader;
  }
  const body = response.body;
  if (typeof body === "object" && body !== null) {
    if ("operation" in body && typeof body.operation === "object" && body.operation !== null) {
      if ("id" in body.operation && typeof body.operation.id === "string") {
        return body.operation.id;
      }
    }
    if ("id" in body && typeof body.id === "string" && body.id.startsWith("op_")) {
      return body.id;
    }
  }
  throw new Error(`no operation in the answer (${response.status} ${JSON.stringify(body)})`);
}

/**
 * Runs `task(0..count-1)` from `clients` concurrent workers, each taking the next index when
 * its previous call is done (a closed loop per client). Stops on the first failure.
 */
export async function inParallel<T>(
  count: number,
  clients: number,
  task: (index: number) => Promise<T>,
): Promise<T[]> {
  const results: T[] = new Array(count);
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < count) {
      const index = next++;
      try {
        results[index] = await task(index);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(clients, count) }, worker));
  return results;
}

/** The p-th percentile (0-100, nearest rank) of `values`; 0 for none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) {
    return 0;
  }
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))] ?? 0;
}
