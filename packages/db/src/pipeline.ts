/**
 * Statements of one transaction sent without waiting for the one before (postgres.js sends
 * them in order on the transaction's connection, so each still runs after it): a round trip
 * saved per statement not awaited. When one fails, Postgres fails every later one with
 * "current transaction is aborted"; the error worth answering is the first.
 */

/**
 * Runs `next` after `first` was sent, without waiting for `first`'s answer, and answers both.
 * Either failing rejects with `first`'s error when `first` failed, else with `next`'s.
 *
 * @example
 * const [node, endpoints] = await pipelined(insertNode(tx, row), () => attachEndpoints(tx, row.id));
 */
export async function pipelined<A, B>(first: Promise<A>, next: () => Promise<B>): Promise<[A, B]> {
  // Handled below in every case; marked so a rejection before then is not reported unhandled.
  first.catch(() => undefined);
  let second: B;
  try {
    second = await next();
  } catch (error) {
    await first;
    throw error;
  }
  return [await first, second];
}
