/**
 * `docker exec <node> <cmd>`: exec create checks the command against the diagnostics allow-list
 * (packages/queue exec-argv.ts) before anything is recorded, so a refused one answers an error and
 * nothing runs; exec start runs it on the machine's executor through the same streamed run as
 * `POST /v1/nodes/{id}/exec` and answers on the hijacked connection (multiplexed, or raw with
 * `-t`); exec inspect gives its exit code.
 */
import {
  checkExecArgv,
  DEFAULT_EXEC_TIMEOUT_MS,
  describeExecRefusal,
  type ExecResult,
  execPlaceOf,
} from "@labnet/queue";
import { z } from "zod";
import type { AppDeps } from "../routes/deps";
import { nodePlacement, subscribeExecOutput } from "../routes/exec";
import { admitDockerChange, type DockerRoute, param } from "./access";
import { DockerError } from "./errors";
import { createExec, type DockerExec, findExec, saveExec } from "./exec-store";
import { findDockerContainer } from "./lookup";
import { frame, hijackHeaders } from "./streams";

const ExecCreateBody = z.looseObject({
  Cmd: z.array(z.string()).min(1),
  Tty: z.boolean().optional(),
  Privileged: z.boolean().optional(),
  User: z.string().optional(),
});
const ExecStartBody = z.looseObject({ Detach: z.boolean().optional(), Tty: z.boolean().optional() });

/** What a shell would say for a command that ran out of time or could not start. */
function exitCodeOf(result: ExecResult): number {
  return result.timedOut ? 124 : (result.exitCode ?? 126);
}

export function registerDockerExecRoutes(route: DockerRoute, deps: AppDeps): void {
  const { db, redis } = deps;

  route("POST", "/containers/:container/exec", async (c) => {
    const machine = c.get("machine");
    const node = await findDockerContainer(db, machine, param(c, "container"));
    const parsed = ExecCreateBody.safeParse(await c.req.json().catch(() => undefined));
    if (!parsed.success) {
      throw new DockerError(400, "No exec command specified");
    }
    await admitDockerChange(db, c, { what: "execCreate", target: { type: "node", id: node.id } });
    const placement = await nodePlacement(deps, node.id);
    const refusal = checkExecArgv(parsed.data.Cmd, execPlaceOf(placement.target));
    if (refusal !== undefined) {
      throw new DockerError(
        400,
        `Labnet runs only allow-listed diagnostics in nodes (ping, traceroute, curl, nc, getent, dig, ip and bridge show, ss): ${describeExecRefusal(refusal)}`,
      );
    }
    const exec = await createExec(redis, {
      nodeId: node.id,
      machineId: machine.id,
      argv: parsed.data.Cmd,
      tty: parsed.data.Tty ?? false,
    });
    return c.json({ Id: exec.id }, 201);
  });

  route("POST", "/exec/:exec/start", async (c) => {
    const exec = await ownExec(c.get("machine").id, param(c, "exec"));
    const body = ExecStartBody.safeParse(await c.req.json().catch(() => ({})));
    await admitDockerChange(db, c, { what: "execStart", target: { type: "node", id: exec.nodeId } });
    if (exec.running || exec.exitCode !== null) {
      throw new DockerError(409, `exec ${exec.id} has already run`);
    }
    const placement = await nodePlacement(deps, exec.nodeId);
    const started: DockerExec = { ...exec, running: true };
    await saveExec(redis, started);
    const output = await subscribeExecOutput(deps);
    const request = {
      hostId: placement.machine.id,
      queueHostId: placement.queueHostId,
      target: placement.target,
      argv: exec.argv,
      timeoutMs: DEFAULT_EXEC_TIMEOUT_MS,
    };
    const tty = body.success ? (body.data.Tty ?? exec.tty) : exec.tty;
    if (body.success && body.data.Detach) {
      void output
        .run(request, () => undefined)
        .then(
          (result) => saveExec(redis, { ...started, running: false, exitCode: exitCodeOf(result) }),
          () => saveExec(redis, { ...started, running: false, exitCode: 126 }),
        );
      return c.body(null, 200);
    }
    const stream = new ReadableStream<Uint8Array>({
      start: async (controller) => {
        let exitCode = 126;
        try {
          const result = await output.run(request, (chunk) =>
            controller.enqueue(frame(chunk.stream, chunk.data, tty)),
          );
          exitCode = exitCodeOf(result);
          if (result.timedOut) {
            controller.enqueue(
              frame("stderr", `labnet: ${exec.argv[0]} ran out of time and was stopped\n`, tty),
            );
          }
        } catch (error) {
          const why = error instanceof Error ? error.message : String(error);
          controller.enqueue(frame("stderr", `labnet: the command did not run: ${why}\n`, tty));
        }
        // Recorded before the stream ends: the client asks for the exit code right after.
        await saveExec(redis, { ...started, running: false, exitCode });
        controller.close();
      },
    });
    return new Response(stream, { status: 200, headers: hijackHeaders(tty) });
  });

  route("GET", "/exec/:exec/json", async (c) => {
    const exec = await ownExec(c.get("machine").id, param(c, "exec"));
    return c.json(
      {
        ID: exec.id,
        Running: exec.running,
        ExitCode: exec.exitCode,
        ProcessConfig: {
          tty: exec.tty,
          entrypoint: exec.argv[0] ?? "",
          arguments: exec.argv.slice(1),
          privileged: false,
          user: "",
        },
        OpenStdin: false,
        OpenStderr: true,
        OpenStdout: true,
        CanRemove: false,
        ContainerID: exec.nodeId,
        DetachKeys: "",
        Pid: 0,
      },
      200,
    );
  });

  route("POST", "/exec/:exec/resize", async (c) => {
    const exec = await ownExec(c.get("machine").id, param(c, "exec"));
    await admitDockerChange(db, c, { what: "execResize", target: { type: "node", id: exec.nodeId } });
    return c.body(null, 200);
  });

  /** An exec of this machine (another machine's is as missing as an unknown one). */
  async function ownExec(machineId: string, id: string): Promise<DockerExec> {
    const exec = await findExec(redis, id);
    if (!exec || exec.machineId !== machineId) {
      throw new DockerError(404, `No such exec instance: ${id}`);
    }
    return exec;
  }
}
