import { createSocket, type Socket } from "node:dgram";
import { createServer, type Server } from "node:net";

/** Bound sockets for a DNS responder: a UDP socket and a listening TCP server on one address. */
export interface SocketBinder {
  udp(address: string, port: number): Promise<Socket>;
  tcp(address: string, port: number): Promise<Server>;
  close?(): void;
}

/** Binds in this process's own network namespace (the lab host's, where the executor runs). */
export const localSockets: SocketBinder = {
  udp: (address, port) => bindUdp(address, port),
  tcp: (address, port) => listenTcp(address, port),
};

export function bindUdp(address: string, port: number): Promise<Socket> {
  const udp = createSocket("udp4");
  return new Promise((resolve, reject) => {
    udp.once("error", (error) => {
      udp.close();
      reject(error);
    });
    udp.bind({ address, port, exclusive: true }, () => {
      udp.removeAllListeners("error");
      resolve(udp);
    });
  });
}

export function listenTcp(address: string, port: number): Promise<Server> {
  const tcp = createServer();
  return new Promise((resolve, reject) => {
    tcp.once("error", (error) => {
      tcp.close();
      reject(error);
    });
    tcp.listen({ host: address, port, exclusive: true }, () => {
      tcp.removeAllListeners("error");
      resolve(tcp);
    });
  });
}
