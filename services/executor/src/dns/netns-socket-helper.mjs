// Runs inside a virtual machine's network namespace (`nsenter --net=<machine> -- node this`),
// started by the executor with an IPC channel (netns-sockets.ts): binds each socket asked for
// there and hands it over, so the executor serves a machine's DNS from its own process. Plain
// JavaScript, so it starts without a TypeScript loader; leaves once idle.
import { createSocket } from "node:dgram";
import { createServer } from "node:net";

const IDLE_MS = 2_000;
let idle = setTimeout(() => process.exit(0), IDLE_MS);

process.on("message", (request) => {
  clearTimeout(idle);
  idle = setTimeout(() => process.exit(0), IDLE_MS);
  const { id, kind, address, port } = request;
  const fail = (error) => process.send({ id, error: error.message });
  if (kind === "udp") {
    const socket = createSocket("udp4");
    socket.once("error", fail);
    socket.bind({ address, port, exclusive: true }, () => process.send({ id }, socket, () => socket.close()));
  } else if (kind === "tcp") {
    const server = createServer();
    server.once("error", fail);
    server.listen({ host: address, port, exclusive: true }, () =>
      process.send({ id }, server, () => server.close()),
    );
  } else {
    fail(new Error(`unknown socket kind ${JSON.stringify(kind)}`));
  }
});
process.on("disconnect", () => process.exit(0));
