// A tiny TCP/UDP peer for e2e tests. Plain Node, no dependencies, so it starts fast inside any
// namespace. It answers every TCP connection and UDP datagram with one JSON line naming the
// source it saw, which is how tests prove MASQUERADE and DNAT.
//
//   node peer.mjs serve [--host 0.0.0.0] [--tcp PORT] [--udp PORT] [--name NAME]
//     prints `ready` once listening; replies {"protocol","address","port","data"} (and "name",
//     to tell which of several peers behind one address answered)
//   node peer.mjs call tcp|udp ADDRESS PORT [--timeout MS] [--data TEXT]
//     prints the reply line and exits 0; exits 1 on error or timeout
import { createSocket } from "node:dgram";
import { createConnection, createServer } from "node:net";
import { parseArgs } from "node:util";

const [mode, ...rest] = process.argv.slice(2);

if (mode === "serve") {
  const { values } = parseArgs({
    args: rest,
    options: {
      host: { type: "string", default: "0.0.0.0" },
      tcp: { type: "string" },
      udp: { type: "string" },
      name: { type: "string" },
    },
  });
  const named = values.name === undefined ? {} : { name: values.name };
  const pending = [];
  if (values.tcp) {
    const server = createServer((socket) => {
      let data = "";
      const reply = () => {
        if (!socket.writable) {
          return;
        }
        const line = JSON.stringify({
          protocol: "tcp",
          address: plain(socket.remoteAddress),
          port: socket.remotePort,
          data,
          ...named,
        });
        socket.end(`${line}\n`);
      };
      socket.setEncoding("utf8");
      socket.on("data", (chunk) => {
        data += chunk;
        if (data.includes("\n")) {
          reply();
        }
      });
      // Clients that send nothing get their answer after a short wait.
      setTimeout(reply, 100);
      socket.on("error", () => {});
    });
    pending.push(new Promise((resolve) => server.listen(Number(values.tcp), values.host, resolve)));
  }
  if (values.udp) {
    const udp = createSocket("udp4");
    udp.on("message", (message, rinfo) => {
      const line = JSON.stringify({
        protocol: "udp",
        address: rinfo.address,
        port: rinfo.port,
        data: message.toString(),
        ...named,
      });
      udp.send(`${line}\n`, rinfo.port, rinfo.address);
    });
    pending.push(new Promise((resolve) => udp.bind(Number(values.udp), values.host, resolve)));
  }
  await Promise.all(pending);
  process.stdout.write("ready\n");
  process.on("SIGTERM", () => process.exit(0));
} else if (mode === "call") {
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: { timeout: { type: "string", default: "3000" }, data: { type: "string", default: "" } },
  });
  const [protocol, address, port] = positionals;
  const timer = setTimeout(() => {
    process.stderr.write(`no reply from ${address}:${port}/${protocol}\n`);
    process.exit(1);
  }, Number(values.timeout));
  const done = (line) => {
    clearTimeout(timer);
    process.stdout.write(`${line.trim()}\n`);
    process.exit(0);
  };
  const fail = (error) => {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  };
  if (protocol === "tcp") {
    let reply = "";
    const socket = createConnection({ host: address, port: Number(port) }, () => {
      if (values.data) {
        socket.write(`${values.data}\n`);
      }
    });
    socket.setEncoding("utf8");
    socket.on("data", (chunk) => {
      reply += chunk;
      if (reply.includes("\n")) {
        done(reply);
      }
    });
    socket.on("error", fail);
  } else if (protocol === "udp") {
    const socket = createSocket("udp4");
    socket.on("message", (message) => done(message.toString()));
    socket.on("error", fail);
    socket.send(values.data || "hello", Number(port), address);
  } else {
    fail(new Error(`unknown protocol ${protocol}`));
  }
} else {
  process.stderr.write("usage: peer.mjs serve [--host H] [--tcp P] [--udp P] | call tcp|udp ADDRESS PORT\n");
  process.exit(2);
}

function plain(address) {
  return address?.startsWith("::ffff:") ? address.slice(7) : address;
}
