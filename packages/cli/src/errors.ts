import { describeProblem, isProblem, LabnetProblemError } from "@labnet/api";

/** An error the CLI prints as one sentence (`Error: ...`) and exits with `exitCode`. */
export class CliError extends Error {
  override readonly name = "CliError";
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** An API answer that was a problem document, as the sentence a person reads. */
export function problemError(error: unknown, response: Response): CliError {
  if (isProblem(error)) {
    return new CliError(describeProblem(error));
  }
  return new CliError(LabnetProblemError.from(error, response).message);
}

/**
 * Anything thrown while talking to the API, as one sentence: problems as their detail,
 * a refused or failed connection as where the CLI tried to go and how to point it elsewhere.
 */
export function toCliError(error: unknown, url: string): CliError {
  if (error instanceof CliError) {
    return error;
  }
  if (error instanceof LabnetProblemError) {
    return new CliError(error.message);
  }
  if (error instanceof TypeError && error.message === "fetch failed") {
    const cause = error.cause as { code?: string; message?: string } | undefined;
    const why = cause?.code ?? cause?.message ?? "no answer";
    return new CliError(
      `cannot reach the Labnet API at ${url} (${why}); is it running? Set LABNET_URL or --url to point elsewhere.`,
    );
  }
  return new CliError(error instanceof Error ? error.message : String(error));
}
