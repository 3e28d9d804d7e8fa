/**
 * @labnet/process: running a program to its end, the one way Labnet does it (argv arrays,
 * never a shell; a time limit; one convention for exit codes).
 */
export {
  type CommandResult,
  EXIT_CANNOT_RUN,
  EXIT_TIMED_OUT,
  type RunCommandOptions,
  runCommand,
  runCommandOrThrow,
} from "./run-command";
export { createSpawner, type Spawner, type SpawnerRunOptions, sharedSpawner } from "./spawner";
