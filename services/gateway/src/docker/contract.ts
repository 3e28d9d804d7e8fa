/**
 * What the facade hands the commands meets the same rules as a `/v1` request body: its
 * translations are validated against the contract's request schemas, and a refusal names the
 * docker flag the field came from.
 */
import { validateAgainstSchema } from "../http/validate-request";
import { DockerError } from "./errors";

/** Labnet's request fields and the docker flags that fill them. */
const FLAGS: [RegExp, string][] = [
  [/^body\.name/, "the name"],
  [/^body\.hostname/, "--hostname"],
  [/^body\.networks\[\d+\]\.aliases/, "--network-alias"],
  [/^body\.aliases/, "--alias"],
  [/^body(\.networks\[\d+\])?\.ipv4Address/, "--ip"],
  [/^body\.(networks|networkMode)/, "--network"],
  [/^body\.dns\.servers/, "--dns"],
  [/^body\.dns\.search/, "--dns-search"],
  [/^body\.dns\.options/, "--dns-option"],
  [/^body\.extraHosts/, "--add-host"],
  [/^body\.ports/, "-p"],
  [/^body\.exposedPorts/, "--expose"],
  [/^body\.labels/, "--label"],
  [/^body\.ipam\.configs\[\d+\]\.subnet/, "--subnet"],
  [/^body\.ipam\.configs\[\d+\]\.gateway/, "--gateway"],
  [/^body\.ipam\.configs\[\d+\]\.ipRange/, "--ip-range"],
  [/^body\.ipam\.configs\[\d+\]\.auxAddresses/, "--aux-address"],
  [/^body\.options/, "-o"],
  [/^body\.driver/, "--driver"],
];

/** The flag a field of a Labnet request came from, or the field itself. */
export function flagOf(location: string): string {
  return FLAGS.find(([pattern]) => pattern.test(location))?.[1] ?? location;
}

/** Refuses `input` unless it is a valid `schema` (a schema name of the contract), naming the flag at fault. */
export function assertContract(
  schema: "CreateNodeRequest" | "CreateNetworkRequest" | "ConnectNetworkRequest",
  input: unknown,
): void {
  const [first] = validateAgainstSchema(`/components/schemas/${schema}`, input);
  if (first) {
    throw new DockerError(400, `invalid ${flagOf(first.location)}: ${first.location} ${first.message}`);
  }
}
