export { assertProbeArgv, inOrigin, isProbeNetns } from "./argv";
export { firstResolvedAddress, type ProbeSpawner, pingedAddress, runProbe } from "./run-probe";
export {
  assertProbesInScope,
  inScope,
  namespacesOf,
  PROBES_AT_ONCE,
  type ProbeScope,
  ProbeScopeError,
  type RunProbesOptions,
  runProbes,
} from "./run-probes";
export { labHostProbeScope } from "./scope";
