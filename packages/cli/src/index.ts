/** @labnet/cli: the `labnet` command (bin/labnet.js), also callable in process for tests. */
export type { CliIo, CliStream } from "./context";
export { createProgram, runCli } from "./program";
