import { PAD_X, PAD_Y, type PlacedEdge, type PlacedVertex, type TopologyLayout } from "./layout";
import type { EdgeKind, VertexKind } from "./model";
import { escapeXml, FONT_SIZE, LINE_HEIGHT, TITLE_FONT_SIZE, textWidth } from "./text";

const FONT_FAMILY = "DejaVu Sans Mono, Menlo, Consolas, monospace";

const BOX_STYLE: Readonly<Record<VertexKind, { fill: string; stroke: string; dash?: string; rx: number }>> = {
  group: { fill: "#f6f6fa", stroke: "#8a8fa3", rx: 10 },
  machine: { fill: "#eaf2fb", stroke: "#4a78b0", rx: 8 },
  lan: { fill: "#fff3d3", stroke: "#b8860b", rx: 14 },
  network: { fill: "#e3f3e6", stroke: "#3d8b4f", rx: 14 },
  node: { fill: "#ffffff", stroke: "#555b66", rx: 4 },
  note: { fill: "#fffbe6", stroke: "#b08900", dash: "5 3", rx: 4 },
};

/** Networks are coloured by driver. */
const DRIVER_STYLE: Readonly<Record<string, { fill: string; stroke: string }>> = {
  bridge: { fill: "#e3f3e6", stroke: "#3d8b4f" },
  macvlan: { fill: "#fde8e8", stroke: "#c04848" },
  overlay: { fill: "#efe6fb", stroke: "#7b4fc0" },
};

const EDGE_STYLE: Readonly<Record<EdgeKind, { stroke: string; width: number; dash?: string }>> = {
  attach: { stroke: "#6b7280", width: 1.2 },
  uplink: { stroke: "#b8860b", width: 2 },
  overlay: { stroke: "#7b4fc0", width: 1.6, dash: "6 3" },
  macvlan: { stroke: "#c04848", width: 1.6, dash: "6 3" },
};

/** How far a picture may grow, in px: a layout past it is scaled down to fit. */
export const MAX_SVG_SIDE = 20_000;

/**
 * Writes a laid-out topology as one standalone SVG document: a title, then boxes outside in
 * (groups, machines, then LANs, networks, nodes) and the links between them. Every piece of
 * text is escaped and every box has a `<title>` with its full text (a browser's tooltip).
 */
export function renderSvg(layout: TopologyLayout): string {
  const { graph } = layout;
  const headerLines = [graph.title, ...graph.subtitle];
  const header = 14 + headerLines.length * (LINE_HEIGHT + 2);
  const contentWidth = Math.max(
    layout.width,
    ...headerLines.map((l, i) => textWidth(l, i === 0 ? TITLE_FONT_SIZE + 3 : FONT_SIZE) + 24),
  );
  const rawWidth = Math.ceil(contentWidth);
  const rawHeight = Math.ceil(layout.height + header);
  const scale = Math.min(1, MAX_SVG_SIDE / Math.max(rawWidth, rawHeight));
  const width = Math.ceil(rawWidth * scale);
  const height = Math.ceil(rawHeight * scale);
  const out: string[] = [];
  out.push('<?xml version="1.0" encoding="UTF-8"?>');
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${rawWidth} ${rawHeight}" font-family="${FONT_FAMILY}" font-size="${FONT_SIZE}">`,
  );
  out.push(`<title>${escapeXml(graph.title)}</title>`);
  out.push(`<rect x="0" y="0" width="${rawWidth}" height="${rawHeight}" fill="#ffffff"/>`);
  headerLines.forEach((line, i) => {
    const size = i === 0 ? TITLE_FONT_SIZE + 3 : FONT_SIZE;
    const weight = i === 0 ? ' font-weight="bold"' : "";
    out.push(
      `<text x="12" y="${12 + (i + 1) * (LINE_HEIGHT + 2) - 4}" font-size="${size}"${weight} fill="#1f2937">${escapeXml(line)}</text>`,
    );
  });
  out.push(`<g transform="translate(0 ${header})">`);
  const containers = layout.vertices
    .filter((v) => v.kind === "group" || v.kind === "machine")
    .sort((a, b) => a.depth - b.depth);
  for (const box of containers) {
    out.push(renderBox(box));
  }
  for (const edge of layout.edges) {
    out.push(renderEdge(edge));
  }
  for (const box of layout.vertices.filter((v) => v.kind !== "group" && v.kind !== "machine")) {
    out.push(renderBox(box));
  }
  out.push("</g>");
  out.push("</svg>");
  return `${out.join("\n")}\n`;
}

function renderBox(box: PlacedVertex): string {
  const base = BOX_STYLE[box.kind];
  const colour = box.kind === "network" ? (DRIVER_STYLE[box.driver ?? ""] ?? base) : base;
  const dash = base.dash ? ` stroke-dasharray="${base.dash}"` : "";
  const tooltip = [box.title, ...box.lines].join("\n");
  const parts = [
    `<g class="${box.kind}">`,
    `<title>${escapeXml(tooltip)}</title>`,
    `<rect x="${n(box.x)}" y="${n(box.y)}" width="${n(box.width)}" height="${n(box.height)}" rx="${base.rx}" fill="${colour.fill}" stroke="${colour.stroke}" stroke-width="1.4"${dash}/>`,
  ];
  const x = box.x + PAD_X;
  let y = box.y + PAD_Y + LINE_HEIGHT - 4;
  parts.push(
    `<text x="${n(x)}" y="${n(y)}" font-size="${TITLE_FONT_SIZE}" font-weight="bold" fill="#111827">${escapeXml(box.shownTitle)}</text>`,
  );
  for (const line of box.shownLines) {
    y += LINE_HEIGHT;
    parts.push(`<text x="${n(x)}" y="${n(y)}" fill="#374151">${escapeXml(line)}</text>`);
  }
  parts.push("</g>");
  return parts.join("");
}

function renderEdge(edge: PlacedEdge): string {
  const style = EDGE_STYLE[edge.kind];
  const dash = style.dash ? ` stroke-dasharray="${style.dash}"` : "";
  const d = edge.paths
    .filter((path) => path.length >= 2)
    .map((path) => path.map((p, i) => `${i === 0 ? "M" : "L"}${n(p.x)} ${n(p.y)}`).join(" "))
    .join(" ");
  const parts = [`<g class="edge ${edge.kind}">`];
  if (d !== "") {
    parts.push(`<path d="${d}" fill="none" stroke="${style.stroke}" stroke-width="${style.width}"${dash}/>`);
  }
  if (edge.labelBox) {
    const { x, y, width, height, text } = edge.labelBox;
    parts.push(
      `<rect x="${n(x)}" y="${n(y)}" width="${n(width)}" height="${n(height)}" fill="#ffffff" fill-opacity="0.85"/>`,
      `<text x="${n(x + 3)}" y="${n(y + height - 3)}" font-size="${FONT_SIZE - 2}" fill="${style.stroke}">${escapeXml(text)}</text>`,
    );
  }
  parts.push("</g>");
  return parts.join("");
}

/** A coordinate with at most one decimal. */
function n(value: number): string {
  return String(Math.round(value * 10) / 10);
}
