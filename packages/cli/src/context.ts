import {
  createLabnetClient,
  describeProblem,
  type LabnetClient,
  type Operation,
  OperationTimeoutError,
  waitForOperation,
} from "@labnet/api";
import type { Command } from "commander";
import { CliError, problemError, toCliError } from "./errors";
import { type Column, type OutputFormat, parseOutputFormat, renderData, renderTable } from "./output";
import { type CliSettings, configFilePath, readConfigFile, resolveSettings } from "./settings";

/** A terminal stream as far as the CLI uses it (process.stdout / process.stderr, or a test's). */
export interface CliStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
  rows?: number;
}

/** What the CLI reads and writes: the process's, or a test's. */
export interface CliIo {
  stdout: CliStream;
  stderr: CliStream;
  env: NodeJS.ProcessEnv;
  /** The user's home directory (for `~/.config/labnet/config.yaml`). */
  home: string;
  /** A fetch instead of the network's (tests pass the in-process gateway's `app.fetch`). */
  fetch?: (request: Request) => Response | Promise<Response>;
  /** Pause between reads while following a lab or a check run (default 500 ms). */
  pollMs?: number;
}

/** The global flags, as commander parses them. */
export interface GlobalFlags {
  url?: string;
  token?: string;
  config?: string;
  output?: string;
  wait: number;
}

/** Most the server waits per request (`Prefer: wait=N` is clamped to 60). */
const SERVER_WAIT_MAX_S = 60;

/** Everything a command's action needs, built from the global flags of its invocation. */
export class CliContext {
  readonly client: LabnetClient;

  private constructor(
    readonly io: CliIo,
    readonly settings: CliSettings,
    readonly flags: GlobalFlags,
  ) {
    this.client = createLabnetClient({
      baseUrl: settings.url,
      ...(settings.token ? { token: settings.token } : {}),
      ...(io.fetch ? { fetch: io.fetch } : {}),
    });
  }

  static async open(command: Command, io: CliIo): Promise<CliContext> {
    const flags = command.optsWithGlobals<GlobalFlags>();
    const file = await readConfigFile(configFilePath(flags.config, io.env, io.home));
    return new CliContext(io, resolveSettings(flags, io.env, file), flags);
  }

  /** The `-o` format of this invocation, or the command's default. */
  format(fallback: OutputFormat = "table"): OutputFormat {
    return parseOutputFormat(this.flags.output, fallback);
  }

  print(text: string): void {
    this.io.stdout.write(text.endsWith("\n") || text === "" ? text : `${text}\n`);
  }

  /** Data as `-o json|yaml`, or as a table of rows. */
  printData<T>(
    data: unknown,
    rows: readonly T[],
    columns: readonly Column<T>[],
    fallback: OutputFormat = "table",
  ) {
    const format = this.format(fallback);
    this.print(format === "table" ? renderTable(rows, columns) : renderData(data, format));
  }

  /** Progress and notes for a person, on stderr (stdout stays what `-o` asked for). */
  note(text: string): void {
    this.io.stderr.write(`${text}\n`);
  }

  /** `Prefer: wait=N` for a mutating call, unless `--wait 0`. */
  preferWait(): Record<string, string> {
    const seconds = Math.min(this.flags.wait, SERVER_WAIT_MAX_S);
    return seconds > 0 ? { prefer: `wait=${seconds}` } : {};
  }

  /**
   * An API call's answer: its data on success, else the problem as one sentence (thrown).
   * A connection that fails says where the CLI tried to go.
   */
  async call<T>(
    request: Promise<{ data?: T; error?: unknown; response: Response }>,
  ): Promise<{ data: T | undefined; response: Response }> {
    let answer: { data?: T; error?: unknown; response: Response };
    try {
      answer = await request;
    } catch (error) {
      throw toCliError(error, this.settings.url);
    }
    if (!answer.response.ok) {
      throw problemError(answer.error, answer.response);
    }
    return { data: answer.data, response: answer.response };
  }

  /** Like {@link call}, for answers that must have a body. */
  async read<T>(request: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
    const { data, response } = await this.call(request);
    if (data === undefined) {
      throw new CliError(`the API answered ${response.status} without a body.`);
    }
    return data;
  }

  /**
   * Waits (within `--wait`) for an operation the server did not finish while it waited, and
   * throws its problem when it failed. Without `--wait`, returns at once. `onUpdate` sees every read.
   */
  async settle(
    operationId: string | undefined,
    what: string,
    onUpdate?: (operation: Operation) => void,
  ): Promise<Operation | undefined> {
    if (operationId === undefined || this.flags.wait <= 0) {
      return undefined;
    }
    let operation: Operation;
    try {
      operation = await waitForOperation(this.client, operationId, {
        timeoutMs: this.flags.wait * 1000,
        ...(onUpdate ? { onUpdate } : {}),
      });
    } catch (error) {
      if (error instanceof OperationTimeoutError) {
        throw new CliError(
          `${what} is still ${error.operation.state} after ${this.flags.wait} s; follow it with: labnet operation inspect ${operationId}.`,
        );
      }
      throw toCliError(error, this.settings.url);
    }
    if (operation.state !== "succeeded") {
      const why = operation.error
        ? describeProblem(operation.error)
        : `the operation was ${operation.state}.`;
      throw new CliError(`${what} failed: ${why}`);
    }
    return operation;
  }
}

/** Reads something until `done` says so, within `--wait`; the last read is returned. */
export async function pollUntil<T>(
  ctx: CliContext,
  read: () => Promise<T>,
  done: (value: T) => boolean,
  what: string,
): Promise<T> {
  const deadline = Date.now() + ctx.flags.wait * 1000;
  for (;;) {
    const value = await read();
    if (done(value) || ctx.flags.wait <= 0) {
      return value;
    }
    if (Date.now() >= deadline) {
      throw new CliError(`${what} is not done after ${ctx.flags.wait} s; it goes on in the background.`);
    }
    await new Promise((resolve) => setTimeout(resolve, ctx.io.pollMs ?? 500));
  }
}

/** Wraps an action so it gets its context; errors propagate to runCli, which prints them. */
export function withContext<A extends unknown[]>(
  io: CliIo,
  action: (ctx: CliContext, ...args: A) => Promise<void>,
): (...args: unknown[]) => Promise<void> {
  return async (...args: unknown[]) => {
    const command = args.at(-1) as Command;
    const ctx = await CliContext.open(command, io);
    await action(ctx, ...(args.slice(0, -1) as A));
  };
}
