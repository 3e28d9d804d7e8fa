import type { ConvergeScope } from "./converge";

interface Round {
  scope: ConvergeScope;
  promise: Promise<void>;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Runs converges one at a time and lets many requests share one: a request made while a
 * converge runs is served by the next one, together with every other request made meanwhile.
 * A converge reads its snapshot when it starts, so whatever was recorded before a request is
 * in the converge that answers it. Jobs, the reconcile timer and retries all request here:
 * kernel changes never interleave (two interleaved plans could undo each other).
 */
export class ConvergeLoop {
  readonly #converge: (scope: ConvergeScope) => Promise<void>;
  #next: Round | undefined;
  #busy = false;

  constructor(converge: (scope: ConvergeScope) => Promise<void>) {
    this.#converge = converge;
  }

  /** Resolves when a converge that started after this call has finished (rejects if it threw). */
  request(scope: ConvergeScope = "changed"): Promise<void> {
    if (!this.#next) {
      let resolve = () => {};
      let reject: (error: unknown) => void = () => {};
      const promise = new Promise<void>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      // Callers that do not wait (timers) must not turn a failed converge into a crash.
      promise.catch(() => undefined);
      this.#next = { scope, promise, resolve, reject };
    } else if (scope === "all") {
      this.#next.scope = "all";
    }
    const round = this.#next;
    void this.#pump();
    return round.promise;
  }

  /** Resolves once no converge runs or waits. */
  async idle(): Promise<void> {
    while (this.#busy || this.#next) {
      await this.#next?.promise.catch(() => undefined);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  async #pump(): Promise<void> {
    if (this.#busy) {
      return;
    }
    this.#busy = true;
    try {
      for (let round = this.#next; round; round = this.#next) {
        this.#next = undefined;
        try {
          await this.#converge(round.scope);
          round.resolve();
        } catch (error) {
          round.reject(error);
        }
      }
    } finally {
      this.#busy = false;
    }
  }
}
