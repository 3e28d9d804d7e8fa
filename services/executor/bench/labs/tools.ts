/**
 * What an instance of `builtin:seed-001-ex2` is in the kernel, built for a class by batched
 * standard tools, the fastest standard way (`../kernel-tools.ts`), per student:
 *
 *   - a LAN bridge on the lab host (the bench's namespace) with its gateway address, and a
 *     virtual machine: a namespace whose `eth0` is a veth on that bridge, with an address and a
 *     default route via the gateway, ip_forward on inside;
 *   - inside the machine the default bridge `docker0` 172.17.0.1/16 and the user bridges `br-web`
 *     172.18.0.1/16 and `br-app` 172.19.0.1/16, and two node namespaces, web_container on web
 *     (172.18.0.2) and app_container on app (172.19.0.2), each with `eth0`, an address and a
 *     default route via its bridge;
 *   - in the machine's own iptables (one `iptables-restore --noflush`): MASQUERADE for the three
 *     subnets, DROP between every two of its bridges (Docker's isolation);
 *   - on the lab host, MASQUERADE for the LAN's subnet (one `iptables-restore` for the class, into
 *     the bench's own LBENCH-POSTROUTING chain).
 *
 * Processes: one `ip -batch -` on the lab host (every `netns add`, the LAN bridges, the machines'
 * veths), then per student, 8 students in flight as the executor runs its batches: one `ip
 * -batch -` in the machine (entered with `nsenter --net`), one `sysctl`, one `iptables-restore`,
 * one `ip -batch -` per node; then the host's rules. The solution (`docker network connect app
 * web_container`) is one batch in the machine (a third veth on `br-app`) and one in web_container
 * (`eth1` 172.19.0.3) per student. The grading is one `ip netns exec <app_container> ping -n -c 1
 * -W 2 172.19.0.3` per student (Labnet's ICMP probe), as many at once as Labnet's probes.
 * Teardown: one `ip -batch -` of `netns del` and `link del` of the LAN bridges, the host's rules
 * emptied.
 *
 * Names carry no Labnet prefix (namespaces `<run>-<tag>-m<i>`, `-w<i>`, `-a<i>`; bridges
 * `<tag>lbr<i>`, veths `<tag>lv<i>`), so the executor running beside them neither owns nor prunes
 * any of it.
 */
import { runCommand } from "@labnet/devstack";
import { inOrigin, pingArgv } from "../../src/probes/argv";
import { PROBES_AT_ONCE } from "../../src/probes/run-probes";
import {
  addressLines,
  bridgeLines,
  type Endpoint,
  enter,
  ipBatch,
  type NetworkLayout,
  pings,
  restore,
  runTool,
  SANDBOX_BATCHES_IN_FLIGHT,
  sandboxLines,
} from "../kernel-tools";
import { inParallel } from "../provision/http";
import { emptyChains, masquerade } from "../provision/tools";

/** The machine's networks, as Docker (and the template) has them. */
const BRIDGE: NetworkLayout = { bridge: "docker0", subnet: "172.17.0.0/16", gateway: "172.17.0.1" };
const WEB: NetworkLayout = { bridge: "br-web", subnet: "172.18.0.0/16", gateway: "172.18.0.1" };
const APP: NetworkLayout = { bridge: "br-app", subnet: "172.19.0.0/16", gateway: "172.19.0.1" };
const MACHINE_NETWORKS = [BRIDGE, WEB, APP];
/** web_container's address on app once connected: what the grading pings from app_container. */
export const WEB_ON_APP = "172.19.0.3";
/**
 * A template check's time limit when it sets none (DEFAULT_PROBE_TIMEOUT_MS of @labnet/labs):
 * Labnet's ICMP probe is `ping -n -c 1 -W 2`, and so is the baseline's. (A veth pair set up a
 * moment ago may take up to a second to carry traffic: the kernel's link watch.)
 */
const PROBE_TIMEOUT_MS = 2_000;

export interface StudentLayout {
  lan: NetworkLayout;
  /** The machine's uplink: `eth0` on the LAN bridge. */
  machine: Endpoint;
  web: Endpoint;
  app: Endpoint;
  /** The solution: web_container's `eth1` on app. */
  webOnApp: Endpoint;
}

export interface ClassLayout {
  /** Every namespace of the class starts with it. */
  netnsPrefix: string;
  students: StudentLayout[];
}

/**
 * N students; LANs `10.<octet>.<i>.0/24` (the machine at .2), machine-internal addresses the same
 * in every machine, as in Labnet.
 *
 * @example classLayout(30, "t", "lbench1-labs-", 201).students[0]?.machine.address // "10.201.0.2"
 */
