import path from "node:path";
import { fileURLToPath } from "node:url";
import { netnsPath } from "@labnet/devstack";
import { startTestProcess, type TestProcess } from "./processes";

/**
 * The fake upstream name server script (plain Node; see its header). Not named like this
 * module: Vite resolves `./dns-upstream` to a `.mjs` of that name before the `.ts`.
 */
export const DNS_UPSTREAM_SCRIPT = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  "fake-dns-server.mjs",
);

/**
 * Starts a fake upstream name server in `netns` (a namespace the test made): on each
 * `address`, A queries for names under `example.test` get `answers[address]`, anything else
 * NXDOMAIN. Its output has a line `asked <name> <type>` per query.
 */
export async function startDnsUpstream(netns: string, answers: Record<string, string>): Promise<TestProcess> {
  const argv = ["nsenter", `--net=${netnsPath(netns)}`, "--", process.execPath, DNS_UPSTREAM_SCRIPT];
  for (const [address, answer] of Object.entries(answers)) {
    argv.push("--listen", `${address}=${answer}`);
  }
  const upstream = startTestProcess(`dns-upstream-${netns}`, argv);
  await upstream.waitForOutput(/^ready$/, 10_000);
  return upstream;
}
