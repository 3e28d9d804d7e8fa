import type { EdgeKind, TopologyGraph, Vertex } from "./model";
import { cleanText } from "./text";

/**
 * Characters a quoted Mermaid label cannot hold as they are, written as Mermaid's entity
 * codes (`#quot;`, `#35;`): the quote ends the label, `#` starts an entity, `<` `>` `&` would
 * be HTML in the rendered label, a backtick starts a markdown string, `|` ends an edge label.
 */
const MERMAID_ENTITIES: Readonly<Record<string, string>> = {
  '"': "#quot;",
  "#": "#35;",
  "&": "#amp;",
  "<": "#lt;",
  ">": "#gt;",
  "`": "#96;",
  "|": "#124;",
};

/** One line of label text: cleaned, then every special character as an entity code. */
export function escapeMermaid(text: string): string {
  return cleanText(text)
    .replace(/[\t\n\r\ufffd]/g, " ")
    .replace(/["#&<>`|]/g, (ch) => MERMAID_ENTITIES[ch] ?? ch);
}

/** Lines of a label, joined by Mermaid's line break. */
function label(lines: string[]): string {
  return `"${lines
    .filter((l) => l !== "")
    .map(escapeMermaid)
    .join("<br/>")}"`;
}

const SHAPES: Readonly<Record<Vertex["kind"], [string, string]>> = {
  group: ["[", "]"],
  machine: ["[", "]"],
  lan: ["[(", ")]"],
  network: ["{{", "}}"],
  node: ["[", "]"],
  note: [">", "]"],
};

const LINKS: Readonly<Record<EdgeKind, string>> = {
  attach: "---",
  uplink: "===",
  overlay: "-.-",
  macvlan: "-.-",
};

/**
 * The same graph as a Mermaid flowchart (left to right): groups and machines as subgraphs,
 * LANs as cylinders, networks as hexagons, nodes as boxes; overlay and macvlan links dotted,
 * LAN uplinks thick. Ids are the graph's generated ones; every label is quoted and escaped.
 */
export function renderMermaid(graph: TopologyGraph): string {
  const out: string[] = [];
  for (const line of [graph.title, ...graph.subtitle]) {
    out.push(`%% ${escapeMermaid(line)}`);
  }
  out.push("flowchart LR");
  const children = new Map<string | null, Vertex[]>();
  for (const vertex of graph.vertices) {
    const list = children.get(vertex.parent) ?? [];
    list.push(vertex);
    children.set(vertex.parent, list);
  }
  const write = (vertex: Vertex, indent: string) => {
    const text = label([vertex.title, ...vertex.lines]);
    if (vertex.kind === "group" || vertex.kind === "machine") {
      out.push(`${indent}subgraph ${vertex.id}[${text}]`);
      out.push(`${indent}  direction LR`);
      for (const child of children.get(vertex.id) ?? []) {
        write(child, `${indent}  `);
      }
      out.push(`${indent}end`);
      return;
    }
    const [open, close] = SHAPES[vertex.kind];
    out.push(`${indent}${vertex.id}${open}${text}${close}`);
  };
  for (const vertex of children.get(null) ?? []) {
    write(vertex, "  ");
  }
  for (const edge of graph.edges) {
    const link = LINKS[edge.kind];
    const text = edge.label ? `|${label([edge.label])}|` : "";
    out.push(`  ${edge.source} ${link}${text} ${edge.target}`);
  }
  const classes: [string, Vertex["kind"] | `driver:${string}`, string][] = [
    ["lan", "lan", "fill:#fff3d3,stroke:#b8860b"],
    ["bridge", "driver:bridge", "fill:#e3f3e6,stroke:#3d8b4f"],
    ["macvlan", "driver:macvlan", "fill:#fde8e8,stroke:#c04848"],
    ["overlay", "driver:overlay", "fill:#efe6fb,stroke:#7b4fc0"],
    ["note", "note", "fill:#fffbe6,stroke:#b08900,stroke-dasharray:5 3"],
  ];
  for (const [name, match, style] of classes) {
    const ids = graph.vertices
      .filter((v) =>
        match.startsWith("driver:")
          ? v.kind === "network" && `driver:${v.driver}` === match
          : v.kind === match,
      )
      .map((v) => v.id);
    if (ids.length > 0) {
      out.push(`  classDef ${name} ${style}`);
      out.push(`  class ${ids.join(",")} ${name}`);
    }
  }
  return `${out.join("\n")}\n`;
}
