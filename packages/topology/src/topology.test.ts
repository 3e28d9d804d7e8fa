import { SaxesParser } from "saxes";
import { describe, expect, it } from "vitest";
import {
  buildGraph,
  escapeMermaid,
  escapeXml,
  layoutGraph,
  MAX_SVG_SIDE,
  renderMermaid,
  renderSvg,
  renderTopology,
  type TopologyInput,
} from "./index";
import { sampleInstance, sampleLab } from "./testing";

/** Parses `svg` with a conforming XML parser (throws on any well-formedness error). */
function parseSvg(svg: string): { elements: Set<string>; texts: string[]; titles: string[] } {
  const parser = new SaxesParser({ xmlns: true });
  const elements = new Set<string>();
  const texts: string[] = [];
  const titles: string[] = [];
  const stack: string[] = [];
  let error: Error | undefined;
  parser.on("error", (e) => {
    error ??= e;
  });
  parser.on("opentag", (tag) => {
    elements.add(tag.local);
    stack.push(tag.local);
    if (stack.length === 1) {
      expect(tag.uri).toBe("http://www.w3.org/2000/svg");
    }
  });
  parser.on("closetag", () => {
    stack.pop();
  });
  parser.on("text", (text) => {
    const inside = stack.at(-1);
    if (inside === "text") {
      texts.push(text);
    } else if (inside === "title") {
      titles.push(text);
    }
  });
  parser.write(svg).close();
  if (error) {
    throw error;
  }
  return { elements, texts, titles };
}

