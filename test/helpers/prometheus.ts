import parsePrometheusTextFormat, { type PrometheusFamily } from "parse-prometheus-text-format";

/** A `/metrics` answer parsed by a Prometheus text-format parser (not by our own code). */
export interface ParsedMetrics {
  families: PrometheusFamily[];
  /** The family's type, or undefined when absent. */
  type(name: string): string | undefined;
  /** Sum of the samples of counter or gauge `name` whose labels include `labels` (0 when none). */
  value(name: string, labels?: Record<string, string>): number;
  /** Sum of the observation counts (`<name>_count`) of histogram `name` over samples matching `labels`. */
  count(name: string, labels?: Record<string, string>): number;
}

function sum(families: PrometheusFamily[], name: string, labels: Record<string, string>): number {
  // A name may come back as several families (a histogram's lines interleave per label set).
  return families
    .filter((f) => f.name === name)
    .flatMap((f) => f.metrics)
    .filter((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))
    .reduce((total, m) => total + Number(m.value ?? 0), 0);
}

/**
 * Parses (and so validates) the text. The parser folds a labelled histogram into one sample
 * without its labels, so histograms are read a second time declared untyped: their
 * `_bucket`, `_sum` and `_count` lines then come back as families of labelled samples.
 */
export function parseMetrics(text: string): ParsedMetrics {
  const families = parsePrometheusTextFormat(text);
  const flat = parsePrometheusTextFormat(text.replace(/^# TYPE (\S+) histogram$/gm, "# TYPE $1 untyped"));
  return {
    families,
    type: (name) => families.find((f) => f.name === name)?.type,
    value: (name, labels = {}) => sum(families, name, labels),
    count: (name, labels = {}) => sum(flat, `${name}_count`, labels),
  };
}
