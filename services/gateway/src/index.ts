export { createApp, type GatewayApp, type GatewayEnv } from "./app";
export { GatewayConfig, loadGatewayConfig } from "./config";
export { serveDockerUpgrades } from "./docker/upgrade";
export { indexOperations, type OperationSpec, type ParameterSpec } from "./http/openapi-operations";
export {
  CONTRACT_MISMATCH,
  createResponseValidator,
  type ResponseValidator,
  validatingFetch,
} from "./http/validate-response";
export type { AppDeps } from "./routes/deps";
export { createGatewayRuntime, type GatewayRuntime, type GatewayRuntimeOptions } from "./runtime";
export { type EventHub, startEventHub } from "./services/event-hub";
export { DEFAULT_EVENT_STREAM_LIMITS, type EventStreamLimits } from "./services/event-stream";
export { createOperationWaiter, type OperationWaiter } from "./services/operation-waiter";
