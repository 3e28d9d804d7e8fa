/**
 * DNS wire format for the responder (RFC 1035), on `dns-packet`: parsing one query and
 * encoding Labnet's own answers. Forwarded answers are relayed byte for byte.
 */
import {
  type Answer,
  AUTHORITATIVE_ANSWER,
  type DecodedPacket,
  decode,
  encode,
  type Question,
  RECURSION_AVAILABLE,
  RECURSION_DESIRED,
} from "dns-packet";
import type { DnsDecision } from "./zone";

/** Response codes Labnet sends (the low four bits of the flags). */
export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;
export type Rcode = (typeof RCODE)[keyof typeof RCODE];

/**
 * Answers carry TTL 0: names follow connects and disconnects at once, and nothing in a
 * node should hold on to an old address.
 */
const TTL = 0;

/** A query the responder can answer. */
export interface DnsQuery {
  id: number;
  recursionDesired: boolean;
  question: Question;
}

/** Either a query to answer, or what to send back at once (`reply` undefined: drop it). */
export type ParsedQuery = { ok: true; query: DnsQuery } | { ok: false; reply: Buffer | undefined };

/**
 * Parses a datagram or TCP message. Garbage is dropped; a readable header that is not one
 * standard query with one question gets FORMERR/NOTIMP/REFUSED.
 */
export function parseDnsQuery(message: Buffer): ParsedQuery {
  let packet: DecodedPacket & { opcode?: string };
  try {
    packet = decode(message);
  } catch {
    return { ok: false, reply: message.length >= 12 ? headerOnlyReply(message, RCODE.FORMERR) : undefined };
  }
  if (packet.type === "response") {
    return { ok: false, reply: undefined };
  }
  const id = packet.id ?? 0;
  const rd = packet.flag_rd;
  if (packet.opcode !== undefined && packet.opcode !== "QUERY") {
    return { ok: false, reply: encodeReply({ id, recursionDesired: rd }, [], RCODE.NOTIMP) };
  }
  const questions = packet.questions ?? [];
  const [question] = questions;
  if (question === undefined || questions.length !== 1) {
    return { ok: false, reply: encodeReply({ id, recursionDesired: rd }, questions, RCODE.FORMERR) };
  }
  if ((question.class ?? "IN") !== "IN") {
    return { ok: false, reply: encodeReply({ id, recursionDesired: rd }, questions, RCODE.REFUSED) };
  }
  return { ok: true, query: { id, recursionDesired: rd, question } };
}

/**
 * Encodes Labnet's own answer to `query`. `forward` decisions are not encoded here (they
 * are relayed); passing one answers SERVFAIL.
 */
export function encodeDecision(query: DnsQuery, decision: DnsDecision): Buffer {
  const { question } = query;
  switch (decision.kind) {
    case "addresses": {
      const answers: Answer[] = decision.addresses.map((address) => ({
        type: "A",
        class: "IN",
        name: question.name,
        ttl: TTL,
        data: address,
      }));
      return encodeReply(query, [question], RCODE.NOERROR, answers, true);
    }
    case "ptr":
      return encodeReply(
        query,
        [question],
        RCODE.NOERROR,
        [{ type: "PTR", class: "IN", name: question.name, ttl: TTL, data: decision.name }],
        true,
      );
    case "nxdomain":
      return encodeReply(query, [question], RCODE.NXDOMAIN, [], true);
    case "refused":
      return encodeReply(query, [question], RCODE.REFUSED);
    default:
      return encodeReply(query, [question], RCODE.SERVFAIL);
  }
}

/** A reply to `query` with no answers and `rcode` (SERVFAIL after a failed forward). */
export function encodeFailure(query: DnsQuery, rcode: Rcode): Buffer {
  return encodeReply(query, [query.question], rcode);
}

function encodeReply(
  query: { id: number; recursionDesired: boolean },
  questions: Question[],
  rcode: Rcode,
  answers: Answer[] = [],
  authoritative = false,
): Buffer {
  const flags =
    (authoritative ? AUTHORITATIVE_ANSWER : 0) |
    (query.recursionDesired ? RECURSION_DESIRED : 0) |
    RECURSION_AVAILABLE |
    rcode;
  return encode({ type: "response", id: query.id, flags, questions, answers });
}

/** The query's header turned into a reply header with `rcode` and no sections. */
function headerOnlyReply(message: Buffer, rcode: Rcode): Buffer {
  const reply = Buffer.alloc(12);
  message.copy(reply, 0, 0, 4);
  // QR=1, keep opcode and RD, RA=1, the rcode; all counts 0.
  const flags = ((message.readUInt16BE(2) & 0x7900) | 0x8000 | RECURSION_AVAILABLE | rcode) & 0xffff;
  reply.writeUInt16BE(flags, 2);
  return reply;
}
