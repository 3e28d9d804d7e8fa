import type { Socket } from "node:dgram";
import type { Server, Socket as TcpSocket } from "node:net";
import type { Logger } from "@labnet/log";
import { type DnsForwarder, handleDnsMessage } from "./handle-query";
import { localSockets, type SocketBinder } from "./sockets";
import { type DnsZone, emptyZone, listenAddressesOf } from "./zone";

const DNS_PORT = 53;
/** A TCP client that sends nothing for this long is dropped. */
const TCP_IDLE_MS = 10_000;
/** Largest DNS message over TCP (the length prefix is 16 bits). */
const TCP_MAX_BUFFER = 2 + 65_535;

/** Labnet's DNS responder of one host: UDP and TCP port 53 on each gateway of a network with names. */
export interface DnsResponder {
  /**
   * Swaps in `zone` and makes the listening sockets match its gateways: new gateways are
   * bound, vanished ones closed. A gateway that cannot be bound (address not there yet,
   * port taken by another program) is logged and tried again on the next update.
   */
  update(zone: DnsZone): Promise<void>;
  /** Addresses currently listened on, sorted. */
  listening(): string[];
  close(): Promise<void>;
}

interface Listener {
  udp: Socket;
  tcp: Server;
  connections: Set<TcpSocket>;
}

/**
 * Starts a responder with no names (it listens nowhere until the first `update`).
 * The executor runs in the host's namespace, so the gateways are local addresses; the
 * address a query arrives on tells which network asked.
 */
export function createDnsResponder(options: {
  log: Logger;
  forward: DnsForwarder;
  port?: number;
  /** Where the sockets come from: this process's namespace unless given (netns-sockets.ts). */
  sockets?: SocketBinder;
}): DnsResponder {
  const port = options.port ?? DNS_PORT;
  const sockets = options.sockets ?? localSockets;
  const listeners = new Map<string, Listener>();
  let zone = emptyZone();
  let closed = false;

  async function open(address: string): Promise<Listener> {
    const connections = new Set<TcpSocket>();
    const udp = await sockets.udp(address, port);
    udp.on("message", (message, from) => {
      handleDnsMessage(
        zone,
        message,
        { localAddress: address, sourceAddress: from.address, transport: "udp" },
        options.forward,
      )
        .then((reply) => {
          if (reply !== undefined && listeners.get(address)?.udp === udp) {
            udp.send(reply, from.port, from.address);
          }
        })
        .catch((error) => options.log.warn("dns query failed", { address, error: String(error) }));
    });
    udp.on("error", (error) => options.log.warn("dns socket error", { address, error: String(error) }));
    let tcp: Server;
    try {
      tcp = await sockets.tcp(address, port);
    } catch (error) {
      udp.close();
      throw error;
    }
    tcp.on("connection", (connection: TcpSocket) => serveTcp(connection, address, connections));
    return { udp, tcp, connections };
  }

  function serveTcp(connection: TcpSocket, address: string, connections: Set<TcpSocket>): void {
    connections.add(connection);
    connection.on("close", () => connections.delete(connection));
    connection.on("error", () => connection.destroy());
    connection.setTimeout(TCP_IDLE_MS, () => connection.destroy());
    let buffered = Buffer.alloc(0);
    connection.on("data", (chunk) => {
      buffered = Buffer.concat([buffered, chunk]);
      if (buffered.length > TCP_MAX_BUFFER) {
        connection.destroy();
        return;
      }
      while (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
        const message = buffered.subarray(2, 2 + buffered.readUInt16BE(0));
        buffered = buffered.subarray(2 + message.length);
        const context = {
          localAddress: address,
          sourceAddress: connection.remoteAddress ?? "",
          transport: "tcp" as const,
        };
        handleDnsMessage(zone, message, context, options.forward)
          .then((reply) => {
            if (reply !== undefined && !connection.destroyed) {
              const length = Buffer.alloc(2);
              length.writeUInt16BE(reply.length);
              connection.write(Buffer.concat([length, reply]));
            }
          })
          .catch((error) => options.log.warn("dns query failed", { address, error: String(error) }));
      }
    });
  }

  function closeListener(listener: Listener): void {
    try {
      listener.udp.close();
    } catch {
      // Never bound, or already closed.
    }
    listener.tcp.close();
    for (const connection of listener.connections) {
      connection.destroy();
    }
  }

  return {
    async update(next) {
      if (closed) {
        return;
      }
      zone = next;
      const wanted = new Set(listenAddressesOf(next));
      for (const [address, listener] of listeners) {
        if (!wanted.has(address)) {
          listeners.delete(address);
          closeListener(listener);
        }
      }
      for (const address of wanted) {
        if (listeners.has(address)) {
          continue;
        }
        try {
          const listener = await open(address);
          if (closed) {
            closeListener(listener);
            return;
          }
          listeners.set(address, listener);
        } catch (error) {
          options.log.warn("dns responder cannot listen", { address, port, error: String(error) });
        }
      }
    },
    listening: () => [...listeners.keys()].sort(),
    async close() {
      closed = true;
      sockets.close?.();
      for (const listener of listeners.values()) {
        closeListener(listener);
      }
      listeners.clear();
    },
  };
}
