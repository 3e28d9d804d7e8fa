import { existsSync } from "node:fs";
import { type ExecChunk, type ExecJob, type ExecResult, type ExecTarget, execChannel } from "@labnet/queue";
import { execArgvIn } from "./argv";
import { spawnExec } from "./spawn";

/** A namespace outside this lab host's machines: the request is refused, nothing runs. */
export class ExecScopeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ExecScopeError";
  }
}

export interface RunExecDeps {
  /** The lab host whose executor this is: `labHost` targets must be it. */
  labHostId: string;
  /** Whether `netns` is a node or machine namespace of this lab host (probes/scope.ts). */
  inScope(netns: string): Promise<boolean>;
  /** Publishes one message on a channel (Redis PUBLISH); only when the job asks to stream. */
  publish?(channel: string, message: string): Promise<unknown>;
  queuePrefix: string;
  netnsExists?(netns: string): boolean;
}

function netnsOf(target: ExecTarget): string | undefined {
  return "node" in target ? target.node : "machine" in target ? target.machine : undefined;
}

/**
 * Runs the job's command inside its target and answers it. The argv was checked by the
 * catalog's schema and is checked again by the spawner; the target must be in this lab host's
 * scope. A missing namespace is an answer (`exitCode: null`), not a failure.
 */
export async function runExec(deps: RunExecDeps, job: ExecJob): Promise<ExecResult> {
  const netns = netnsOf(job.target);
  if (netns === undefined) {
    if (job.hostId !== deps.labHostId) {
      throw new ExecScopeError(`only lab host ${deps.labHostId} runs commands in its own namespace`);
    }
  } else if (!(await deps.inScope(netns))) {
    throw new ExecScopeError(`namespace ${JSON.stringify(netns)} is not one this lab host serves`);
  }
  const argv = execArgvIn(job.target, job.argv);
  const channel = execChannel(deps.queuePrefix, job.requestId);
  const publish = job.stream && deps.publish ? deps.publish.bind(deps) : undefined;
  const send = (chunk: ExecChunk) => publish?.(channel, JSON.stringify(chunk)).catch(() => undefined);
  const exists = deps.netnsExists ?? ((name: string) => existsSync(`/run/netns/${name}`));
  let result: ExecResult;
  if (netns !== undefined && !exists(netns)) {
    result = {
      argv: [...job.argv],
      exitCode: null,
      stdout: "",
      stderr: `no such namespace: /run/netns/${netns}`,
      durationMs: 0,
      timedOut: false,
      truncated: false,
    };
  } else {
    const outcome = await spawnExec(argv, {
      timeoutMs: job.timeoutMs,
      onChunk: (stream, data) => void send({ stream, data }),
    });
    result = { argv: [...job.argv], ...outcome };
  }
  // After the last chunk on the same connection, so a subscriber sees every chunk before it.
  await send({ end: true });
  return result;
}
