/**
 * Hijacked connections, as dockerd serves `docker exec` and `docker attach`: the client sends
 * `Connection: Upgrade`, `Upgrade: tcp` and expects `101 UPGRADED`, then the raw stream on the same
 * socket. Node hands such requests to the server's `upgrade` event, not to the app; this passes them
 * through the app as ordinary requests (authentication, audit and the routes all apply) and, when
 * the answer is a hijackable stream (HIJACK_HEADER), writes the 101 and the stream on the socket;
 * any other answer (an error) is written as a plain HTTP response.
 */
import type { IncomingMessage, Server } from "node:http";
import type { Duplex } from "node:stream";
import { HIJACK_HEADER } from "./streams";

type Fetch = (request: Request) => Response | Promise<Response>;

/** Most a hijacked request's body may be (exec start and attach send a few bytes of JSON). */
const MAX_BODY_BYTES = 64 * 1024;

/** Serves upgrade requests of `server` through `fetch` (the gateway app's). */
export function serveDockerUpgrades(server: Pick<Server, "on">, fetch: Fetch): void {
  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on("error", () => socket.destroy());
    answer(req, socket, head, fetch).catch(() => socket.destroy());
  });
}

async function answer(req: IncomingMessage, socket: Duplex, head: Buffer, fetch: Fetch): Promise<void> {
  const body = await readBody(req, socket, head);
  if (body === undefined) {
    socket.end("HTTP/1.1 413 Payload Too Large\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
    return;
  }
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined && name !== "connection" && name !== "upgrade") {
      headers.set(name, Array.isArray(value) ? value.join(", ") : value);
    }
  }
  const request = new Request(`http://${req.headers.host ?? "localhost"}${req.url ?? "/"}`, {
    method: req.method ?? "GET",
    headers,
    ...(body.length > 0 && req.method !== "GET" && req.method !== "HEAD"
      ? { body: new Uint8Array(body) }
      : {}),
  });
  const response = await fetch(request);
  const hijack = response.headers.get(HIJACK_HEADER) !== null;
  const lines = hijack
    ? ["HTTP/1.1 101 UPGRADED", "Connection: Upgrade", "Upgrade: tcp"]
    : [`HTTP/1.1 ${response.status} ${response.statusText || "Error"}`, "Connection: close"];
  response.headers.forEach((value, name) => {
    if (
      name !== HIJACK_HEADER &&
      name !== "connection" &&
      name !== "transfer-encoding" &&
      name !== "content-length"
    ) {
      lines.push(`${name}: ${value}`);
    }
  });
  const payload = hijack ? undefined : new Uint8Array(await response.arrayBuffer());
  if (payload) {
    lines.push(`Content-Length: ${payload.length}`);
  }
  socket.write(`${lines.join("\r\n")}\r\n\r\n`);
  if (payload) {
    socket.end(payload);
    return;
  }
  // The stream: a client that half-closes its side (stdin done) still reads it to the end.
  const reader = response.body?.getReader();
  socket.on("close", () => void reader?.cancel().catch(() => undefined));
  for (;;) {
    const chunk = await reader?.read();
    if (!chunk || chunk.done) {
      break;
    }
    if (!socket.write(chunk.value)) {
      await new Promise((resolve) => socket.once("drain", resolve));
    }
  }
  socket.end();
}

/** The request's body: what came with the headers (`head`), then up to Content-Length more. */
async function readBody(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<Buffer | undefined> {
  const length = Number(req.headers["content-length"] ?? 0);
  if (!Number.isInteger(length) || length < 0 || length > MAX_BODY_BYTES) {
    return undefined;
  }
  let body = head;
  while (body.length < length) {
    const chunk = await new Promise<Buffer | undefined>((resolve) => {
      const onData = (data: Buffer) => {
        cleanup();
        resolve(data);
      };
      const onEnd = () => {
        cleanup();
        resolve(undefined);
      };
      const cleanup = () => {
        socket.off("data", onData);
        socket.off("end", onEnd);
        socket.off("close", onEnd);
      };
      socket.on("data", onData);
      socket.on("end", onEnd);
      socket.on("close", onEnd);
    });
    if (!chunk) {
      break;
    }
    body = Buffer.concat([body, chunk]);
  }
  // The client's stdin, if any, follows the body: a node has no process to take it, so it is read and dropped.
  socket.resume();
  return body.subarray(0, length);
}
