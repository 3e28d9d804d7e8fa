export {
  type OutboxDispatcher,
  type OutboxDispatcherOptions,
  startOutboxDispatcher,
} from "./dispatch-outbox";
export {
  EVENT_RETENTION_MS,
  EVENT_RETENTION_ROWS,
  type EventPruner,
  startEventPruner,
} from "./prune-events";
export { type IdempotencyKeyPruner, startIdempotencyKeyPruner } from "./prune-idempotency-keys";
export { type LabSweeper, startLabSweeper } from "./sweep-labs";
