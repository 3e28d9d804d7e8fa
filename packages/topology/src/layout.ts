import ELK, { type ElkExtendedEdge, type ElkLabel, type ElkNode } from "elkjs/lib/elk.bundled.js";
import { DEFAULT_LIMITS, type Edge, type TopologyGraph, type TopologyLimits, type Vertex } from "./model";
import { FONT_SIZE, LINE_HEIGHT, TITLE_FONT_SIZE, textWidth, truncate } from "./text";

/** Inner margin of a box, in px. */
export const PAD_X = 10;
export const PAD_Y = 6;
const MIN_LEAF_WIDTH = 110;

export interface Point {
  x: number;
  y: number;
}

export interface PlacedVertex extends Vertex {
  x: number;
  y: number;
  width: number;
  height: number;
  /** How deep it is nested (0 at the top): boxes are drawn outside in. */
  depth: number;
  /** The title and lines as drawn (cut to the line limit; the full text is the tooltip). */
  shownTitle: string;
  shownLines: string[];
}

export interface PlacedEdge extends Edge {
  /** Polylines, one per section, in the picture's coordinates. */
  paths: Point[][];
  labelBox?: { x: number; y: number; width: number; height: number; text: string };
}

export interface TopologyLayout {
  graph: TopologyGraph;
  width: number;
  height: number;
  vertices: PlacedVertex[];
  edges: PlacedEdge[];
}

let elk: InstanceType<typeof ELK> | undefined;

/**
 * Lays the graph out with ELK: the layered algorithm left to right (LANs, then machines;
 * in a machine its networks, then its nodes), with machines and groups as compound nodes
 * and edges routed orthogonally across them. A whole lab's groups (instances) are each laid
 * out that way and packed into rows by ELK's rectangle packing. Coordinates are absolute.
 */
