/**
 * Executors publish their metrics (prom-client's JSON, labelled with their host) under this
 * Redis key, renewed every heartbeat with an expiry; the gateway's `GET /metrics` merges them
 * with its own, so one scrape sees the whole of Labnet. No `:` inside the host id part.
 */
export function executorMetricsKey(prefix: string, hostId: string): string {
  return `${prefix}:metrics:executor:${hostId}`;
}
