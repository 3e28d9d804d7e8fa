import bundled from "./generated/labnet.bundled.json" with { type: "json" };

/** The parts of an OpenAPI 3.1 document that Labnet's tooling reads; the rest stays `unknown`. */
export interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, unknown>>;
  components: Record<string, Record<string, unknown>>;
}

/**
 * The bundled contract (`openapi/labnet.yaml` with its files folded into `#/components` refs),
 * as committed in `src/generated/labnet.bundled.json`. The gateway validates requests against
 * it and serves it at `/openapi.json`.
 */
export const openapiDocument: OpenApiDocument = bundled;
