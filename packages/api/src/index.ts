/**
 * @labnet/api: the HTTP contract as TypeScript. Types are generated from openapi/labnet.yaml
 * by `npm run generate`; never edit src/generated/ by hand.
 */
import type { components, operations } from "./generated/labnet.js";

export { createLabnetClient, type LabnetClient, type LabnetClientOptions } from "./client.js";
export { type OpenApiDocument, openapiDocument } from "./document.js";
export type { components, operations, paths } from "./generated/labnet.js";
export {
  type Operation,
  OperationTimeoutError,
  type WaitForOperationOptions,
  waitForOperation,
} from "./operations.js";
export {
  describeProblem,
  isProblem,
  LabnetProblemError,
  type Problem,
  type ProblemCode,
  type ProblemFieldError,
} from "./problem.js";
export { isFinalOperationState, type OperationState, type Phase, phaseOf } from "./states.js";

/** Every operationId in the contract. */
export type OperationId = keyof operations;

/** A schema of the contract by name: `Schema<"Network">`. */
export type Schema<Name extends keyof components["schemas"]> = components["schemas"][Name];
