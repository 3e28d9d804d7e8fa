import { describe, expect, it } from "vitest";
import { inspectKernel } from "./inspect";
import { createRecordingRunner, KernelCommandError } from "./runner";

const ANSWERS = {
  "ip -j -d addr show": {
    stdout:
      '[{"ifindex":2,"ifname":"lnbr-abcdefgh","flags":["UP"],"mtu":1500,"operstate":"UP","address":"02:42:00:00:00:01","linkinfo":{"info_kind":"bridge","info_data":{"stp_state":0,"bridge_id":"8000.2:42:0:0:0:1"}},"addr_info":[{"family":"inet","local":"172.18.0.1","prefixlen":16,"scope":"global"}]},' +
      '{"ifindex":3,"ifname":"lnvabcdefghij","flags":["UP"],"mtu":1500,"master":"lnbr-abcdefgh","operstate":"UP","address":"02:42:00:00:00:02","linkinfo":{"info_kind":"veth","info_slave_kind":"bridge"}}]\n',
  },
  "ip -j route show": {
    stdout:
      '[{"dst":"172.18.0.0/16","dev":"lnbr-abcdefgh","protocol":"kernel","scope":"link","prefsrc":"172.18.0.1","flags":[]}]\n',
  },
  "bridge -j link show": {
    stdout: '[{"ifindex":3,"ifname":"lnvabcdefghij","master":"lnbr-abcdefgh","state":"forwarding"}]\n',
  },
  "bridge -j fdb show": { stdout: "[]\n" },
  "iptables-save": {
    stdout:
      "*nat\n:POSTROUTING ACCEPT [0:0]\n:LABNET-POSTROUTING - [0:0]\n-A POSTROUTING -j LABNET-POSTROUTING\n-A LABNET-POSTROUTING -s 172.18.0.0/16 ! -o lnbr-abcdefgh -j MASQUERADE\nCOMMIT\n",
  },
  "ip -4 -j netconf show": { stdout: '[{"family":"inet","interface":"all","forwarding":true}]\n' },
};

describe("inspectKernel", () => {
  it("runs the read-only commands through the runner and parses them", async () => {
    const runner = createRecordingRunner(ANSWERS);
    const view = await inspectKernel(runner);
    expect(runner.calls.map((c) => c.argv.join(" ")).sort()).toEqual(Object.keys(ANSWERS).sort());
    expect(runner.calls.every((c) => c.stdin === undefined)).toBe(true);
    expect(view.bridges).toEqual([
      {
        name: "lnbr-abcdefgh",
        id: "8000.2:42:0:0:0:1",
        stp: false,
        ports: [{ name: "lnvabcdefghij", state: "forwarding" }],
      },
    ]);
    expect(view.routes[0]).toMatchObject({ dst: "172.18.0.0/16", dev: "lnbr-abcdefgh" });
    expect(view.iptables.nat).toContain("-j MASQUERADE");
    expect(view.sysctls.ipForward).toBe(true);
  });

  it("fails with the command that failed", async () => {
    const runner = createRecordingRunner((call) =>
      call.argv[0] === "iptables-save"
        ? { code: 4, stderr: "iptables-save: permission denied" }
        : ANSWERS[call.argv.join(" ") as keyof typeof ANSWERS],
    );
    await expect(inspectKernel(runner)).rejects.toThrow(KernelCommandError);
    await expect(inspectKernel(runner)).rejects.toThrow(/iptables-save exited with 4/);
  });
});
