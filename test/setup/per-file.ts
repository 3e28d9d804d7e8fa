/**
 * Runs in every integration/e2e test file: whatever the file started or built and did not
 * clean up (a failed assertion skips the test's own cleanup) is removed after the file.
 */
import "./provided";
import { afterAll } from "vitest";
import { destroySimNetworks } from "../helpers/netns";
import { stopTestProcesses } from "../helpers/processes";

afterAll(async () => {
  await stopTestProcesses();
  await destroySimNetworks();
});
