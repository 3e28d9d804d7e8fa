import { decode, encode, type Packet } from "dns-packet";
import { describe, expect, it } from "vitest";
import { type DnsForwarder, handleDnsMessage } from "./handle-query";
import { buildDnsZone } from "./zone";

const zone = buildDnsZone(
  {
    networks: [
      { networkId: "net_app", name: "app", gateways: ["172.19.0.1"], subnets: ["172.19.0.0/16"], dns: true },
    ],
    nodes: [
      {
        nodeId: "nod_w",
        name: "web_container",
        netns: "ln-w",
        hostname: undefined,
        dns: { servers: [], search: [], options: [] },
        extraHosts: {},
        endpoints: [{ networkId: "net_app", address: "172.19.0.3", gateway: "172.19.0.1", aliases: [] }],
      },
    ],
  },
  { nameservers: ["10.0.0.2"], search: [], options: [] },
);
const context = { localAddress: "172.19.0.1", sourceAddress: "172.19.0.2", transport: "udp" as const };

function query(name: string, type: "A" | "AAAA" | "PTR" | "MX" = "A", extra: Partial<Packet> = {}): Buffer {
  return encode({
    type: "query",
    id: 4242,
    flags: 1 << 8,
    questions: [{ type, class: "IN", name }],
    ...extra,
  });
}

const silent: DnsForwarder = async () => undefined;

async function answer(message: Buffer, forward: DnsForwarder = silent) {
  const reply = await handleDnsMessage(zone, message, context, forward);
  if (reply === undefined) {
    return undefined;
  }
  const packet = decode(reply) as ReturnType<typeof decode> & { rcode: string };
  return {
    id: packet.id,
    rcode: packet.rcode,
    aa: packet.flag_aa,
    rd: packet.flag_rd,
    ra: packet.flag_ra,
    questions: packet.questions?.map((q) => `${q.name} ${q.type}`),
    answers: packet.answers?.map((a) =>
      a.type === "OPT" ? "OPT" : `${a.name} ${a.type} ${a.ttl} ${String(a.data)}`,
    ),
  };
}

describe("handleDnsMessage", () => {
  const cases: { name: string; given: Buffer; want: Awaited<ReturnType<typeof answer>> }[] = [
    {
      name: "A of name.network",
      given: query("web_container.app"),
      want: {
        id: 4242,
        rcode: "NOERROR",
        aa: true,
        rd: true,
        ra: true,
        questions: ["web_container.app A"],
        answers: ["web_container.app A 0 172.19.0.3"],
      },
    },
    {
      name: "AAAA of a known name: NOERROR without records",
      given: query("web_container", "AAAA"),
      want: {
        id: 4242,
        rcode: "NOERROR",
        aa: true,
        rd: true,
        ra: true,
        questions: ["web_container AAAA"],
        answers: [],
      },
    },
    {
      name: "PTR",
      given: query("3.0.19.172.in-addr.arpa", "PTR"),
      want: {
        id: 4242,
        rcode: "NOERROR",
        aa: true,
        rd: true,
        ra: true,
        questions: ["3.0.19.172.in-addr.arpa PTR"],
        answers: ["3.0.19.172.in-addr.arpa PTR 0 web_container.app"],
      },
    },
    {
      name: "unknown plain name: NXDOMAIN",
      given: query("nobody"),
      want: {
        id: 4242,
        rcode: "NXDOMAIN",
        aa: true,
        rd: true,
        ra: true,
        questions: ["nobody A"],
        answers: [],
      },
    },
    {
      name: "upstream silent: SERVFAIL",
      given: query("example.org"),
      want: {
        id: 4242,
        rcode: "SERVFAIL",
        aa: false,
        rd: true,
        ra: true,
        questions: ["example.org A"],
        answers: [],
      },
    },
    {
      name: "two questions: FORMERR",
      given: encode({
        type: "query",
        id: 7,
        questions: [
          { type: "A", name: "a" },
          { type: "A", name: "b" },
        ],
      }),
      want: {
        id: 7,
        rcode: "FORMERR",
        aa: false,
        rd: false,
        ra: true,
        questions: ["a A", "b A"],
        answers: [],
      },
    },
    {
      name: "truncated garbage with a header: FORMERR from the header",
      given: Buffer.from([0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0xff]),
      want: { id: 0x1234, rcode: "FORMERR", aa: false, rd: true, ra: true, questions: [], answers: [] },
    },
  ];
  it.each(cases)("$name", async ({ given, want }) => {
    expect(await answer(given)).toEqual(want);
  });

  it("refuses an asker from outside the network", async () => {
    const reply = await handleDnsMessage(
      zone,
      query("web_container"),
      { ...context, sourceAddress: "10.9.9.9" },
      silent,
    );
    expect(reply && (decode(reply) as ReturnType<typeof decode> & { rcode: string }).rcode).toBe("REFUSED");
  });

  it("drops what is not a query", async () => {
    expect(await answer(Buffer.from([1, 2, 3]))).toBeUndefined();
    expect(await answer(encode({ type: "response", id: 1, questions: [] }))).toBeUndefined();
  });

  it("relays the upstream reply byte for byte, asking the right servers", async () => {
    const asked: string[][] = [];
    const upstream = encode({
      type: "response",
      id: 4242,
      flags: 1 << 7,
      questions: [{ type: "A", name: "example.org" }],
      answers: [{ type: "A", name: "example.org", ttl: 60, data: "192.0.2.80" }],
    });
    const message = query("example.org");
    const reply = await handleDnsMessage(zone, message, context, async (q, servers, transport) => {
      expect(q).toBe(message);
      expect(transport).toBe("udp");
      asked.push(servers);
      return upstream;
    });
    expect(reply).toBe(upstream);
    expect(asked).toEqual([["10.0.0.2"]]);
  });
});
