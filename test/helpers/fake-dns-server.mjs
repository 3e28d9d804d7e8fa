// A fake upstream name server for e2e tests, run in a namespace the test made. Plain Node.
// Each `--listen ADDRESS=ANSWER` binds UDP and TCP port 53 on ADDRESS and answers A queries
// for names under `example.test` with ANSWER (so a test sees which server was asked), and
// NXDOMAIN for anything else. Prints `ready` once listening and `asked NAME TYPE` per query.
//
//   node fake-dns-server.mjs --listen 198.18.50.2=192.0.2.2 [--listen ...]
import { createSocket } from "node:dgram";
import { createServer } from "node:net";
import { parseArgs } from "node:util";
import { decode, encode } from "dns-packet";

const { values } = parseArgs({ options: { listen: { type: "string", multiple: true, default: [] } } });

function answer(message, address) {
  const query = decode(message);
  const [question] = query.questions ?? [];
  process.stdout.write(`asked ${question?.name} ${question?.type}\n`);
  const known = question !== undefined && /(^|\.)example\.test$/i.test(question.name);
  return encode({
    type: "response",
    id: query.id,
    flags: (1 << 8) | (1 << 7) | (known ? 0 : 3),
    questions: query.questions,
    answers:
      known && question.type === "A" ? [{ type: "A", name: question.name, ttl: 0, data: address }] : [],
  });
}

const pending = [];
for (const spec of values.listen) {
  const [listen, reply] = spec.split("=");
  const udp = createSocket("udp4");
  udp.on("message", (message, from) => udp.send(answer(message, reply), from.port, from.address));
  pending.push(new Promise((resolve) => udp.bind(53, listen, resolve)));
  const tcp = createServer((socket) => {
    let buffered = Buffer.alloc(0);
    socket.on("data", (chunk) => {
      buffered = Buffer.concat([buffered, chunk]);
      if (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
        const out = answer(buffered.subarray(2, 2 + buffered.readUInt16BE(0)), reply);
        const length = Buffer.alloc(2);
        length.writeUInt16BE(out.length);
        socket.end(Buffer.concat([length, out]));
      }
    });
  });
  pending.push(new Promise((resolve) => tcp.listen(53, listen, resolve)));
}
await Promise.all(pending);
process.stdout.write("ready\n");
