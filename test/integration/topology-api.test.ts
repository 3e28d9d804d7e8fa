/**
 * Topology pictures at the API (issue 10, deliverable 4): a machine's, a lab instance's and a
 * whole lab's, as SVG (the default, or `Accept: image/svg+xml`) and as Mermaid text
 * (`?format=mermaid`, or `Accept: text/plain`), naming every node and network Postgres has.
 * The app in process, a lab host without an executor (records only, no kernel).
 */

import { SaxesParser } from "saxes";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestLabnet, type TestLabnet } from "../helpers/labnet";
import { readProblem } from "../helpers/problems";
import { registerTestHost, TEST_HOST_CAPABILITIES } from "../helpers/test-host";

let labnet: TestLabnet;

const STUDENTS = ["alice", "bob", "carol"];

/** The texts of an SVG document, parsed by a conforming XML parser (throws when not well-formed). */
function svgTexts(svg: string): string[] {
  const parser = new SaxesParser({ xmlns: true });
  const texts: string[] = [];
  let inText = false;
  let error: Error | undefined;
  parser.on("error", (e) => {
    error ??= e;
  });
  parser.on("opentag", (tag) => {
    inText = tag.local === "text";
  });
  parser.on("closetag", () => {
    inText = false;
  });
  parser.on("text", (t) => {
    if (inText) {
      texts.push(t);
    }
  });
  parser.write(svg).close();
  if (error) {
    throw error;
  }
  return texts;
}

async function get(path: string, headers: Record<string, string> = {}) {
  const res = await labnet.request("GET", path, { headers });
  return { res, text: await res.text() };
}

beforeAll(async () => {
  labnet = await startTestLabnet();
  const host = await registerTestHost(labnet.db, {
    name: "tp-lab",
    netnsPrefix: "tp-",
    capabilities: {
      ...TEST_HOST_CAPABILITIES,
      linkTypes: [...TEST_HOST_CAPABILITIES.linkTypes, "vxlan", "macvlan"],
      drivers: [...TEST_HOST_CAPABILITIES.drivers, "overlay", "macvlan"],
      interfaces: ["eth0"],
    },
  });
  const lab = await labnet.client.POST("/v1/labs", {
    body: { name: "topo1", template: "builtin:seed-001-ex2", students: STUDENTS, host: host.name },
  });
  expect(lab.response.status, JSON.stringify(lab.error)).toBe(202);
  const two = await labnet.client.POST("/v1/labs", {
    body: { name: "topo2", template: "builtin:seed-002-overlay", students: ["dave"], host: host.name },
  });
  expect(two.response.status, JSON.stringify(two.error)).toBe(202);
  const solved = await labnet.request("POST", "/v1/labs/topo2/solve", { body: {} });
  expect(solved.status).toBeLessThan(300);
  // A published port on alice's web_container: the machine's port and the lab host's external one.
  const view = await labnet.client.GET("/v1/labs/{labId}", { params: { path: { labId: "topo1" } } });
  const alice = view.data?.instances.find((i) => i.student === "alice");
  const web = alice?.nodes.find((n) => n.name === "web_container");
  expect(web).toBeDefined();
  const published = await labnet.request("POST", `/v1/nodes/${web?.id}/ports`, {
    body: { ports: ["8080:80"] },
  });
  expect(published.status, await published.clone().text()).toBeLessThan(300);
});

afterAll(async () => {
  await labnet?.stop();
});

