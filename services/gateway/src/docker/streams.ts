/**
 * The byte streams of attach and exec: dockerd's multiplexed framing (8-byte header: stream 1 for
 * stdout, 2 for stderr, three zero bytes, the payload length big-endian) unless the client asked
 * for a TTY, which gets the bytes raw. A route answers such a stream with HIJACK_HEADER set; the
 * HTTP server upgrades the connection for it (upgrade.ts). Pure.
 */

export const MULTIPLEXED_STREAM = "application/vnd.docker.multiplexed-stream";
export const RAW_STREAM = "application/vnd.docker.raw-stream";

/** Set on a route's answer that is the body of a hijacked (`101 UPGRADED`) connection. */
export const HIJACK_HEADER = "x-labnet-hijack";

const encoder = new TextEncoder();

/** One chunk as it goes on the wire. */
export function frame(stream: "stdout" | "stderr", data: string, tty: boolean): Uint8Array {
  const payload = encoder.encode(data);
  if (tty) {
    return payload;
  }
  const framed = new Uint8Array(8 + payload.length);
  framed[0] = stream === "stdout" ? 1 : 2;
  new DataView(framed.buffer).setUint32(4, payload.length);
  framed.set(payload, 8);
  return framed;
}

/** Headers of a hijacked answer in the client's framing. */
export function hijackHeaders(tty: boolean): Record<string, string> {
  return { "content-type": tty ? RAW_STREAM : MULTIPLEXED_STREAM, [HIJACK_HEADER]: "tcp" };
}
