/**
 * What the provision bench measures, from the environment (all optional):
 *
 * | Variable                        | Default          | Meaning                                                     |
 * | ------------------------------- | ---------------- | ----------------------------------------------------------- |
 * | `LABNET_BENCH_SIZES`            | `10,100,300,1000`| Burst sizes N (nodes, one published port each)              |
 * | `LABNET_BENCH_WARMUP`           | `100`            | Nodes of the untimed warm-up burst (and 1 per 5 singles)    |
 * | `LABNET_BENCH_PER_COMMAND_MAX`  | `300`            | Largest N also built one process per command (slow)         |
 * | `LABNET_BENCH_SINGLES`          | `20`             | Sequential single calls (`Prefer: wait=30`); 0 skips them   |
 * | `LABNET_BENCH_READ_BURST`       | `300`            | Burst provisioned while reads run; 0 skips the reads        |
 * | `LABNET_BENCH_READ_RATE`        | `300`            | Open-loop read rate, requests per second                    |
 * | `LABNET_BENCH_REQUEST_COSTS`    | `2`              | Seconds per request kind at saturation; 0 skips them        |
 * | `LABNET_BENCH_CPU_PROFILE`      | unset            | Directory: the gateway and executor write `.cpuprofile`s    |
 * | `LABNET_BENCH_GATEWAY_WORKERS`  | `1`              | The gateway's LABNET_GATEWAY_WORKERS (its default)          |
 * | `LABNET_BENCH_KEEP_LOGS`        | unset            | `1`: keep the services' logs after a run that passed too    |
 */

/**
 * Gateway processes of the bench's stack (every bench: provision, labs, events): the gateway's
 * own default, one, unless the environment says. On this two-core machine, which Postgres, the
 * executor and the bench's clients share with the gateway, a second worker made every request
 * cost the gateway more (a 300-node burst: 2.9-3.4 ms of gateway CPU per node built against
 * 2.3-2.6 with one, 1.9-2.2 per node removed against 1.2-1.3) and the reads beside it waited
 * longer (p99 69-111 ms against 41-69), for the same accept rate.
 */
export function gatewayWorkers(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.LABNET_BENCH_GATEWAY_WORKERS?.trim();
  const value = raw ? Number(raw) : 1;
  if (!Number.isInteger(value) || value < 1 || value > 16) {
    throw new Error(`LABNET_BENCH_GATEWAY_WORKERS: want an integer 1-16, got ${JSON.stringify(raw)}`);
  }
  return value;
}

/** Concurrent HTTP clients of a burst (a lab's worth of scripts). */
export const CLIENTS = 8;
/** Nodes per network: a /24 holds 253 besides its gateway, a bridge 1,023 ports. */
export const NODES_PER_NETWORK = 250;
/** Nodes of the network the reads target (`GET /v1/nodes?network=` lists them all). */
export const READ_NODES = 50;

export interface BenchConfig {
  sizes: number[];
  /** Nodes of the untimed warm-up burst, before anything is measured. */
  warmup: number;
  perCommandMax: number;
  singles: number;
  readBurst: number;
  readRate: number;
  /** Seconds each request kind is sent at saturation (request-costs.ts); 0 skips them. */
  requestCosts: number;
  /** Keep the run's logs (gateway, executor, Postgres) even when it passed. */
  keepLogs: boolean;
}

const LIMITS = { size: 2_000, warmup: 500, singles: 200, readRate: 2_000 };

/** Parses the variables above; throws one error naming every bad one. */
export function loadBenchConfig(env: NodeJS.ProcessEnv = process.env): BenchConfig {
  const problems: string[] = [];
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw.trim() === "") {
      return fallback;
    }
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      problems.push(`${name}: want an integer ${min}-${max}, got ${JSON.stringify(raw)}`);
      return fallback;
    }
    return value;
  };
  const sizesRaw = env.LABNET_BENCH_SIZES?.trim() || "10,100,300,1000";
  const sizes = sizesRaw.split(",").map((part) => Number(part.trim()));
  if (sizes.some((n) => !Number.isInteger(n) || n < 2 || n > LIMITS.size)) {
    problems.push(
      `LABNET_BENCH_SIZES: want comma-separated integers 2-${LIMITS.size}, got ${JSON.stringify(sizesRaw)}`,
    );
  }
  const config: BenchConfig = {
    sizes: [...new Set(sizes)].sort((a, b) => a - b),
    warmup: int("LABNET_BENCH_WARMUP", 100, 4, LIMITS.warmup),
    perCommandMax: int("LABNET_BENCH_PER_COMMAND_MAX", 300, 0, LIMITS.size),
    singles: int("LABNET_BENCH_SINGLES", 20, 0, LIMITS.singles),
    readBurst: int("LABNET_BENCH_READ_BURST", 300, 0, LIMITS.size),
    readRate: int("LABNET_BENCH_READ_RATE", 300, 1, LIMITS.readRate),
    requestCosts: int("LABNET_BENCH_REQUEST_COSTS", 2, 0, 30),
    keepLogs: env.LABNET_BENCH_KEEP_LOGS === "1",
  };
  if (problems.length > 0) {
    throw new Error(`invalid bench configuration:\n  ${problems.join("\n  ")}`);
  }
  return config;
}
