import { type Db, getNode } from "@labnet/db";
import type { EntityJob, JobName } from "@labnet/queue";
import { type ConvergeDeps, convergeHost } from "../converge";

export type JobHandler = (deps: ConvergeDeps & { db: Db }, job: EntityJob) => Promise<void>;

/**
 * One handler per job name. Each is an "ensure": it converges the host towards Postgres,
 * so replaying it (after a crash, a retry, a re-dispatch) is harmless.
 */
export const JOB_HANDLERS: Record<JobName, JobHandler> = {
  // Bridges and rules are always planned in full; no sandbox needs a look.
  "network.ensure": (deps) => convergeHost(deps, { kind: "only", netns: [] }),
  // The network is no longer desired (state deleting): the converge prunes it.
  "network.remove": (deps) => convergeHost(deps, { kind: "only", netns: [] }),
  "node.ensure": async (deps, job) => {
    const node = await getNode(deps.db, job.targetId);
    await convergeHost(deps, { kind: "only", netns: node?.netns ? [node.netns] : [] });
  },
  "node.remove": (deps) => convergeHost(deps, { kind: "only", netns: [] }),
};