export async function layoutGraph(
  graph: TopologyGraph,
  limits: TopologyLimits = DEFAULT_LIMITS,
): Promise<TopologyLayout> {
  elk ??= new ELK();
  const byId = new Map(graph.vertices.map((v) => [v.id, v]));
  const children = new Map<string | null, Vertex[]>();
  for (const vertex of graph.vertices) {
    const list = children.get(vertex.parent) ?? [];
    list.push(vertex);
    children.set(vertex.parent, list);
  }
  const shown = new Map(
    graph.vertices.map((v) => [
      v.id,
      {
        title: truncate(v.title, limits.maxLineChars),
        lines: v.lines.map((l) => truncate(l, limits.maxLineChars)),
      },
    ]),
  );
  const groupOf = (id: string): string | null => {
    let current = byId.get(id);
    while (current && current.kind !== "group") {
      current = current.parent ? byId.get(current.parent) : undefined;
    }
    return current?.id ?? null;
  };

  // Edges go into the group that holds both ends (each group is laid out on its own), or the root.
  const edgesIn = new Map<string | null, ElkExtendedEdge[]>();
  const straight: Edge[] = [];
  for (const edge of graph.edges) {
    const home = graph.grouped ? groupOf(edge.source) : null;
    if (graph.grouped && home !== groupOf(edge.target)) {
      straight.push(edge);
      continue;
    }
    const list = edgesIn.get(home) ?? [];
    list.push({
      id: edge.id,
      sources: [edge.source],
      targets: [edge.target],
      ...(edge.label ? { labels: [edgeLabel(edge.label)] } : {}),
    });
    edgesIn.set(home, list);
  }

  const toElk = (vertex: Vertex): ElkNode => {
    const text = shown.get(vertex.id) ?? { title: vertex.title, lines: vertex.lines };
    const kids = children.get(vertex.id) ?? [];
    const contentWidth = Math.max(
      textWidth(text.title, TITLE_FONT_SIZE),
      ...text.lines.map((l) => textWidth(l, FONT_SIZE)),
    );
    const textHeight = LINE_HEIGHT * (1 + text.lines.length);
    if (vertex.kind === "group" || vertex.kind === "machine") {
      const header = textHeight + PAD_Y * 2;
      return {
        id: vertex.id,
        layoutOptions: {
          "elk.padding": `[top=${header + 8},left=14,bottom=14,right=14]`,
          "elk.nodeSize.constraints": "MINIMUM_SIZE",
          "elk.nodeSize.minimum": `(${Math.ceil(contentWidth + PAD_X * 2)}, ${header + 30})`,
          ...(vertex.kind === "group" ? LAYERED : {}),
        },
        children: kids.map(toElk),
        edges: vertex.kind === "group" ? (edgesIn.get(vertex.id) ?? []) : [],
      };
    }
    return {
      id: vertex.id,
      width: Math.ceil(Math.max(MIN_LEAF_WIDTH, contentWidth + PAD_X * 2)),
      height: textHeight + PAD_Y * 2,
    };
  };

  const root: ElkNode = {
    id: "root",
    layoutOptions: graph.grouped
      ? {
          "elk.algorithm": "rectpacking",
          "elk.aspectRatio": "1.6",
          "elk.spacing.nodeNode": "24",
          "elk.padding": "[top=12,left=12,bottom=12,right=12]",
          ...COORDINATES,
        }
      : { ...LAYERED, ...COORDINATES, "elk.padding": "[top=12,left=12,bottom=12,right=12]" },
    children: (children.get(null) ?? []).map(toElk),
    edges: edgesIn.get(null) ?? [],
  };

  const placed = await elk.layout(root);
  const vertices: PlacedVertex[] = [];
  const boxes = new Map<string, PlacedVertex>();
  const walk = (node: ElkNode, depth: number) => {
    for (const child of node.children ?? []) {
      const vertex = byId.get(child.id);
      if (vertex) {
        const text = shown.get(vertex.id) ?? { title: vertex.title, lines: vertex.lines };
        const box: PlacedVertex = {
          ...vertex,
          x: child.x ?? 0,
          y: child.y ?? 0,
          width: child.width ?? 0,
          height: child.height ?? 0,
          depth,
          shownTitle: text.title,
          shownLines: text.lines,
        };
        vertices.push(box);
        boxes.set(box.id, box);
      }
      walk(child, depth + 1);
    }
  };
  walk(placed, 0);

  const edges: PlacedEdge[] = [];
  const edgeById = new Map(graph.edges.map((e) => [e.id, e]));
  const collectEdges = (node: ElkNode) => {
    for (const laid of node.edges ?? []) {
      const edge = edgeById.get(laid.id);
      if (!edge) {
        continue;
      }
      const paths = (laid.sections ?? []).map((s) => [s.startPoint, ...(s.bendPoints ?? []), s.endPoint]);
      const label = laid.labels?.[0];
      edges.push({
        ...edge,
        paths,
        ...(label && edge.label
          ? {
              labelBox: {
                x: label.x ?? 0,
                y: label.y ?? 0,
                width: label.width ?? 0,
                height: label.height ?? 0,
                text: label.text ?? edge.label,
              },
            }
          : {}),
      });
    }
    for (const child of node.children ?? []) {
      collectEdges(child);
    }
  };
  collectEdges(placed);
  // Links ELK did not route (between groups packed side by side): a straight line, centre to centre.
  for (const edge of straight) {
    const a = boxes.get(edge.source);
    const b = boxes.get(edge.target);
    if (a && b) {
      edges.push({
        ...edge,
        paths: [
          [
            { x: a.x + a.width / 2, y: a.y + a.height / 2 },
            { x: b.x + b.width / 2, y: b.y + b.height / 2 },
          ],
        ],
      });
    }
  }
  return { graph, width: placed.width ?? 0, height: placed.height ?? 0, vertices, edges };
}

/** Left to right, orthogonal edges, one layout for a box and everything in it. */
const LAYERED: Readonly<Record<string, string>> = {
  "elk.algorithm": "layered",
  "elk.direction": "RIGHT",
  "elk.hierarchyHandling": "INCLUDE_CHILDREN",
  "elk.edgeRouting": "ORTHOGONAL",
  "elk.spacing.nodeNode": "14",
  "elk.layered.spacing.nodeNodeBetweenLayers": "40",
  "elk.spacing.edgeLabel": "2",
  "elk.edgeLabels.placement": "CENTER",
  "elk.layered.nodePlacement.strategy": "NETWORK_SIMPLEX",
};

/** Absolute coordinates for shapes and edges alike. */
const COORDINATES: Readonly<Record<string, string>> = {
  "elk.json.shapeCoords": "ROOT",
  "elk.json.edgeCoords": "ROOT",
};

function edgeLabel(text: string): ElkLabel {
  return { text, width: Math.ceil(textWidth(text, FONT_SIZE - 2) + 6), height: LINE_HEIGHT - 2 };
}
