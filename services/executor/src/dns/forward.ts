import { createSocket } from "node:dgram";
import { connect } from "node:net";
import type { DnsForwarder, DnsTransport } from "./handle-query";

const DNS_PORT = 53;
/** Servers asked per query, like glibc (MAXNS). */
const MAX_SERVERS = 3;

/**
 * A forwarder that asks each server in turn (at most three, like glibc) over the transport
 * the node used, waiting `timeoutMs` for each; the first reply with the query's id wins.
 */
export function createForwarder(options: { timeoutMs: number; port?: number }): DnsForwarder {
  const port = options.port ?? DNS_PORT;
  return async (query, servers, transport) => {
    for (const server of servers.slice(0, MAX_SERVERS)) {
      const reply = await askOne(query, server, port, transport, options.timeoutMs).catch(() => undefined);
      if (reply !== undefined) {
        return reply;
      }
    }
    return undefined;
  };
}

function askOne(
  query: Buffer,
  server: string,
  port: number,
  transport: DnsTransport,
  timeoutMs: number,
): Promise<Buffer | undefined> {
  return transport === "udp"
    ? askUdp(query, server, port, timeoutMs)
    : askTcp(query, server, port, timeoutMs);
}

/**
 * A reply, or undefined after `timeoutMs` or on any error: `start` calls `finish` with what
 * it got; the first call wins and `close` releases the socket exactly once.
 */
function oneReply(
  timeoutMs: number,
  close: () => void,
  start: (finish: (reply: Buffer | undefined) => void) => void,
): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (reply: Buffer | undefined) => {
      if (done) {
        return;
      }
      done = true;
      clearTimeout(timer);
      close();
      resolve(reply);
    };
    const timer = setTimeout(() => finish(undefined), timeoutMs);
    start(finish);
  });
}

function askUdp(query: Buffer, server: string, port: number, timeoutMs: number): Promise<Buffer | undefined> {
  const id = query.readUInt16BE(0);
  // A socket per query: its random source port keeps replies of other queries out.
  const socket = createSocket("udp4");
  return oneReply(
    timeoutMs,
    () => socket.close(),
    (finish) => {
      socket.on("error", () => finish(undefined));
      socket.on("message", (reply, from) => {
        if (from.address === server && reply.length >= 12 && reply.readUInt16BE(0) === id) {
          finish(reply);
        }
      });
      socket.send(query, port, server);
    },
  );
}

function askTcp(query: Buffer, server: string, port: number, timeoutMs: number): Promise<Buffer | undefined> {
  const socket = connect({ host: server, port });
  let received = Buffer.alloc(0);
  return oneReply(
    timeoutMs,
    () => socket.destroy(),
    (finish) => {
      socket.on("error", () => finish(undefined));
      socket.on("close", () => finish(undefined));
      socket.on("connect", () => {
        const length = Buffer.alloc(2);
        length.writeUInt16BE(query.length);
        socket.write(Buffer.concat([length, query]));
      });
      socket.on("data", (chunk) => {
        received = Buffer.concat([received, chunk]);
        if (received.length >= 2 && received.length >= 2 + received.readUInt16BE(0)) {
          finish(received.subarray(2, 2 + received.readUInt16BE(0)));
        }
      });
    },
  );
}
