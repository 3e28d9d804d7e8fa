export { createApp, type GatewayApp, type GatewayEnv } from "./app";
export { addressPoolsOf, GatewayConfig, loadGatewayConfig } from "./config";
export type { AppDeps } from "./routes/deps";
export { createOperationWaiter, type OperationWaiter } from "./services/operation-waiter";