describe("GET /v1/labs/{labId}/instances/{instanceId}/topology", () => {
  it("answers an SVG naming the machine, its LAN, every network and node, and the published port", async () => {
    const { res, text } = await get("/v1/labs/topo1/instances/alice/topology");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("image/svg+xml; charset=utf-8");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    const texts = svgTexts(text);
    for (const name of [
      "web_container",
      "app_container",
      "web",
      "app",
      "bridge",
      "host",
      "LAN topo1-alice-lan",
    ]) {
      expect(texts, name).toContain(name);
    }
    expect(texts).toContain("Lab topo1, instance alice");
    expect(texts).toContain("machine topo1-alice-host");
    expect(texts.some((t) => /^eth0 10\.\d+\.\d+\.\d+ on topo1-alice-lan$/.test(t))).toBe(true);
    expect(texts.some((t) => /^eth0 172\.\d+\.0\.2 \(web\)$/.test(t))).toBe(true);
    expect(texts.some((t) => /^tcp 8080→80 \(external \d+\)$/.test(t))).toBe(true);
    expect(texts).toContain("172.17.0.0/16");
    // Nothing of bob's.
    expect(texts.join("\n")).not.toContain("bob");
  });

  it("answers Mermaid text with ?format=mermaid and with Accept: text/plain", async () => {
    for (const [query, headers] of [
      ["?format=mermaid", {}],
      ["", { accept: "text/plain" }],
    ] as const) {
      const { res, text } = await get(`/v1/labs/topo1/instances/bob/topology${query}`, headers);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("text/plain; charset=utf-8");
      expect(text).toMatch(/^%% Lab topo1, instance bob\n/);
      expect(text).toContain("\nflowchart LR\n");
      for (const name of ["web_container", "app_container", "web", "app", "bridge", "LAN topo1-bob-lan"]) {
        expect(text).toMatch(new RegExp(`"${name}(<br/>|")`));
      }
    }
  });

  it("answers SVG for Accept: image/svg+xml, and the query wins over Accept", async () => {
    const svg = await get("/v1/labs/topo1/instances/carol/topology", { accept: "image/svg+xml" });
    expect(svg.res.headers.get("content-type")).toBe("image/svg+xml; charset=utf-8");
    const forced = await get("/v1/labs/topo1/instances/carol/topology?format=svg", { accept: "text/plain" });
    expect(forced.res.headers.get("content-type")).toBe("image/svg+xml; charset=utf-8");
    expect(svgTexts(forced.text)).toContain("web_container");
  });

  it("draws an overlay across two machines once, linked to its nodes on both", async () => {
    const { res, text } = await get("/v1/labs/topo2/instances/dave/topology");
    expect(res.status).toBe(200);
    const texts = svgTexts(text);
    expect(texts.filter((t) => t === "overlay")).toHaveLength(1);
    expect(texts).toContain("overlay, vni 256, scope lan");
    expect(texts).toContain("172.16.0.0/24");
    for (const name of ["bdc01", "bdc02", "busybox1", "busybox2"]) {
      expect(texts).toContain(name);
    }
    const mermaid = (await get("/v1/labs/topo2/instances/dave/topology?format=mermaid")).text;
    expect(mermaid.match(/ -\.-\|"eth0"\| /g)).toHaveLength(2);
  });

  it("answers 404 naming an unknown instance, and 400 for an unknown format", async () => {
    const missing = await labnet.request("GET", "/v1/labs/topo1/instances/zed/topology");
    expect(missing.status).toBe(404);
    expect((await readProblem(missing)).errors?.[0]?.location).toBe("path.instanceId");
    const bad = await labnet.request("GET", "/v1/labs/topo1/instances/alice/topology?format=png");
    expect(bad.status).toBe(400);
    expect((await readProblem(bad)).errors?.[0]?.location).toBe("query.format");
  });
});

describe("GET /v1/labs/{labId}/topology", () => {
  it("draws every instance as a group naming every node and network", async () => {
    const { res, text } = await get("/v1/labs/topo1/topology");
    expect(res.status).toBe(200);
    const texts = svgTexts(text);
    for (const student of STUDENTS) {
      expect(texts).toContain(`instance ${student}`);
      expect(texts).toContain(`LAN topo1-${student}-lan`);
    }
    for (const name of ["web_container", "app_container", "web", "app"]) {
      expect(texts.filter((t) => t === name)).toHaveLength(STUDENTS.length);
    }
    const mermaid = (await get("/v1/labs/topo1/topology?format=mermaid")).text;
    expect(mermaid.match(/subgraph v\d+\["instance /g)).toHaveLength(STUDENTS.length);
    expect(mermaid.match(/"web_container<br\/>/g)).toHaveLength(STUDENTS.length);
  });

  it("answers 404 for an unknown lab", async () => {
    const res = await labnet.request("GET", "/v1/labs/nope/topology");
    expect(res.status).toBe(404);
  });
});

describe("GET /v1/machines/{machineId}/topology", () => {
  it("draws a virtual machine with its LAN, networks, nodes and ports", async () => {
    const { res, text } = await get("/v1/machines/topo1-alice-host/topology");
    expect(res.status).toBe(200);
    const texts = svgTexts(text);
    expect(texts).toContain("Machine host (topo1-alice-host)");
    expect(texts).toContain("on lab host tp-lab");
    for (const name of ["web_container", "app_container", "web", "app", "bridge", "LAN topo1-alice-lan"]) {
      expect(texts).toContain(name);
    }
    expect(texts.some((t) => /^tcp 8080→80 \(external \d+\)$/.test(t))).toBe(true);
  });

  it("draws a lab host with its LANs and the machines' uplinks", async () => {
    const { res, text } = await get("/v1/machines/tp-lab/topology?format=mermaid");
    expect(res.status).toBe(200);
    for (const student of STUDENTS) {
      expect(text).toContain(`"topo1-${student}-lan<br/>`);
    }
  });

  it("answers 404 naming the machine", async () => {
    const res = await labnet.request("GET", "/v1/machines/nope/topology");
    expect(res.status).toBe(404);
    expect((await readProblem(res)).errors?.[0]?.location).toBe("path.machineId");
  });
});
