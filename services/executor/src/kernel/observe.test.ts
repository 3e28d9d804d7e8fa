import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SANDBOX_OBSERVE_BATCH } from "@labnet/netplan";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { observeHost } from "./observe";
import { createRecordingRunner } from "./runner";

const PREFIX = "lt4f2ah1-";
const NS1 = `${PREFIX}sandboxoneaaaaa`;
const NS2 = `${PREFIX}sandboxtwoaaaaa`;
const HOST_ADDR =
  '[{"ifindex":1,"ifname":"lo","flags":["LOOPBACK","UP"],"mtu":65536,"address":"00:00:00:00:00:00","addr_info":[]}]';
const SANDBOX_BATCH =
  '[{"ifindex":1,"ifname":"lo","flags":["LOOPBACK","UP"],"mtu":65536,"address":"00:00:00:00:00:00","addr_info":[]}]\n' +
  '[{"dst":"default","gateway":"172.30.0.1","dev":"eth0","flags":[]}]\n';

let netnsDir = "";

beforeAll(async () => {
  netnsDir = await mkdtemp(join(tmpdir(), "labnet-observe-"));
  for (const name of [NS1, NS2, "foreign", "ln-aaaaaaaaaaaaaaaa"]) {
    await writeFile(join(netnsDir, name), "");
  }
});

afterAll(async () => {
  await rm(netnsDir, { recursive: true, force: true });
});

describe("observeHost", () => {
  it("lists own namespaces, host links, rules, and the requested sandboxes that exist", async () => {
    const runner = createRecordingRunner((call) => {
      if (call.argv.join(" ") === "ip -j -d addr show") {
        return { stdout: HOST_ADDR };
      }
      if (call.argv[0] === "iptables-save") {
        return { stdout: "*nat\nCOMMIT\n" };
      }
      return call.argv[0] === "nsenter" ? { stdout: SANDBOX_BATCH } : undefined;
    });
    const observed = await observeHost(runner, {
      netnsPrefix: PREFIX,
      sandboxes: [NS1, `${PREFIX}notcreatedyetaa`],
      netnsDir,
    });
    expect(observed).toEqual({
      netns: [NS1, NS2],
      links: [{ name: "lo", up: true, mtu: 65536, mac: "00:00:00:00:00:00", addresses: [], index: 1 }],
      iptablesSave: "*nat\nCOMMIT\n",
      sandboxes: {
        [NS1]: {
          links: [{ name: "lo", up: true, mtu: 65536, mac: "00:00:00:00:00:00", addresses: [], index: 1 }],
          defaultGateway: "172.30.0.1",
        },
      },
      unobservable: new Map(),
    });
    expect(runner.calls.filter((c) => c.argv[0] === "nsenter")).toEqual([
      {
        argv: ["nsenter", `--net=/run/netns/${NS1}`, "--", "ip", "-j", "-d", "-batch", "-"],
        stdin: SANDBOX_OBSERVE_BATCH,
      },
    ]);
  });

  it("treats a sandbox deleted while observing as absent", async () => {
    const runner = createRecordingRunner((call) => {
      if (call.argv[0] === "nsenter") {
        return { code: 255, stderr: `Cannot open network namespace "${NS2}": No such file or directory\n` };
      }
      return call.argv[0] === "ip" ? { stdout: "[]" } : undefined;
    });
    const observed = await observeHost(runner, { netnsPrefix: PREFIX, sandboxes: [NS2], netnsDir });
    expect(observed.netns).toEqual([NS1]);
    expect(observed.sandboxes).toEqual({});
  });

  it("reports a sandbox it cannot enter as unobservable, and goes on", async () => {
    const runner = createRecordingRunner((call) => {
      if (call.argv[0] === "nsenter") {
        return { code: 1, stderr: "nsenter: reassociate to namespace 'ns/net' failed: Invalid argument\n" };
      }
      return call.argv[0] === "ip" ? { stdout: "[]" } : undefined;
    });
    const observed = await observeHost(runner, { netnsPrefix: PREFIX, sandboxes: [NS1, NS2], netnsDir });
    expect(observed.sandboxes).toEqual({});
    expect([...observed.unobservable.keys()].sort()).toEqual([NS1, NS2]);
    expect(observed.unobservable.get(NS1)).toContain("Invalid argument");
  });

  it("looks only at the host links it is given, in one batch, and skips the ones that are gone", async () => {
    const bridge =
      '[{"ifindex":2,"ifname":"lnbr-abcdefgh","flags":["UP"],"mtu":1500,"address":"02:42:ac:1e:00:01","linkinfo":{"info_kind":"bridge"},"addr_info":[]}]';
    const runner = createRecordingRunner((call) =>
      call.argv.includes("-force")
        ? {
            code: 1,
            stdout: `${bridge}\n`,
            stderr: 'Device "lnvabcdefghij" does not exist.\nCommand failed -:2\n',
          }
        : undefined,
    );
    const observed = await observeHost(runner, {
      netnsPrefix: PREFIX,
      sandboxes: [],
      netnsDir,
      // A chosen bridge name may be any interface name; one that is none is never asked for.
      hostLinks: ["lnbr-abcdefgh", "lnvabcdefghij", "docker0", "a b", "lnbr-abcdefgh"],
      knownIptablesSave: "*nat\nCOMMIT\n",
    });
    expect(observed.links.map((l) => l.name)).toEqual(["lnbr-abcdefgh"]);
    expect(observed.iptablesSave).toBe("*nat\nCOMMIT\n");
    // Only Labnet names, once each; no full listing, no iptables-save.
    expect(runner.calls).toEqual([
      {
        argv: ["ip", "-force", "-j", "-d", "-batch", "-"],
        stdin: "addr show dev lnbr-abcdefgh\naddr show dev lnvabcdefghij\naddr show dev docker0\n",
      },
    ]);
  });

  it("tolerates a machine without /run/netns", async () => {
    const runner = createRecordingRunner({ "ip -j -d addr show": { stdout: "[]" } });
    const observed = await observeHost(runner, {
      netnsPrefix: PREFIX,
      sandboxes: [],
      netnsDir: join(netnsDir, "none"),
    });
    expect(observed.netns).toEqual([]);
  });

  it.each([["ln-aaaaaaaaaaaaaaaa"], ["-n"], [`${PREFIX}a b`]])("refuses to observe %j", async (name) => {
    await expect(
      observeHost(createRecordingRunner(), { netnsPrefix: PREFIX, sandboxes: [name], netnsDir }),
    ).rejects.toThrow(/refusing/);
  });

  it("fails on a host command error", async () => {
    const runner = createRecordingRunner({
      "ip -j -d addr show": { stdout: "[]" },
      "iptables-save": { code: 1, stderr: "iptables-save: boom" },
    });
    await expect(observeHost(runner, { netnsPrefix: PREFIX, sandboxes: [], netnsDir })).rejects.toThrow(
      /boom/,
    );
  });
});
