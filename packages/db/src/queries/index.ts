export * from "./hosts";
export * from "./ipam";
export * from "./networks";
export * from "./nodes";
export * from "./operations";
export * from "./postgres-error";
export * from "./tokens";
