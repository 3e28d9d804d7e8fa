/**
 * The reads' open loop in a thread of its own (loaded by read-loop.mjs, see
 * {@link openReadLoop}): a reader does not share the burst clients' event loop, so a read's
 * latency is the gateway's, not the time the bench took to get round to its answer. Posts
 * `ready` once loaded; runs on `start`, answers `stop` with what it saw.
 */
import { parentPort, workerData } from "node:worker_threads";
import { Api } from "./http";
import { startReads } from "./labnet";

interface ReadLoopData {
  baseUrl: string;
  token: string;
  rate: number;
  nodeIds: string[];
  networkId: string;
}

const data = workerData as ReadLoopData;
const api = new Api(data.baseUrl, data.token);
let reads: ReturnType<typeof startReads> | undefined;
parentPort?.on("message", (message: "start" | "stop") => {
  if (message === "start") {
    reads = startReads(api, data.rate, data.nodeIds, data.networkId);
    return;
  }
  void (reads ?? startReads(api, data.rate, data.nodeIds, data.networkId))
    .stop()
    .then(async (load) => {
      await api.close();
      parentPort?.postMessage(load);
    })
    .catch((error: unknown) => parentPort?.postMessage({ error: String(error) }));
});
parentPort?.postMessage("ready");
