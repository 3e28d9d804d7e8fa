/**
 * The bench's HTTP side: a small JSON client over node:http with a keep-alive agent, a pool of
 * concurrent clients, and percentiles. Not fetch: the load generator shares the machine's two
 * cores with what it measures, and node:http costs it about half of fetch's CPU a request.
 */
import { Agent, request as httpRequest, type IncomingHttpHeaders } from "node:http";

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
  private readonly agent = new Agent({ keepAlive: true });

  constructor(
    readonly baseUrl: string,
    readonly token: string,
  ) {}

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}` };
    const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
    if (payload !== undefined) {
      headers["content-type"] = "application/json";
      headers["content-length"] = String(Buffer.byteLength(payload));
    }
    if (options.wait !== undefined) {
      headers.prefer = `wait=${options.wait}`;
    }
    const started = performance.now();
    const {
      status,
      headers: answered,
      text,
    } = await new Promise<{
      status: number;
      headers: IncomingHttpHeaders;
      text: string;
    }>((resolve, reject) => {
      const call = httpRequest(
        new URL(path, this.baseUrl),
        { method, headers, agent: this.agent, signal: AbortSignal.timeout(options.timeoutMs ?? 120_000) },
        (response) => {
          const chunks: Buffer[] = [];
          response.on("data", (chunk: Buffer) => chunks.push(chunk));
          response.on("error", reject);
          response.on("end", () =>
            resolve({
              status: response.statusCode ?? 0,
              headers: response.headers,
              text: Buffer.concat(chunks).toString("utf8"),
            }),
          );
        },
      );
      call.on("error", reject);
      call.end(payload);
    });
    const ms = performance.now() - started;
    let body: T | undefined;
    if (text !== "" && options.parse !== false) {
      try {
        body = JSON.parse(text) as T;
      } catch {
        body = undefined;
      }
    }
    return { status, headers: answered, body, ms };
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
  close(): void {
    this.agent.destroy();
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
