export { assertExecArgv, assertExecSpawnArgv, execArgvIn } from "./argv";
export { ExecScopeError, type RunExecDeps, runExec } from "./run-exec";
export { type ExecOutcome, spawnExec } from "./spawn";
