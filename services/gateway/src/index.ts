export { createApp, type GatewayApp, type GatewayEnv } from "./app";
export { GatewayConfig, loadGatewayConfig } from "./config";
export type { AppDeps } from "./routes/deps";
export { createGatewayRuntime, type GatewayRuntime, type GatewayRuntimeOptions } from "./runtime";
export { createOperationWaiter, type OperationWaiter } from "./services/operation-waiter";
