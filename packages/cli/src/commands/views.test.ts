import type { Schema } from "@labnet/api";
import { describe, expect, it } from "vitest";
import { instanceProgress, labSettled, summaryLine } from "../lab-progress";
import { renderCheckMatrix } from "./labs";
import { listFilters, operationIdOf } from "./networks";
import { formatNodeAddresses, formatNodePorts, selectPortLines } from "./nodes";
import { age } from "./shared";

type PortMapping = Schema<"PortMapping">;
type LabInstance = Schema<"LabInstance">;

const mapping = (containerPort: number, protocol: "tcp" | "udp", display: string) =>
  ({ containerPort, protocol, display }) as PortMapping;

describe("node views", () => {
  const settings = {
    networkSettings: {
      sandboxKey: "/run/netns/ln-x",
      networks: {
        "my-net": { networkId: "net_1", ipAddress: "172.18.0.2" },
        app: { networkId: "net_2", ipAddress: "172.19.0.2" },
      },
      ports: { "80/tcp": [{ hostIp: "0.0.0.0", hostPort: "8080" }], "443/tcp": null },
    },
  } as unknown as Pick<Schema<"Node">, "networkSettings">;

  it("shows ports as docker ps does, exposed ones without a mapping", () => {
    expect(formatNodePorts(settings)).toBe("0.0.0.0:8080->80/tcp, 443/tcp");
  });

  it("shows one address per network", () => {
    expect(formatNodeAddresses(settings)).toBe("my-net=172.18.0.2, app=172.19.0.2");
  });

  it.each<[string | undefined, string[]]>([
    [undefined, ["80/tcp -> 0.0.0.0:8080", "53/udp -> 0.0.0.0:5353", "80/tcp -> 127.0.0.1:8081"]],
    ["80", ["80/tcp -> 0.0.0.0:8080", "80/tcp -> 127.0.0.1:8081"]],
    ["53/udp", ["53/udp -> 0.0.0.0:5353"]],
  ])("docker port NODE %s", (filter, want) => {
    const items = [
      mapping(80, "tcp", "80/tcp -> 0.0.0.0:8080"),
      mapping(53, "udp", "53/udp -> 0.0.0.0:5353"),
      mapping(80, "tcp", "80/tcp -> 127.0.0.1:8081"),
    ];
    expect(selectPortLines(items, filter)).toEqual(want);
  });

  it("answers an unpublished or malformed port as docker does", () => {
    expect(() => selectPortLines([mapping(80, "tcp", "x")], "53/tcp")).toThrow(
      "no public port 53/tcp published.",
    );
    expect(() => selectPortLines([], "http")).toThrow('"http" is not a port');
  });
});

describe("operationIdOf", () => {
  it.each<[unknown, Record<string, string>, string | undefined]>([
    [{ id: "net_1", operation: { id: "op_a", state: "queued", href: "/v1/operations/op_a" } }, {}, "op_a"],
    [{ id: "op_b", kind: "node.remove", state: "queued" }, {}, "op_b"],
    [{ operation: "op_c" }, {}, "op_c"],
    [{ id: "mch_1", state: "pending" }, { "operation-location": "/v1/operations/op_d" }, "op_d"],
    [undefined, {}, undefined],
    [{ id: "lab_1", kind: "x" }, {}, undefined],
  ])("%j %j → %s", (body, headers, want) => {
    expect(operationIdOf(body, new Response(null, { headers }))).toBe(want);
  });
});

describe("listFilters", () => {
  it("turns -f pairs into the list's query, labels repeatable", () => {
    expect(listFilters(["name=web", "label=course=net101", "label=lab"], ["name", "label"])).toEqual({
      name: "web",
      label: ["course=net101", "lab"],
    });
  });

  it("refuses a filter the list does not take, naming those it does", () => {
    expect(() => listFilters(["colour=red"], ["name", "driver"])).toThrow(
      "--filter colour=red: filter by name=, driver=.",
    );
  });
});

describe("lab progress", () => {
  const instance = (state: string, parts: string[]): LabInstance =>
    ({
      id: "inst_1",
      student: "s01",
      state,
      generation: 1,
      machines: parts.slice(0, 1).map((s) => ({ id: "m", name: "m", hostname: "host", state: s })),
      nodes: parts
        .slice(1)
        .map((s, i) => ({ id: `n${i}`, name: `n${i}`, machine: "host", state: s, addresses: {} })),
      ports: [],
    }) as LabInstance;

  it.each<[string, string[], { done: number; total: number }]>([
    ["provisioning", ["pending", "pending", "pending"], { done: 0, total: 3 }],
    ["provisioning", ["ready", "ready", "pending"], { done: 2, total: 3 }],
    ["ready", ["ready", "ready", "ready"], { done: 3, total: 3 }],
    ["failed", ["ready", "failed", "pending"], { done: 1, total: 3 }],
    ["ready", [], { done: 1, total: 1 }],
  ])("an instance %s with %j is %j", (state, parts, want) => {
    expect(instanceProgress(instance(state, parts))).toEqual(want);
  });

  it.each([
    [{ total: 30, ready: 12, provisioning: 18, failed: 0 }, "12/30 ready, 18 provisioning"],
    [{ total: 30, ready: 29, provisioning: 0, failed: 1 }, "29/30 ready, 1 failed"],
    [{ total: 5, ready: 5, provisioning: 0, failed: 0 }, "5/5 ready"],
  ])("summary %j → %s", (summary, want) => {
    expect(summaryLine({ summary })).toBe(want);
  });

  it("is settled once no instance is provisioning", () => {
    const lab = (states: string[]) => ({ instances: states.map((s) => instance(s, [])) }) as Schema<"Lab">;
    expect(labSettled(lab(["ready", "provisioning"]))).toBe(false);
    expect(labSettled(lab(["ready", "failed"]))).toBe(true);
  });
});

describe("renderCheckMatrix", () => {
  it("has a row per student, pass/FAIL per numbered check and the count; the names below", () => {
    const check = (name: string, passed: boolean) => ({ name, passed, expected: "", observed: "" });
    const run = {
      results: [
        { instanceId: "i1", student: "alice", checks: [check("ping web", true), check("dns", true)] },
        { instanceId: "i2", student: "bob", checks: [check("ping web", false), check("dns", true)] },
      ],
    } as Schema<"LabCheckRun">;
    expect(renderCheckMatrix(run)).toEqual({
      rows: [
        ["alice", "pass", "pass", "2/2"],
        ["bob", "FAIL", "pass", "1/2"],
      ],
      legend: ["1  ping web", "2  dns"],
    });
  });
});

describe("age", () => {
  it.each([
    [0, "just now"],
    [1_000, "1 second ago"],
    [125_000, "2 minutes ago"],
    [3 * 86_400_000, "3 days ago"],
  ])("%d ms → %s", (ms, want) => {
    const now = Date.parse("2025-01-01T00:00:00Z");
    expect(age(new Date(now - ms).toISOString(), now)).toBe(want);
  });
});
