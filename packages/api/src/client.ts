import createClient, { type Client } from "openapi-fetch";
import type { paths } from "./generated/labnet.js";

/** A typed client for the Labnet API: `client.GET("/v1/networks/{networkId}", { params: { path: { networkId } } })`. */
export type LabnetClient = Client<paths>;

/** Options of {@link createLabnetClient}. */
export interface LabnetClientOptions {
  /** The gateway's origin, e.g. `http://127.0.0.1:8080` (paths in the document start with `/v1`). */
  baseUrl: string;
  /** An API token, sent as `Authorization: Bearer <token>`; omit for the health probes. */
  token?: string;
  /** A fetch to use instead of the global one; tests pass `(request) => app.fetch(request)`. */
  fetch?: (request: Request) => Response | Promise<Response>;
  /** Headers sent with every request (e.g. `Prefer: wait=30`). */
  headers?: Record<string, string>;
}

/**
 * Creates a typed client (openapi-fetch) for the Labnet API.
 * Errors come back as `error` (a {@link Problem}), never thrown.
 *
 * @example
 * const client = createLabnetClient({ baseUrl: "http://localhost", token, fetch: (r) => app.fetch(r) });
 * const { data, error, response } = await client.POST("/v1/networks", {
 *   body: { name: "my-net" },
 *   headers: { Prefer: "wait=10" },
 * });
 */
export function createLabnetClient(options: LabnetClientOptions): LabnetClient {
  const headers: Record<string, string> = { ...options.headers };
  const customFetch = options.fetch;
  if (options.token !== undefined) {
    headers.authorization = `Bearer ${options.token}`;
  }
  return createClient<paths>({
    baseUrl: options.baseUrl,
    headers,
    ...(customFetch ? { fetch: async (request: Request) => customFetch(request) } : {}),
  });
}
