// Worker entry of the reads' open loop: a worker thread does not inherit the bench's
// `--import tsx`, so it registers tsx itself before loading the TypeScript loop.
import { register } from "tsx/esm/api";

register();
await import("./read-loop.ts");
