/** One Server-Sent Events message as a client parses it. */
export interface SseMessage {
  id?: string;
  event?: string;
  data: string;
}

/** A parsed `text/event-stream` body: messages in order, comments counted. */
export interface SseReader {
  /** The next message; rejects after `timeoutMs` or when the stream ends first. */
  next(timeoutMs?: number): Promise<SseMessage>;
  /** The next `n` messages. */
  take(n: number, timeoutMs?: number): Promise<SseMessage[]>;
  /** Messages until the stream ends (or `timeoutMs`). */
  rest(timeoutMs?: number): Promise<{ messages: SseMessage[]; ended: boolean }>;
  /** Comment lines seen so far (`: heartbeat`). */
  comments: string[];
  close(): Promise<void>;
}

/** Reads an SSE response body the way EventSource does (fields per line, blank line ends a message). */
export function readSse(response: Response): SseReader {
  const body = response.body;
  if (!body) {
    throw new Error("the response has no body");
  }
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  const messages: SseMessage[] = [];
  const comments: string[] = [];
  let ended = false;
  let buffer = "";
  let current: SseMessage = { data: "" };
  let dataLines: string[] = [];
  let waiting: (() => void) | undefined;

  const pump = (async () => {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) {
          break;
        }
        buffer += value;
        let newline = buffer.indexOf("\n");
        while (newline >= 0) {
          const line = buffer.slice(0, newline).replace(/\r$/, "");
          buffer = buffer.slice(newline + 1);
          if (line === "") {
            if (dataLines.length > 0 || current.id !== undefined || current.event !== undefined) {
              messages.push({ ...current, data: dataLines.join("\n") });
            }
            current = { data: "" };
            dataLines = [];
          } else if (line.startsWith(":")) {
            comments.push(line.slice(1).trim());
          } else {
            const colon = line.indexOf(":");
            const field = colon < 0 ? line : line.slice(0, colon);
            const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
            if (field === "data") {
              dataLines.push(value);
            } else if (field === "id") {
              current.id = value;
            } else if (field === "event") {
              current.event = value;
            }
          }
          newline = buffer.indexOf("\n");
        }
        waiting?.();
      }
    } catch {
      // Cancelled by close().
    } finally {
      ended = true;
      waiting?.();
    }
  })();

  let taken = 0;
  const waitFor = async (ready: () => boolean, timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    while (!ready()) {
      if (ended) {
        return false;
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        return false;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        waiting = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    return true;
  };

  return {
    comments,
    async next(timeoutMs = 10_000) {
      if (!(await waitFor(() => messages.length > taken, timeoutMs))) {
        throw new Error(ended ? "the stream ended" : `no message within ${timeoutMs} ms`);
      }
      const message = messages[taken];
      taken += 1;
      if (!message) {
        throw new Error("no message");
      }
      return message;
    },
    async take(n, timeoutMs = 10_000) {
      const ok = await waitFor(() => messages.length >= taken + n, timeoutMs);
      const got = messages.slice(taken, taken + n);
      taken += got.length;
      if (!ok) {
        throw new Error(`${got.length} of ${n} messages (${ended ? "the stream ended" : "timed out"})`);
      }
      return got;
    },
    async rest(timeoutMs = 10_000) {
      await waitFor(() => false, timeoutMs);
      const got = messages.slice(taken);
      taken = messages.length;
      return { messages: got, ended };
    },
    async close() {
      await reader.cancel().catch(() => undefined);
      await pump;
    },
  };
}
