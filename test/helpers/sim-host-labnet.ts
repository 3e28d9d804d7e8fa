import { inject } from "vitest";
import { waitForHostOnline } from "./kernel-state";
import { type StartTestLabnetOptions, startTestLabnet, type TestLabnet } from "./labnet";
import { createSimHost, type SimHost } from "./netns";
import type { TestProcess } from "./processes";

/** A test Labnet with one sim host whose executor is online: what most e2e files start with. */
export interface SimHostLabnet {
  labnet: TestLabnet;
  host: SimHost;
  /** The host's executor, as started (a file that restarts it keeps track of the new one). */
  executor: TestProcess;
}

export interface StartSimHostLabnetOptions {
  labnet?: StartTestLabnetOptions;
  /** The executor's environment on top of the stack's (see TestLabnet.startExecutor). */
  executorEnv?: Record<string, string>;
  /** Runs once the host's namespaces exist, before its executor starts. */
  prepareHost?: (host: SimHost) => Promise<void>;
}

/**
 * Starts a test Labnet, creates sim host `<runPrefix><name>` (outside world at 198.18.<index>.2,
 * `index` unique among the test files), starts its executor and waits until it is online. When a
 * step fails, what it started goes again before the error is thrown; otherwise stop the Labnet and
 * destroy the host in `afterAll`.
 */
export async function startSimHostLabnet(
  name: string,
  index: number,
  options: StartSimHostLabnetOptions = {},
): Promise<SimHostLabnet> {
  const labnet = await startTestLabnet(options.labnet);
  let host: SimHost | undefined;
  try {
    host = await createSimHost(inject("runPrefix"), name, { withOutside: true, index });
    await options.prepareHost?.(host);
    const executor = labnet.startExecutor(host.hostNetns, options.executorEnv);
    await waitForHostOnline(labnet, host.hostNetns);
    return { labnet, host, executor };
  } catch (error) {
    await labnet.stop();
    await host?.destroy();
    throw error;
  }
}
