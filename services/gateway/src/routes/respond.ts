import { type Db, getOperation, type OperationRow } from "@labnet/db";
import type { Context } from "hono";
import { parsePreferWait, preferenceApplied } from "../http/prefer";
import type { OperationWaiter } from "../services/operation-waiter";
import { operationHref, operationView } from "../views/operation-view";

export interface OperationResponseOptions<T> {
  operation: OperationRow;
  /**
   * The resource as it stands now (undefined once removed); `waited` says whether the call
   * waited, so the operation may have moved on since the command returned it.
   */
  load: (waited: boolean) => Promise<T | undefined>;
  /**
   * The resource as the call left it, when the command returned it: answered instead of
   * loading it again when the call did not wait (nothing can have changed it that the
   * answer should show: its operation is still queued).
   */
  current?: T | undefined;
  /** Status when finished: 201 for creates, 200 for changes, 204 for removals. */
  doneStatus: 200 | 201 | 204;
  /** The resource's URL, sent as `Location`. */
  location?: string;
}

/**
 * Answers a call that started kernel work. Without `Prefer: wait=N`: 202 with the
 * resource (state pending) and `Operation-Location`. With it: waits up to N seconds
 * and, when the operation succeeded, answers 201 with the finished resource (or 204 for
 * a removal); otherwise still 202 with the resource as it stands and its operation.
 */
export async function respondToOperation<T>(
  c: Context,
  deps: { db: Db; waiter: OperationWaiter },
  options: OperationResponseOptions<T>,
): Promise<Response> {
  c.header("Operation-Location", operationHref(options.operation.id));
  if (options.location) {
    c.header("Location", options.location);
  }
  let state = options.operation.state;
  const wait = parsePreferWait(c.req.header("prefer"));
  const waited = wait !== undefined && wait > 0;
  if (waited) {
    c.header("Preference-Applied", preferenceApplied(wait));
    // Finished: the state its notification said; else as it stands now.
    state =
      (await deps.waiter.wait(options.operation.id, wait * 1000)) ??
      (await getOperation(deps.db, options.operation.id))?.state ??
      state;
  }
  const { doneStatus } = options;
  if (state === "succeeded" && doneStatus === 204) {
    // A finished removal answers no body: nothing to load.
    return c.body(null, 204);
  }
  const resource = (waited ? undefined : options.current) ?? (await options.load(waited));
  if (state === "succeeded" && doneStatus !== 204) {
    return resource === undefined ? c.body(null, 204) : c.json(resource, doneStatus);
  }
  return c.json(resource ?? { operation: options.operation.id }, 202);
}

/**
 * The `load` of a removal: its operation (what a removal's 202 answers: the resource is on
 * its way out, the operation is what to follow), read again after a wait; without one, as
 * the command just recorded it (still queued: nothing can have moved it that the answer
 * should show).
 */
export function loadOperation(
  db: Db,
  operation: OperationRow,
): (waited: boolean) => Promise<Awaited<ReturnType<typeof operationView>>> {
  return async (waited) =>
    operationView(db, waited ? ((await getOperation(db, operation.id)) ?? operation) : operation);
}

/**
 * For removals that take several converges (a machine, a lab): with `Prefer: wait=N`, polls
 * `gone` until it is true or N seconds passed. True when the resource went within the wait.
 */
export async function waitUntilGone(
  c: Context,
  gone: () => Promise<boolean>,
  pollMs = 100,
): Promise<boolean> {
  const wait = parsePreferWait(c.req.header("prefer"));
  if (wait === undefined || wait <= 0) {
    return false;
  }
  c.header("Preference-Applied", preferenceApplied(wait));
  const deadline = Date.now() + wait * 1000;
  while (Date.now() < deadline) {
    if (await gone()) {
      return true;
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
  return false;
}