export function classLayout(n: number, tag: string, runPrefix: string, octet: number): ClassLayout {
  const netnsPrefix = `${runPrefix}${tag}-`;
  const students = Array.from({ length: n }, (_, i): StudentLayout => {
    const lan = { bridge: `${tag}lbr${i}`, subnet: `10.${octet}.${i}.0/24`, gateway: `10.${octet}.${i}.1` };
    const web = { netns: `${netnsPrefix}w${i}`, veth: "veth-web", address: "172.18.0.2", network: WEB };
    return {
      lan,
      machine: {
        netns: `${netnsPrefix}m${i}`,
        veth: `${tag}lv${i}`,
        address: `10.${octet}.${i}.2`,
        network: lan,
      },
      web,
      app: { netns: `${netnsPrefix}a${i}`, veth: "veth-app", address: "172.19.0.2", network: APP },
      webOnApp: { ...web, veth: "veth-web-app", ifname: "eth1", address: WEB_ON_APP, network: APP },
    };
  });
  return { netnsPrefix, students };
}

function machineRules(): string {
  const pairs = MACHINE_NETWORKS.flatMap((a) => MACHINE_NETWORKS.filter((b) => b !== a).map((b) => [a, b]));
  return [
    "*nat",
    ...MACHINE_NETWORKS.map((net) => `-A POSTROUTING -s ${net.subnet} ! -o ${net.bridge} -j MASQUERADE`),
    "COMMIT",
    "*filter",
    ...pairs.map(([a, b]) => `-A FORWARD -i ${a?.bridge} -o ${b?.bridge} -j DROP`),
    "COMMIT",
  ].join("\n");
}

/** Builds the class's start state (the bench's LBENCH chains exist: `prepareChains`). */
export async function buildClass(layout: ClassLayout): Promise<void> {
  const { students } = layout;
  await ipBatch([
    ...students.flatMap((s) => [s.machine, s.web, s.app].map((e) => `netns add ${e.netns}`)),
    ...bridgeLines(
      students.map((s) => s.lan),
      students.map((s) => s.machine),
    ),
  ]);
  const rules = machineRules();
  await forEachStudent(layout, async (s) => {
    const machine = s.machine.netns;
    await ipBatch([...sandboxLines(s.machine), ...bridgeLines(MACHINE_NETWORKS, [s.web, s.app])], machine);
    await runTool([...enter(machine), "sysctl", "-q", "-w", "net.ipv4.ip_forward=1"]);
    await restore(rules, machine);
    await ipBatch(sandboxLines(s.web), s.web.netns);
    await ipBatch(sandboxLines(s.app), s.app.netns);
  });
  await restore(["*nat", ...students.map((s) => `-A ${masquerade(s.lan)}`), "COMMIT"].join("\n"));
}

/**
 * Cheap proof that the class was built: the first and the last student's web_container reach
 * their LAN's gateway (node → machine bridge → forwarding and MASQUERADE → eth0 → LAN).
 */
export async function verifyClass(layout: ClassLayout): Promise<void> {
  for (const s of [layout.students[0], layout.students[layout.students.length - 1]]) {
    if (s !== undefined && !(await pings(`/run/netns/${s.web.netns}`, s.lan.gateway))) {
      throw new Error(`batched: ${s.web.netns} does not reach its LAN gateway ${s.lan.gateway}`);
    }
  }
}

/** The solution in every instance: web_container connected to app. */
export async function solveClass(layout: ClassLayout): Promise<void> {
  await forEachStudent(layout, async (s) => {
    await ipBatch(bridgeLines([], [s.webOnApp]), s.machine.netns);
    await ipBatch(addressLines(s.webOnApp), s.webOnApp.netns);
  });
}

/** The grading: how many app_containers get an answer from web_container's app address. */
export async function gradeClass(layout: ClassLayout): Promise<number> {
  const answered = await inParallel(layout.students.length, PROBES_AT_ONCE, async (i) => {
    const s = layout.students[i];
    if (s === undefined) {
      return false;
    }
    const argv = inOrigin({ netns: s.app.netns }, pingArgv(WEB_ON_APP, PROBE_TIMEOUT_MS));
    return (await runCommand(argv, { timeoutMs: 5_000 })).code === 0;
  });
  return answered.filter(Boolean).length;
}

/** Tears the class down: one `ip -batch -`, the host's rules emptied. */
export async function teardownClass(layout: ClassLayout): Promise<void> {
  await ipBatch([
    ...layout.students.flatMap((s) => [s.machine, s.web, s.app].map((e) => `netns del ${e.netns}`)),
    ...layout.students.map((s) => `link del ${s.lan.bridge}`),
  ]);
  await emptyChains();
}

async function forEachStudent(layout: ClassLayout, task: (s: StudentLayout) => Promise<void>): Promise<void> {
  await inParallel(layout.students.length, SANDBOX_BATCHES_IN_FLIGHT, (i) => {
    const s = layout.students[i];
    return s === undefined ? Promise.resolve() : task(s);
  });
}
