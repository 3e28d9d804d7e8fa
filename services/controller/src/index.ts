export {
  type OperationNotification,
  type OutboxDispatcher,
  type OutboxDispatcherOptions,
  parseNotification,
  startOutboxDispatcher,
} from "./dispatch-outbox";
export { type LabSweeper, startLabSweeper } from "./sweep-labs";
