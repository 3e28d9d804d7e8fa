import { OPERATIONS_CHANNEL, parseOperationNotification, type Sql } from "@labnet/db";
import type { Logger } from "@labnet/log";
import type { HostConverger } from "./host-converger";

export interface OperationWakeups {
  stop(): Promise<void>;
}

/**
 * Converges a machine this executor serves as soon as an operation of it is committed. The
 * operations trigger's NOTIFY (`queued`, sent by the commit) reaches the executor a fraction
 * of a millisecond after it; the converge job of the outbox (the dispatcher's claim, then
 * BullMQ) comes several milliseconds later. The job stays the durable path: an operation whose
 * notification was missed (a LISTEN connection lost, an executor started later, a machine not
 * met yet) is served by its job, and a job whose operations a woken converge took already
 * finds none open (one snapshot statement). Requests made while a converge runs are served
 * together by the next one (converge-loop.ts), so a burst wakes no more converges than jobs do.
 */
export async function wakeOnOperations(
  pg: Sql,
  convergerOf: (hostId: string) => HostConverger | undefined,
  log: Logger,
): Promise<OperationWakeups> {
  const subscription = await pg
    .listen(OPERATIONS_CHANNEL, (payload) => {
      const notification = parseOperationNotification(payload);
      if (notification?.state !== "queued") {
        return;
      }
      convergerOf(notification.hostId)
        ?.request("changed")
        .catch((error: unknown) => log.warn("woken converge failed", { error: String(error) }));
    })
    .catch((error: unknown) => {
      log.warn("LISTEN failed; converging on jobs only", { error: String(error) });
      return undefined;
    });
  return {
    async stop() {
      await subscription?.unlisten();
    },
  };
}
