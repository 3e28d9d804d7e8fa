import pino, { type DestinationStream, type Logger as PinoLogger } from "pino";

/** Structured logging: one JSON object per line, through pino. */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  /** A logger that adds `fields` to every line (a request's id, a machine's name). */
  child(fields: Record<string, unknown>): Logger;
}

export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";

export interface LoggerOptions {
  /** Lowest level written; default `LABNET_LOG_LEVEL`, else `info`. */
  level?: LogLevel;
  /** Where lines go; default stderr (so stdout stays for what a process prints for people). */
  destination?: DestinationStream;
}

/** Field names whose values are secrets wherever they appear, at any depth. */
const SECRET_KEYS = new Set(["authorization", "token", "secret", "password", "cookie", "adminToken"]);
const REDACTED = "[redacted]";

/** Labnet API tokens (`lnt_…`): scrubbed from every string of a line, whatever its key. */
const TOKEN_PATTERN = /lnt_[A-Za-z0-9_-]+/g;
const SCRUBBED = "lnt_[redacted]";

/**
 * Strings with a token in them scrubbed and values under secret keys redacted, down through
 * objects and arrays (errors kept as objects). One walk of the line does both: pino's own
 * `redact` (wildcard paths) cost each line about as much as formatting it.
 */
export function scrubSecrets(value: unknown, depth = 0): unknown {
  if (typeof value === "string") {
    return value.includes("lnt_") ? value.replace(TOKEN_PATTERN, SCRUBBED) : value;
  }
  if (depth > 8 || value === null || typeof value !== "object") {
    return value;
  }
  if (value instanceof Error) {
    // Its message and stack are no own enumerable properties: serialize first, then scrub.
    return scrubSecrets(pino.stdSerializers.err(value), depth + 1);
  }
  if (Array.isArray(value)) {
    return value.map((v) => scrubSecrets(v, depth + 1));
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = SECRET_KEYS.has(k) && v !== undefined && v !== null ? REDACTED : scrubSecrets(v, depth + 1);
  }
  return out;
}

/** An Error's message and stack (pino's serializer), scrubbed like everything else. */
function serializeError(value: unknown): unknown {
  return value instanceof Error ? pino.stdSerializers.err(value) : value;
}

function wrap(logger: PinoLogger): Logger {
  return {
    debug: (m, f) => logger.debug(f ?? {}, m),
    info: (m, f) => logger.info(f ?? {}, m),
    warn: (m, f) => logger.warn(f ?? {}, m),
    error: (m, f) => logger.error(f ?? {}, m),
    // A child's fields are written on every line of it: scrubbed once, here.
    child: (fields) => wrap(logger.child(scrubSecrets(fields) as Record<string, unknown>)),
  };
}

/**
 * A logger for `component`: JSON lines with `time`, `level`, `component`, `message` and the
 * fields. Secrets never reach a line: values under secret-looking keys (`authorization`,
 * `token`, `password`, ...) are redacted and any `lnt_…` token inside any string is scrubbed.
 * Errors passed as `err` or `error` keep their stack.
 *
 * @example
 * const log = createLogger("gateway");
 * log.child({ requestId }).info("request", { method: "GET", status: 200 });
 */
export function createLogger(component: string, options: LoggerOptions = {}): Logger {
  const level = options.level ?? (process.env.LABNET_LOG_LEVEL as LogLevel | undefined) ?? "info";
  const logger = pino(
    {
      level,
      base: { component },
      messageKey: "message",
      timestamp: pino.stdTimeFunctions.isoTime,
      serializers: { err: serializeError, error: serializeError },
      formatters: {
        level: (label) => ({ level: label }),
        log: (object) => scrubSecrets(object) as Record<string, unknown>,
      },
      hooks: {
        logMethod(args, method) {
          method.apply(
            this,
            args.map((a) => (typeof a === "string" ? scrubSecrets(a) : a)) as Parameters<typeof method>,
          );
        },
      },
    },
    options.destination ?? sharedStderr(),
  );
  return wrap(logger);
}

let stderr: ReturnType<typeof pino.destination> | undefined;

/** Lines are written once this many bytes wait, or this often (ms), whichever comes first. */
const BUFFERED_BYTES = 4096;
const FLUSH_EVERY_MS = 200;

/**
 * One writer of stderr for every logger of the process, asynchronous and buffered: a line
 * costs the caller no write of its own (a write to a pipe or file is a system call that costs
 * more than formatting the line; the gateway logs every request), lines leave in writes of
 * about 4 KiB or every 200 ms, and lines of all loggers stay whole and in order. What waits
 * is written synchronously at exit, a crash's last lines included.
 */
function sharedStderr(): ReturnType<typeof pino.destination> {
  if (!stderr) {
    const destination = pino.destination({
      fd: 2,
      sync: false,
      minLength: BUFFERED_BYTES,
      periodicFlush: FLUSH_EVERY_MS,
    });
    process.on("exit", () => {
      try {
        destination.flushSync();
      } catch {
        // Nothing more can be done for a stderr that refuses writes at exit.
      }
    });
    stderr = destination;
  }
  return stderr;
}
