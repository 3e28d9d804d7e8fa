/** The package ships no types: its output is prom2json's shape, values as strings. */
declare module "parse-prometheus-text-format" {
  export interface PrometheusSample {
    labels?: Record<string, string>;
    value?: string;
    buckets?: Record<string, string>;
    count?: string;
    sum?: string;
  }
  export interface PrometheusFamily {
    name: string;
    help: string;
    type: "COUNTER" | "GAUGE" | "HISTOGRAM" | "SUMMARY" | "UNTYPED";
    metrics: PrometheusSample[];
  }
  // biome-ignore lint/style/noDefaultExport: the package's own (CommonJS) shape
  export default function parsePrometheusTextFormat(text: string): PrometheusFamily[];
}