/** Checks the Mermaid flowchart line by line: known statements only, balanced subgraphs, known ids. */
function checkMermaid(text: string): { ids: Set<string>; labels: string[] } {
  const lines = text.split("\n").filter((l) => l.trim() !== "");
  const ids = new Set<string>();
  const labels: string[] = [];
  let depth = 0;
  let sawHeader = false;
  const label = '"([^"\\n]*)"';
  const vertex = new RegExp(
    `^(v\\d+)(?:\\[${label}\\]|\\[\\(${label}\\)\\]|\\{\\{${label}\\}\\}|>${label}\\])$`,
  );
  const subgraph = new RegExp(`^subgraph (v\\d+)\\[${label}\\]$`);
  const edge = new RegExp(`^(v\\d+) (?:---|===|-\\.-)(?:\\|${label}\\|)? (v\\d+)$`);
  const refs: string[] = [];
  for (const raw of lines) {
    const line = raw.trim();
    if (line.startsWith("%% ")) {
      expect(sawHeader, "comments come first").toBe(false);
      continue;
    }
    if (!sawHeader) {
      expect(line).toBe("flowchart LR");
      sawHeader = true;
      continue;
    }
    const sub = subgraph.exec(line);
    const vert = vertex.exec(line);
    const link = edge.exec(line);
    const cls = /^class ([v\d,]+) [a-z]+$/.exec(line);
    if (sub) {
      ids.add(sub[1] ?? "");
      labels.push(sub[2] ?? "");
      depth++;
    } else if (line === "end") {
      depth--;
      expect(depth).toBeGreaterThanOrEqual(0);
    } else if (line === "direction LR") {
      expect(depth).toBeGreaterThan(0);
    } else if (vert) {
      ids.add(vert[1] ?? "");
      labels.push(vert.slice(2).find((g) => g !== undefined) ?? "");
    } else if (link) {
      refs.push(link[1] ?? "", link[3] ?? "");
      if (link[2] !== undefined) {
        labels.push(link[2]);
      }
    } else if (/^classDef [a-z]+ [a-z:#0-9,\- ]+$/.test(line)) {
      // a style
    } else if (cls) {
      refs.push(...(cls[1] ?? "").split(","));
    } else {
      throw new Error(`not a Mermaid flowchart statement: ${line}`);
    }
  }
  expect(depth).toBe(0);
  for (const ref of refs) {
    expect(ids.has(ref), `${ref} is defined`).toBe(true);
  }
  for (const l of labels) {
    // Entity codes only: no raw quote, angle bracket (but <br/>), ampersand, backtick or bar.
    expect(l.replace(/<br\/>/g, "")).not.toMatch(/["<>&`|]|#(?![a-z0-9]+;)/);
  }
  return { ids, labels };
}

/** The entity codes of escapeMermaid, decoded back. */
function unescapeMermaid(text: string): string {
  const named: Record<string, string> = { quot: '"', amp: "&", lt: "<", gt: ">" };
  return text.replace(/#([a-z]+|\d+);/g, (_, code: string) =>
    /^\d+$/.test(code) ? String.fromCodePoint(Number(code)) : (named[code] ?? ""),
  );
}

const HOSTILE = {
  machine: `<script>alert("m")</script>`,
  network: `a&b "quoted" 'single' ]]> #35;`,
  node: `<img src=x onerror='alert(1)'>&amp;|\`x\``,
};

function hostileInput(): TopologyInput {
  return {
    title: `Machine ${HOSTILE.machine}`,
    ...sampleInstance({ student: "eve", nodes: 3, names: HOSTILE }),
  };
}

/** Two machines on one LAN, an overlay across both and a macvlan network on each (seed 002). */
function twoHostInput(): TopologyInput {
  const lan = { id: "lan_1", name: "alice-lan", subnet: "10.0.0.0/24" };
  return {
    title: "Instance alice",
    machines: [
      {
        id: "m1",
        name: "alice-bdc01",
        hostname: "bdc01",
        kind: "virtual",
        lan: { ...lan, address: "10.0.0.11" },
      },
      {
        id: "m2",
        name: "alice-bdc02",
        hostname: "bdc02",
        kind: "virtual",
        lan: { ...lan, address: "10.0.0.12" },
      },
    ],
    networks: [
      {
        id: "ov",
        name: "net_overlay",
        driver: "overlay",
        subnets: ["10.10.0.0/24"],
        machineId: null,
        vni: 257,
      },
      {
        id: "mv1",
        name: "macvlan_1",
        driver: "macvlan",
        subnets: ["10.0.0.0/24"],
        machineId: "m1",
        parent: "eth0",
      },
      {
        id: "mv2",
        name: "macvlan_1",
        driver: "macvlan",
        subnets: ["10.0.0.0/24"],
        machineId: "m2",
        parent: "eth0",
      },
    ],
    nodes: [
      {
        id: "c1",
        name: "centos1",
        machineId: "m1",
        interfaces: [
          { name: "eth0", networkId: "ov", networkName: "net_overlay", address: "10.10.0.2" },
          { name: "eth1", networkId: "mv1", networkName: "macvlan_1", address: "10.0.0.100" },
        ],
        ports: [{ protocol: "tcp", containerPort: 80, hostPort: 8080, externalPort: 40001 }],
      },
      {
        id: "c2",
        name: "centos2",
        machineId: "m2",
        interfaces: [
          { name: "eth0", networkId: "ov", networkName: "net_overlay", address: "10.10.0.3" },
          { name: "eth1", networkId: "mv2", networkName: "macvlan_1", address: "10.0.0.101" },
        ],
        ports: [],
      },
    ],
  };
}

describe("escaping", () => {
  const cases: [string, string, string][] = [
    ["markup", "<script>", "&lt;script&gt;"],
    ["ampersand and quotes", `a&b"c'd`, "a&amp;b&quot;c&apos;d"],
    ["a control character", "a\u0001b", "a\ufffdb"],
    ["a lone surrogate", "a\ud800b", "a\ufffdb"],
    ["a pair", "😀", "😀"],
  ];
  for (const [what, given, want] of cases) {
    it(`escapes ${what} for XML`, () => {
      expect(escapeXml(given)).toBe(want);
    });
  }
  it("writes Mermaid's specials as entity codes", () => {
    expect(escapeMermaid(`"<a>&#|\`\n`)).toBe("#quot;#lt;a#gt;#amp;#35;#124;#96; ");
  });
});

describe("SVG", () => {
  it("is well-formed and names the machine, LAN, every network and every node", async () => {
    const input: TopologyInput = {
      title: "Machine bdc01",
      ...sampleInstance({ student: "alice", nodes: 5 }),
    };
    const svg = await renderTopology(input, "svg");
    const { texts } = parseSvg(svg);
    const all = texts.join("\n");
    for (const name of [...input.networks.map((n) => n.name), ...input.nodes.map((n) => n.name)]) {
      expect(texts).toContain(name);
    }
    expect(all).toContain("LAN alice-lan");
    expect(all).toContain("eth0 10.0.0.11 on alice-lan");
    expect(all).toContain("eth0 172.18.0.2 (net1)");
    expect(all).toContain("tcp 8080→80 (external 32768)");
    expect(all).toContain("172.19.0.0/16");
  });

  it("escapes hostile names: they come back as text, never as markup", async () => {
    const svg = await renderTopology(hostileInput(), "svg");
    expect(svg).not.toContain("<script");
    expect(svg).not.toContain("<img");
    const { elements, texts, titles } = parseSvg(svg);
    expect([...elements].sort()).toEqual(["g", "path", "rect", "svg", "text", "title"]);
    for (const name of Object.values(HOSTILE)) {
      expect(texts).toContain(name);
    }
    expect(titles[0]).toBe(`Machine ${HOSTILE.machine}`);
  });

  it("keeps control characters out of the document", async () => {
    const input = hostileInput();
    const node = input.nodes[0];
    if (node) {
      node.name = "bad\u0000name\u001b[31m";
    }
    const { texts } = parseSvg(await renderTopology(input, "svg"));
    expect(texts).toContain("bad\ufffdname\ufffd[31m");
  });

  it("draws an overlay once, linked to its nodes on both machines, and macvlan to the LAN", async () => {
    const graph = buildGraph(twoHostInput());
    const overlay = graph.vertices.filter((v) => v.title === "net_overlay");
    expect(overlay).toHaveLength(1);
    expect(overlay[0]?.parent).toBeNull();
    expect(overlay[0]?.lines).toContain("overlay, vni 257, scope lan");
    const overlayEdges = graph.edges.filter((e) => e.source === overlay[0]?.id);
    const targets = overlayEdges.map((e) => graph.vertices.find((v) => v.id === e.target)?.title);
    expect(targets.sort()).toEqual(["centos1", "centos2"]);
    expect(overlayEdges.every((e) => e.kind === "overlay")).toBe(true);
    const lan = graph.vertices.filter((v) => v.kind === "lan");
    expect(lan).toHaveLength(1);
    const macvlanLinks = graph.edges.filter((e) => e.source === lan[0]?.id && e.kind === "macvlan");
    expect(macvlanLinks).toHaveLength(2);
    expect(graph.edges.filter((e) => e.kind === "uplink").map((e) => e.label)).toEqual([
      "eth0 10.0.0.11",
      "eth0 10.0.0.12",
    ]);
    const { texts } = parseSvg(renderSvg(await layoutGraph(graph)));
    expect(texts.filter((t) => t === "net_overlay")).toHaveLength(1);
    expect(texts.filter((t) => t === "macvlan_1")).toHaveLength(2);
    expect(texts).toContain("tcp 8080→80 (external 40001)");
  });

  it("lays out a 30-node instance readably: every node drawn, inside its machine, none overlapping", async () => {
    const input: TopologyInput = {
      title: "Instance alice",
      ...sampleInstance({ student: "alice", nodes: 30, networks: 4 }),
    };
    const started = performance.now();
    const layout = await layoutGraph(buildGraph(input));
    expect(performance.now() - started).toBeLessThan(10_000);
    const nodes = layout.vertices.filter((v) => v.kind === "node");
    expect(nodes).toHaveLength(30);
    const machine = layout.vertices.find((v) => v.kind === "machine");
    if (!machine) {
      throw new Error("no machine box");
    }
    const leaves = layout.vertices.filter((v) => v.kind !== "machine" && v.kind !== "group");
    for (const leaf of leaves.filter((v) => v.parent === machine.id)) {
      expect(leaf.x).toBeGreaterThanOrEqual(machine.x);
      expect(leaf.y).toBeGreaterThanOrEqual(machine.y);
      expect(leaf.x + leaf.width).toBeLessThanOrEqual(machine.x + machine.width);
      expect(leaf.y + leaf.height).toBeLessThanOrEqual(machine.y + machine.height);
    }
    for (const [i, a] of leaves.entries()) {
      for (const b of leaves.slice(i + 1)) {
        const apart =
          a.x + a.width <= b.x || b.x + b.width <= a.x || a.y + a.height <= b.y || b.y + b.height <= a.y;
        expect(apart, `${a.title} and ${b.title} overlap`).toBe(true);
      }
    }
    // Boxes have room for their text: 12px lines, none cut.
    expect(nodes.every((n) => n.height >= 16 * (1 + n.lines.length))).toBe(true);
    const svg = renderSvg(layout);
    const { texts } = parseSvg(svg);
    for (const node of input.nodes) {
      expect(texts).toContain(node.name);
    }
    expect(layout.width).toBeLessThan(3000);
    expect(layout.height).toBeLessThan(5000);
  });

  it("draws a 30-instance lab as 30 groups within bounds", async () => {
    const input = sampleLab(30);
    const layout = await layoutGraph(buildGraph(input));
    expect(layout.vertices.filter((v) => v.kind === "group")).toHaveLength(30);
    expect(layout.vertices.filter((v) => v.kind === "node")).toHaveLength(60);
    // Packed into rows, not one long line.
    expect(layout.width).toBeLessThan(MAX_SVG_SIDE);
    expect(layout.height).toBeLessThan(MAX_SVG_SIDE);
    expect(layout.width / layout.height).toBeLessThan(4);
    const svg = renderSvg(layout);
    expect(svg.length).toBeLessThan(1_000_000);
    const { texts } = parseSvg(svg);
    expect(texts.filter((t) => /^instance s\d\d$/.test(t))).toHaveLength(30);
  });

  it("collapses instances past the limit into a summary and says so", async () => {
    const input = sampleLab(45);
    const graph = buildGraph(input);
    expect(graph.vertices.filter((v) => v.kind === "group")).toHaveLength(40);
    const note = graph.vertices.find((v) => v.kind === "note");
    expect(note?.title).toBe("5 more instances not drawn");
    expect(note?.lines[0]).toBe("instance s41, instance s42, instance s43, instance s44, instance s45");
    expect(graph.subtitle).toContain("5 of 45 instances are not drawn (see their own pictures)");
    const { texts } = parseSvg(renderSvg(await layoutGraph(graph)));
    expect(texts).toContain("5 more instances not drawn");
    expect(texts).not.toContain("instance s41");
  });

  it("draws at most the limit of nodes per machine and says how many it left out", () => {
    const input: TopologyInput = { title: "big", ...sampleInstance({ student: "a", nodes: 70 }) };
    const graph = buildGraph(input);
    expect(graph.vertices.filter((v) => v.kind === "node")).toHaveLength(60);
    expect(graph.vertices.find((v) => v.kind === "note")?.title).toBe("10 more nodes not drawn");
    expect(graph.subtitle).toEqual(["bdc01: 10 more nodes not drawn"]);
  });

  it("cuts a long name in its box and keeps it whole in the tooltip", async () => {
    const long = `n${"x".repeat(200)}`;
    const input: TopologyInput = {
      title: "t",
      ...sampleInstance({ student: "a", nodes: 1, names: { node: long } }),
    };
    const { texts, titles } = parseSvg(await renderTopology(input, "svg"));
    expect(texts.some((t) => t.startsWith("nxxx") && t.endsWith("…") && t.length === 56)).toBe(true);
    expect(titles.some((t) => t.startsWith(long))).toBe(true);
  });
});

describe("Mermaid", () => {
  it("writes one machine as a valid flowchart naming every node and network", () => {
    const input: TopologyInput = {
      title: "Machine bdc01",
      ...sampleInstance({ student: "alice", nodes: 4 }),
    };
    const text = renderMermaid(buildGraph(input));
    const { labels } = checkMermaid(text);
    const names = labels.map((l) => unescapeMermaid(l).split("<br/>")[0]);
    for (const name of [...input.networks.map((n) => n.name), ...input.nodes.map((n) => n.name)]) {
      expect(names).toContain(name);
    }
    expect(names).toContain("LAN alice-lan");
    expect(text).toContain("tcp 8080→80 (external 32768)");
  });

  it("writes two machines with an overlay and macvlan links", () => {
    const text = renderMermaid(buildGraph(twoHostInput()));
    checkMermaid(text);
    expect(text).toMatch(
      /subgraph v\d+\["bdc01<br\/>machine alice-bdc01<br\/>eth0 10.0.0.11 on alice-lan"\]/,
    );
    expect(text.match(/\{\{"net_overlay/g)).toHaveLength(1);
    expect(text.match(/ -\.-\|"eth0"\| /g)).toHaveLength(2);
    expect(text.match(/ -\.-\|"parent eth0"\| /g)).toHaveLength(2);
    expect(text).toMatch(/ ===\|"eth0 10.0.0.12"\| /);
  });

  it("escapes hostile names so they cannot end a label or inject markup", () => {
    const text = renderMermaid(buildGraph(hostileInput()));
    const { labels } = checkMermaid(text);
    const decoded = labels.map(unescapeMermaid).join("\n");
    for (const name of Object.values(HOSTILE)) {
      expect(decoded).toContain(name);
    }
    expect(text.split("\n")[0]).toBe(`%% Machine ${escapeMermaid(HOSTILE.machine)}`);
  });

  it("writes a whole lab with a subgraph per instance", () => {
    const { ids } = checkMermaid(renderMermaid(buildGraph(sampleLab(30))));
    expect(ids.size).toBe(30 * (1 + 1 + 1 + 3 + 2));
  });
});
