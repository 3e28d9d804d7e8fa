import { registerHostWithDefaults } from "@labnet/commands";
import { createDb, touchHost, untilDatabaseAvailable } from "@labnet/db";
import { DEFAULT_ADDRESS_POOLS } from "@labnet/ipam";
import { createLogger } from "@labnet/log";
import { createRedisConnection, executorMetricsKey } from "@labnet/queue";
import { loadExecutorConfig } from "./config";
import { convergeNames, createNameService } from "./dns/name-service";
import { netnsSockets } from "./dns/netns-sockets";
import { createHostConverger } from "./host-converger";
import {
  createExecRunner,
  detectBridgeNetfilter,
  detectCapabilities,
  detectHostNetnsPath,
  enableIpForward,
  sweepStaleUsernsPins,
} from "./kernel";
import { createMachineFleet, type MachineFleet, machineNetnsOwners } from "./machines";
import { createExecutorMetrics, startMetricsPublisher } from "./metrics";
import { wakeOnOperations } from "./operation-wakeups";
import { lowerPriority } from "./priority";
import { labHostProbeScope } from "./probes";
import { startWorker } from "./worker";

/**
 * The executor of one lab host: the host is the network namespace this process runs in.
 * Registers the host, converges the kernel to Postgres, then consumes the host's queue.
 */
async function main(): Promise<void> {
  const log = createLogger("executor");
  const config = loadExecutorConfig();
  if (config.LABNET_EXECUTOR_NICE > 0) {
    // Before any process is started: they inherit it.
    lowerPriority(config.LABNET_EXECUTOR_NICE);
  }
  const runner = createExecRunner();
  const {
    db,
    sql,
    close: closeDb,
  } = createDb(config.DATABASE_URL, {
    max: 4,
    applicationName: "labnet-executor",
    genericPlans: true,
  });

  const capabilities = await detectCapabilities(runner, { netnsPrefix: config.LABNET_NETNS_PREFIX });
  const bridgeNetfilter = await detectBridgeNetfilter();
  const netnsPath = (await detectHostNetnsPath()) ?? null;
  // Started before Postgres (a reboot of both, an outage): wait for it rather than exit.
  const host = await untilDatabaseAvailable(
    () =>
      registerHostWithDefaults({
        ctx: { db, addressPools: DEFAULT_ADDRESS_POOLS, defaultMtu: 1500 },
        input: {
          name: config.LABNET_HOST_NAME,
          netnsPrefix: config.LABNET_NETNS_PREFIX,
          underlayAddress: config.LABNET_UNDERLAY_ADDRESS || null,
          capabilities: { ...capabilities, bridgeNetfilter },
          netnsPath,
          portRangeStart: config.LABNET_PORT_RANGE.start,
          portRangeEnd: config.LABNET_PORT_RANGE.end,
        },
      }),
    {
      onRetry: (error, delayMs, attempt) =>
        log.warn("Postgres unavailable, retrying registration", { attempt, delayMs, error: String(error) }),
    },
  );
  log.info("host registered", { host: host.id, name: host.name, capabilities });
  if (config.LABNET_MANAGE_IP_FORWARD === "true") {
    await enableIpForward();
  }

  const names = createNameService({
    netnsPrefix: config.LABNET_NETNS_PREFIX,
    log,
    hostResolvConf: config.LABNET_HOST_RESOLV_CONF,
    forwardTimeoutMs: config.LABNET_DNS_FORWARD_TIMEOUT_MS,
  });
  const metrics = createExecutorMetrics(host.name);
  // Set once the fleet exists: the lab host's converges may have just built a machine's namespace.
  let fleet: MachineFleet | undefined;
  const converger = createHostConverger({
    metrics,
    db,
    runner,
    hostId: host.id,
    netnsPrefix: config.LABNET_NETNS_PREFIX,
    ownAddresses: [
      ...(capabilities.addresses ?? []).map((a) => a.address),
      ...(config.LABNET_UNDERLAY_ADDRESS ? [`${config.LABNET_UNDERLAY_ADDRESS}/32`] : []),
    ],
    log,
    names: convergeNames(names),
    afterSettle: async (report) =>
      fleet?.kickMachines(
        report.operations.filter((op) => op.targetType === "node").map((op) => op.targetId),
      ),
    netnsOwners: (netns) => machineNetnsOwners(db, host.id, netns),
  });
  fleet = createMachineFleet({
    metrics,
    db,
    runner,
    host,
    hostConverger: converger,
    log,
    namesOf: (machine) => {
      const machineNames = createNameService({
        netnsPrefix: machine.netnsPrefix,
        log,
        hostResolvConf: config.LABNET_HOST_RESOLV_CONF,
        forwardTimeoutMs: config.LABNET_DNS_FORWARD_TIMEOUT_MS,
        sockets: netnsSockets(machine.netnsPath ?? ""),
      });
      return {
        names: convergeNames(machineNames),
        close: () => machineNames.close(),
      };
    },
  });
  const machines = fleet;
  const reconcile = () =>
    machines
      .requestAll("all")
      .then(() => sweepStaleUsernsPins(runner, config.LABNET_NETNS_PREFIX))
      .catch((error) => log.error("reconcile failed", { error: String(error) }));
  await reconcile();
  log.info("initial reconcile done");

  const wakeups = await wakeOnOperations(sql, (hostId) => machines.knownConverger(hostId), log);
  const connection = createRedisConnection(config.REDIS_URL, "worker");
  const worker = startWorker({
    hostId: host.id,
    connection,
    queuePrefix: config.LABNET_QUEUE_PREFIX,
    convergerOf: (hostId) => machines.converger(hostId),
    runnerOf: (hostId) => machines.runnerOf(hostId),
    probeScope: () => labHostProbeScope(db, host.id, config.LABNET_NETNS_PREFIX),
    log,
  });
  const heartbeat = setInterval(() => {
    touchHost(db, host.id).catch((error) => log.warn("heartbeat failed", { error: String(error) }));
  }, config.LABNET_HEARTBEAT_MS);
  const reconcileTimer = setInterval(reconcile, config.LABNET_RECONCILE_MS);
  const publisher = startMetricsPublisher({
    redis: connection,
    key: executorMetricsKey(config.LABNET_QUEUE_PREFIX, host.id),
    registry: metrics.registry,
    intervalMs: config.LABNET_HEARTBEAT_MS,
    log,
  });
  log.info("executor ready", { host: host.name, queue: worker.name });

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) {
      return;
    }
    stopping = true;
    log.info("stopping", { signal });
    clearInterval(heartbeat);
    clearInterval(reconcileTimer);
    publisher.stop();
    await wakeups.stop();
    await worker.close(); // lets the running job finish
    await machines.close();
    await converger.close();
    await names.close();
    connection.disconnect();
    await closeDb();
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
}

main().catch((error) => {
  process.stderr.write(
    `executor failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
