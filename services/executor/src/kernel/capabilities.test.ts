import { describe, expect, it } from "vitest";
import { detectCapabilities } from "./capabilities";
import { createRecordingRunner } from "./runner";

// What this lab host's kernel answers (DESIGN §4): no dummy, vlan or ipvlan.
const UNSUPPORTED = new Set(["dummy", "vlan", "ipvlan"]);

/** Addresses of the host's links, as `ip -j -d addr show` prints them (IPv6 is left out). */
const ADDRESSES: Record<string, [string, number][]> = {
  lo: [["127.0.0.1", 8]],
  uplink0: [["198.18.3.1", 24]],
  "lnbr-abcdefgh": [["172.18.0.1", 16]],
  "br-web": [["172.19.0.1", 16]],
  docker0: [["172.17.0.1", 16]],
};

/** br-web is a bridge Labnet built under a chosen name (its alias says so); docker0 is not Labnet's. */
const ALIASES: Record<string, string> = { "br-web": "labnet" };

/** The host's links as `ip -j -d addr show` prints them: lo, NICs, a foreign bridge and Labnet's own. */
const HOST_LINKS = JSON.stringify(
  ["lo", "eth0", "lnbr-abcdefgh", "lnvabcdefghij", "uplink0", "lnsabcdefghij", "br-web", "docker0"].map(
    (ifname, i) => ({
      ifindex: i + 1,
      ifname,
      ...(ALIASES[ifname] ? { ifalias: ALIASES[ifname] } : {}),
      ...(ifname.includes("br") || ifname === "docker0" ? { linkinfo: { info_kind: "bridge" } } : {}),
      flags: ["UP"],
      mtu: 1500,
      address: "aa:bb:cc:00:00:01",
      addr_info: [
        ...(ADDRESSES[ifname] ?? []).map(([local, prefixlen]) => ({ family: "inet", local, prefixlen })),
        { family: "inet6", local: "fe80::1", prefixlen: 64 },
      ],
    }),
  ),
);

function kernelLike(options: { iptables: boolean }) {
  return createRecordingRunner((call) => {
    if (call.argv.join(" ") === "ip -j -d addr show") {
      return { stdout: HOST_LINKS };
    }
    const type = call.argv[call.argv.indexOf("type") + 1];
    if (call.argv.includes("link") && type !== undefined && UNSUPPORTED.has(type)) {
      return { code: 2, stderr: "Error: Unknown device type.\n" };
    }
    if (call.argv.includes("iptables-restore") && !options.iptables) {
      return { code: 1, stderr: "iptables-restore: line 4 failed\n" };
    }
    return undefined;
  });
}

describe("detectCapabilities", () => {
  it("reports what the kernel created and derives drivers", async () => {
    const runner = kernelLike({ iptables: true });
    expect(await detectCapabilities(runner, { netnsPrefix: "lt4f2ah1-" })).toEqual({
      linkTypes: ["bridge", "veth", "macvlan", "vxlan"],
      drivers: ["bridge", "macvlan", "overlay"],
      iptables: true,
      // What a macvlan network may use as its parent: not lo, not Labnet's links.
      interfaces: ["docker0", "eth0", "uplink0"],
      // What no bridge of the host may overlap: the addresses of those.
      addresses: [
        { interface: "docker0", address: "172.17.0.1/16" },
        { interface: "uplink0", address: "198.18.3.1/24" },
      ],
    });
    // The host's links are only read; everything else runs in the throwaway namespace.
    const [list, add] = runner.calls;
    expect(list?.argv).toEqual(["ip", "-j", "-d", "addr", "show"]);
    const netns = add?.argv[3] ?? "";
    expect(netns).toMatch(/^lt4f2ah1-probe-[0-9a-f]{10}$/);
    expect(add?.argv).toEqual(["ip", "netns", "add", netns]);
    expect(runner.calls.at(-1)?.argv).toEqual(["ip", "netns", "del", netns]);
    // Every probe runs inside the throwaway namespace, never on the host.
    for (const call of runner.calls.slice(2, -1)) {
      expect(call.argv.join(" ")).toMatch(
        new RegExp(`^ip -n ${netns} |^nsenter --net=/run/netns/${netns} -- `),
      );
    }
  });

  it("reports no interface list when the host's links cannot be read (any parent is accepted)", async () => {
    const runner = createRecordingRunner((call) =>
      call.argv.join(" ") === "ip -j -d addr show" ? { code: 1, stderr: "boom\n" } : undefined,
    );
    const capabilities = await detectCapabilities(runner, { netnsPrefix: "ln-" });
    expect(capabilities).not.toHaveProperty("interfaces");
    expect(capabilities).not.toHaveProperty("addresses");
  });

  it("reports iptables as unusable when the probe payload fails", async () => {
    const capabilities = await detectCapabilities(kernelLike({ iptables: false }), { netnsPrefix: "ln-" });
    expect(capabilities.iptables).toBe(false);
  });

  it("deletes the throwaway namespace when a probe throws", async () => {
    const runner = createRecordingRunner((call) => {
      if (call.argv[0] === "nsenter") {
        throw new Error("spawn failed");
      }
      return undefined;
    });
    // A spawn failure of iptables-restore is "not available", not an error.
    await expect(detectCapabilities(runner, { netnsPrefix: "ln-" })).resolves.toMatchObject({
      iptables: false,
    });

    const failing = createRecordingRunner((call) => {
      if (call.argv.includes("pbr0")) {
        throw new Error("runner broke");
      }
      return undefined;
    });
    await expect(detectCapabilities(failing, { netnsPrefix: "ln-" })).rejects.toThrow(/runner broke/);
    expect(failing.calls.at(-1)?.argv.slice(0, 3)).toEqual(["ip", "netns", "del"]);
  });
});
