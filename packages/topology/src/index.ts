import { layoutGraph } from "./layout";
import { renderMermaid } from "./mermaid";
import { buildGraph, DEFAULT_LIMITS, type TopologyInput, type TopologyLimits } from "./model";
import { renderSvg } from "./svg";

export { layoutGraph, type PlacedEdge, type PlacedVertex, type TopologyLayout } from "./layout";
export { escapeMermaid, renderMermaid } from "./mermaid";
export * from "./model";
export { MAX_SVG_SIDE, renderSvg } from "./svg";
export { cleanText, escapeXml } from "./text";

export type TopologyFormat = "svg" | "mermaid";

/** Records → graph → (ELK layout →) SVG document or Mermaid flowchart text. */
export async function renderTopology(
  input: TopologyInput,
  format: TopologyFormat,
  limits: TopologyLimits = DEFAULT_LIMITS,
): Promise<string> {
  const graph = buildGraph(input, limits);
  return format === "mermaid" ? renderMermaid(graph) : renderSvg(await layoutGraph(graph, limits));
}
