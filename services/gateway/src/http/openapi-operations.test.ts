import { openapiDocument } from "@labnet/api";
import { describe, expect, it } from "vitest";
import { createPathMatcher, indexOperations, toHonoPath } from "./openapi-operations";

describe("toHonoPath", () => {
  const cases = [
    { given: "/v1/networks", want: "/v1/networks" },
    { given: "/v1/networks/{networkId}", want: "/v1/networks/:networkId" },
    { given: "/v1/a/{x}/b/{y}", want: "/v1/a/:x/b/:y" },
  ];
  for (const { given, want } of cases) {
    it(`converts ${given}`, () => {
      expect(toHonoPath(given)).toBe(want);
    });
  }
});

describe("indexOperations", () => {
  const operations = indexOperations(openapiDocument);

  it("finds every operation of the contract", () => {
    expect([...operations.keys()].sort()).toEqual(
      [
        "createNetwork",
        "createNode",
        "deleteNetwork",
        "deleteNode",
        "getHealth",
        "getHost",
        "getNetwork",
        "getNode",
        "getOperation",
        "getReadiness",
        "listHosts",
        "listNetworks",
        "listNodes",
        // Published ports (issue 4).
        "listHostPorts",
        "listNodePorts",
        "publishNodePorts",
        "unpublishNodePorts",
        // The network model (issue 3).
        "connectNetwork",
        "disconnectNetwork",
        "listAddressPools",
        "listNetworkAllocations",
        "pruneNetworks",
        "updateNetwork",
        // Machines (issue 8).
        "createMachine",
        "deleteMachine",
        "getMachine",
        "getMachineKernel",
        "listMachinePorts",
        "listMachines",
        // Labs (issue 9).
        "createLab",
        "createLabTemplate",
        "deleteLab",
        "deleteLabTemplate",
        "getLab",
        "getLabCheckRun",
        "getLabTemplate",
        "listLabs",
        "listLabTemplates",
        "resetLabInstance",
        "retryLabInstance",
        "runLabChecks",
        "solveLab",
        // Diagnostics: exec and the kernel truth of a node (issue 10).
        "execInMachine",
        "execInNode",
        "getNodeKernel",
        // Events and a lab instance's timeline (issue 10).
        "getLabInstanceTimeline",
        "listEvents",
        // Topology pictures (issue 10).
        "getLabInstanceTopology",
        "getLabTopology",
        "getMachineTopology",
        // Access: tokens, accounts, the audit log (issue 11).
        "createToken",
        "getAccount",
        "getToken",
        "listAuditEntries",
        "listTokens",
        "revokeToken",
        "updateAccount",
        "whoami",
        // A node docker create recorded, started (issue 12).
        "startNode",
      ].sort(),
    );
  });

  const cases = [
    { id: "getHealth", want: { method: "get", honoPath: "/v1/healthz", secured: false } },
    { id: "getReadiness", want: { method: "get", honoPath: "/v1/readyz", secured: false } },
    { id: "createNetwork", want: { method: "post", honoPath: "/v1/networks", secured: true } },
    { id: "deleteNode", want: { method: "delete", honoPath: "/v1/nodes/:nodeId", secured: true } },
    {
      id: "getMachineKernel",
      want: { method: "get", honoPath: "/v1/machines/:machineId/kernel", secured: true },
    },
  ];
  for (const { id, want } of cases) {
    it(`indexes ${id}`, () => {
      expect(operations.get(id)).toMatchObject(want);
    });
  }

  it("resolves parameter refs and marks repeatable ones", () => {
    const list = operations.get("listNetworks");
    expect(list?.parameters.map((p) => [p.in, p.name, p.isArray])).toEqual([
      ["query", "name", false],
      ["query", "host", false],
      ["query", "driver", false],
      ["query", "label", true],
      ["query", "limit", false],
      ["query", "cursor", false],
    ]);
    expect(operations.get("createNetwork")?.requestBody).toMatchObject({ required: true });
  });

  it("reads each declared response: its headers (refs resolved, required or not) and media types", () => {
    const get = operations.get("getNetwork");
    const ok = get?.responses.get("200");
    expect(ok?.headers).toEqual([
      { name: "ETag", required: true, schemaPointer: "/components/headers/ETag/schema" },
    ]);
    expect([...(ok?.content.keys() ?? [])]).toEqual(["application/json"]);
    const unauthorized = get?.responses.get("401");
    expect(unauthorized?.headers.map((h) => [h.name, h.required])).toEqual([
      ["X-Request-Id", true],
      ["WWW-Authenticate", true],
    ]);
    expect(unauthorized?.content.get("application/problem+json")).toBe(
      "/components/responses/Unauthorized/content/application~1problem+json/schema",
    );
    // A removal's 204 has no body.
    expect(operations.get("deleteNode")?.responses.get("204")?.content.size).toBe(0);
  });
});

describe("createPathMatcher", () => {
  const match = createPathMatcher(indexOperations(openapiDocument).values());
  it("finds every operation of a concrete path, the most specific first", () => {
    expect(match("/v1/networks/prune").map((s) => s.operationId)).toEqual([
      "pruneNetworks",
      "getNetwork",
      "deleteNetwork",
      "updateNetwork",
    ]);
    expect(match("/v1/nothing")).toEqual([]);
  });
});
