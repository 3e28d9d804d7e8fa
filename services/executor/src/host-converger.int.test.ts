/**
 * The converge loop against a real Postgres, with a recording runner in place of the kernel:
 * one converge settles a backlog in one transaction, a target whose kernel work fails is
 * retried and then failed while the rest of the host is ready, and a converge that fails as
 * a whole settles its operations for a retry instead of leaving them running.
 */
import { type CommandContext, createNetwork, createNode, deleteNode } from "@labnet/commands";
import { type Database, type HostRow, schema } from "@labnet/db";
import { createLogger } from "@labnet/log";
import { inArray } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestHostDatabase, type TestHostDatabase } from "../../../test/helpers/test-host";
import { createHostConverger } from "./host-converger";
import { createRecordingRunner, type RecordedCall, type RecordedResponses } from "./kernel";
import { MAX_ATTEMPTS } from "./settle";

/** No namespace under /run/netns starts with it: the recording runner plays the whole kernel. */
const PREFIX = "lnconvergeint-";

let db: Database;
let ctx: CommandContext;
let host: HostRow;
let stack: TestHostDatabase;

beforeAll(async () => {
  stack = await startTestHostDatabase("cvg", { name: "converge-host", netnsPrefix: PREFIX });
  ({ db, ctx, host } = stack);
  await createNetwork({ ctx, input: { name: "lab", host: host.id } });
});

afterAll(async () => {
  await stack?.stop();
});

function converger(responses: RecordedResponses) {
  const runner = createRecordingRunner(responses);
  const converge = createHostConverger({
    db,
    runner,
    hostId: host.id,
    netnsPrefix: PREFIX,
    log: createLogger("converge-int"),
  });
  return { runner, converge };
}

async function operationsOf(ids: string[]) {
  return db.select().from(schema.operations).where(inArray(schema.operations.id, ids));
}

async function nodeStates(ids: string[]) {
  const rows = await db
    .select({ id: schema.nodes.id, state: schema.nodes.state })
    .from(schema.nodes)
    .where(inArray(schema.nodes.id, ids));
  return Object.fromEntries(rows.map((r) => [r.id, r.state]));
}

describe("host converger", () => {
  it("settles a backlog in one converge, and retries then fails only the node whose kernel work fails", async () => {
    const created: Awaited<ReturnType<typeof createNode>>[] = [];
    for (const name of ["c0", "c1", "c2", "c3"]) {
      created.push(await createNode({ ctx, input: { name, networkMode: "lab", ports: ["80"] } }));
    }
    const broken = created[1]?.node.netns ?? "";
    const { runner, converge } = converger((call) =>
      call.argv[1] === `--net=/run/netns/${broken}`
        ? { code: 1, stderr: "RTNETLINK answers: Invalid argument\nCommand failed -:2\n" }
        : undefined,
    );
    const opIds = created.map((c) => c.operation.id);
    await converge.request();

    const first = await operationsOf(opIds);
    const done = first.filter((op) => op.state === "succeeded");
    expect(done.map((op) => op.targetId).sort()).toEqual(
      created
        .filter((c) => c.node.netns !== broken)
        .map((c) => c.node.id)
        .sort(),
    );
    // One converge settled them: one transaction, one now().
    expect(new Set(done.map((op) => op.finishedAt?.getTime())).size).toBe(1);
    // Its kernel work was one host batch, a batch per sandbox and one restore.
    expect(runner.calls.filter((c) => c.argv[0] === "nsenter")).toHaveLength(4);
    expect(runner.calls.filter((c) => c.argv[0] === "iptables-restore")).toHaveLength(1);
    const retrying = first.find((op) => op.targetId === created[1]?.node.id);
    expect(retrying).toMatchObject({ state: "running", attempts: 1 });
    expect(retrying?.error?.detail).toContain(broken);

    for (let attempt = 2; attempt <= MAX_ATTEMPTS; attempt++) {
      await converge.request();
    }
    const [last] = await operationsOf([created[1]?.operation.id ?? ""]);
    expect(last).toMatchObject({
      state: "failed",
      attempts: MAX_ATTEMPTS,
      error: { code: "KERNEL_OPERATION_FAILED" },
    });
    expect(await nodeStates(created.map((c) => c.node.id))).toEqual({
      [created[0]?.node.id ?? ""]: "ready",
      [created[1]?.node.id ?? ""]: "failed",
      [created[2]?.node.id ?? ""]: "ready",
      [created[3]?.node.id ?? ""]: "ready",
    });
    await converge.close();
  });

  it("settles the operations of a converge that failed as a whole for a retry", async () => {
    const { node, operation } = await createNode({ ctx, input: { name: "w0", networkMode: "lab" } });
    // Observing the host's links fails without naming a line: nothing can be planned.
    const { converge } = converger((call) =>
      call.argv.includes("-force") && call.argv.includes("-j")
        ? { code: 2, stderr: "Cannot open netlink socket: Protocol not supported\n" }
        : undefined,
    );
    await converge.request();
    const [op] = await operationsOf([operation.id]);
    expect(op).toMatchObject({ state: "running", attempts: 1 });
    expect(op?.error?.detail).toContain("Cannot open netlink socket");
    expect((await nodeStates([node.id]))[node.id]).toBe("pending");
    await converge.close();
  });

  it("plans a removal after a converge of the whole host with the links listed after it, listing none first", async () => {
    const { node } = await createNode({ ctx, input: { name: "d0", networkMode: "lab" } });
    const { runner, converge } = converger(everyLinkPresent);
    // Builds d0 (and serves what the tests above left open); listing every link, it forgets
    // what it knew.
    await converge.request("host");
    await deleteNode({ ctx, ref: node.id });
    const from = runner.calls.length;
    await converge.request();
    const calls = runner.calls.slice(from);
    const apply = calls.findIndex((c) => c.argv.join(" ") === "ip -force -batch -");
    expect(apply).toBeGreaterThanOrEqual(0);
    expect(calls.slice(0, apply).filter((c) => c.argv.includes("-j"))).toEqual([]);
    expect(await nodeStates([node.id])).toEqual({});
    await converge.close();
  });

  it("does nothing, not even a snapshot's kernel work, when no operation is open", async () => {
    const { runner, converge } = converger({ "ip -j -d addr show": { stdout: "[]" } });
    // The earlier tests' operations are settled or retrying; settle what is left first.
    await converge.request("all");
    expect(
      await db
        .select()
        .from(schema.operations)
        .where(inArray(schema.operations.state, ["queued", "running"])),
    ).toEqual([]);
    const before = runner.calls.length;
    await converge.request();
    await converge.request();
    expect(runner.calls.length).toBe(before);
    await converge.close();
  });
});

/** Answers a listing of named links (`addr show dev X` lines) with each one present and up. */
function everyLinkPresent(call: RecordedCall): { stdout: string } | undefined {
  if (call.argv.join(" ") !== "ip -force -j -d -batch -") {
    return call.argv.join(" ") === "ip -j -d addr show" ? { stdout: "[]" } : undefined;
  }
  const names = (call.stdin ?? "").match(/^addr show dev (\S+)$/gm) ?? [];
  const links = names.map((line, i) => {
    const name = line.slice("addr show dev ".length);
    const kind = name.startsWith("lnbr") ? "bridge" : "veth";
    return JSON.stringify([
      {
        ifindex: 10 + i,
        ifname: name,
        flags: ["UP"],
        mtu: 1500,
        address: "02:42:ac:11:00:01",
        linkinfo: { info_kind: kind },
      },
    ]);
  });
  return { stdout: links.map((l) => `${l}\n`).join("") };
}
