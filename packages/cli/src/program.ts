import tab from "@bomb.sh/tab/commander";
import { Command, CommanderError, type Option as CommanderOption, Help, Option } from "commander";
import { registerLabCommands } from "./commands/labs";
import { registerMachineCommands } from "./commands/machines";
import { registerMiscCommands } from "./commands/misc";
import { registerNetworkCommands } from "./commands/networks";
import { registerNodeCommands } from "./commands/nodes";
import { integer } from "./commands/shared";
import type { CliIo } from "./context";
import { CliError, toCliError } from "./errors";
import { OUTPUT_FORMATS } from "./output";
import { DEFAULT_URL } from "./settings";

/** Default of `--wait`: as long as the server waits in one request. */
const DEFAULT_WAIT_S = 60;

/** The whole `labnet` command tree, writing to `io`. */
export function createProgram(io: CliIo): Command {
  const program = new Command("labnet")
    .description("The command line of Labnet: networks, nodes, machines and labs over its REST API")
    .option("--url <url>", `the API (LABNET_URL, config file; default ${DEFAULT_URL})`)
    .option("--token <token>", "API token (LABNET_TOKEN, config file)")
    .option("--config <file>", "config file (LABNET_CONFIG; default ~/.config/labnet/config.yaml)")
    .addOption(new Option("-o, --output <format>", "output format").choices(OUTPUT_FORMATS))
    .option(
      "--wait <seconds>",
      "how long changes wait for the kernel work (0: do not wait)",
      integer,
      DEFAULT_WAIT_S,
    )
    .showHelpAfterError()
    .configureHelp({
      showGlobalOptions: true,
      // Repeatable flags start as []: "(default: [])" tells a person nothing.
      optionDescription(option: CommanderOption) {
        return Array.isArray(option.defaultValue)
          ? option.description
          : Help.prototype.optionDescription.call(this, option);
      },
    })
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    })
    .exitOverride();
  registerNetworkCommands(program, io);
  registerNodeCommands(program, io);
  registerMachineCommands(program, io);
  registerLabCommands(program, io);
  registerMiscCommands(program, io);
  for (const command of program.commands) {
    command.copyInheritedSettings(program);
    for (const sub of command.commands) {
      sub.copyInheritedSettings(program);
    }
  }
  return program;
}

/**
 * Runs one invocation and answers its exit code: 0, 1 for an error (printed as one sentence on
 * stderr), 2 for a usage error (commander's message and the help).
 */
export async function runCli(
  argv: readonly string[],
  io: CliIo,
  options: { completion?: boolean } = {},
): Promise<number> {
  const program = createProgram(io);
  if (options.completion) {
    // `labnet complete bash|zsh|fish|powershell` prints a script; `labnet complete -- ...` answers it.
    tab(program);
  }
  try {
    await program.parseAsync([...argv], { from: "user" });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? 0 : 2;
    }
    const cliError = error instanceof CliError ? error : toCliError(error, "the API");
    io.stderr.write(`Error: ${cliError.message}\n`);
    return cliError.exitCode;
  }
}
