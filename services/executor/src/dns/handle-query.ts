import { encodeDecision, encodeFailure, parseDnsQuery, RCODE } from "./message";
import { type DnsZone, decideDnsAnswer } from "./zone";

export type DnsTransport = "udp" | "tcp";

/**
 * Asks upstream `servers` in turn with the raw `query`; resolves to the first reply, or
 * undefined when none answered in time.
 */
export type DnsForwarder = (
  query: Buffer,
  servers: string[],
  transport: DnsTransport,
) => Promise<Buffer | undefined>;

export interface QueryContext {
  /** The gateway address the query arrived on. */
  localAddress: string;
  sourceAddress: string;
  transport: DnsTransport;
}

/**
 * The responder's answer to one message: Labnet's own names from `zone`, anything else
 * relayed from upstream (SERVFAIL when upstream is silent). Undefined: send nothing.
 */
export async function handleDnsMessage(
  zone: DnsZone,
  message: Buffer,
  context: QueryContext,
  forward: DnsForwarder,
): Promise<Buffer | undefined> {
  const parsed = parseDnsQuery(message);
  if (!parsed.ok) {
    return parsed.reply;
  }
  const { query } = parsed;
  const decision = decideDnsAnswer(zone, {
    localAddress: context.localAddress,
    sourceAddress: context.sourceAddress,
    name: query.question.name,
    type: String(query.question.type),
  });
  if (decision.kind !== "forward") {
    return encodeDecision(query, decision);
  }
  const reply = await forward(message, decision.servers, context.transport);
  return reply ?? encodeFailure(query, RCODE.SERVFAIL);
}
