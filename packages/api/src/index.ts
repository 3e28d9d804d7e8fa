/**
 * @labnet/api: the HTTP contract as TypeScript. Types are generated from openapi/labnet.yaml
 * by `npm run generate`; never edit src/generated/ by hand.
 */
import type { components, operations } from "./generated/labnet";

export { createLabnetClient, type LabnetClient, type LabnetClientOptions } from "./client";
export { type OpenApiDocument, openapiDocument } from "./document";
export type { components, operations, paths } from "./generated/labnet";
export { isProblem, type Problem, type ProblemCode, type ProblemFieldError } from "./problem";

/** Every operationId in the contract. */
export type OperationId = keyof operations;

/** A schema of the contract by name: `Schema<"Network">`. */
export type Schema<Name extends keyof components["schemas"]> = components["schemas"][Name];
