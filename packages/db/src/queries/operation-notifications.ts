/**
 * The operations trigger's NOTIFY (packages/db/migrations, since 0001): on channel
 * {@link OPERATIONS_CHANNEL}, a JSON payload for every state change of an operation, its insert
 * (`queued`) included. Who listens: the outbox dispatcher, the gateway's `Prefer: wait`, the
 * executor's wakeups.
 */
export const OPERATIONS_CHANNEL = "labnet_operations";

/** The operations trigger's NOTIFY payload. */
export interface OperationNotification {
  id: string;
  state: string;
  hostId: string;
  kind: string;
  targetId: string;
}

/** The payload read, or undefined when it is not one. */
export function parseOperationNotification(payload: string): OperationNotification | undefined {
  try {
    const value: unknown = JSON.parse(payload);
    return typeof value === "object" && value !== null && "id" in value && "state" in value
      ? (value as OperationNotification)
      : undefined;
  } catch {
    return undefined;
  }
}
