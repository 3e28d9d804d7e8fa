import {
  BUILTIN_PREFIX,
  createLab,
  createLabTemplate,
  deleteLab,
  deleteLabTemplate,
  notFound,
  rebuildInstance,
  resolveLab,
  selectInstances,
  solveInstances,
} from "@labnet/commands";
import {
  findLab,
  findLabTemplate,
  instancesOfLab,
  type LabRow,
  labTemplateVersions,
  listLabs,
  listLabTemplates,
  schema,
  visibleLab,
  visibleTemplate,
} from "@labnet/db";
import { BUILTIN_TEMPLATES } from "@labnet/labs";
import { and, eq } from "drizzle-orm";
import type { Context } from "hono";
import type { Access } from "../access/gate";
import type { GatewayApp } from "../app";
import { registerOperation } from "../http/openapi-router";
import { paginate } from "../http/paginate";
import { parsePreferWait, preferenceApplied } from "../http/prefer";
import { checkRunView, startCheckRun } from "../services/lab-checks";
import { createdTokenView } from "../views/access-view";
import { builtinTemplateView, labTemplateView } from "../views/lab-template-view";
import { labSettled, labView } from "../views/lab-view";
import { issueToken } from "./access";
import type { AppDeps } from "./deps";
import { waitUntilGone } from "./respond";

/** How often a waiting call looks at the lab again. */
const WAIT_POLL_MS = 200;

export function registerLabRoutes(app: GatewayApp, deps: AppDeps): void {
  const { db } = deps;
  const ctx = deps.commands;

  /** A student sees their own instance of a lab, nobody else's. */
  const onlyInstance = (c: Context) => {
    const { scope } = c.get("access") as Access;
    return scope.kind === "instance" ? scope.instanceId : undefined;
  };

  registerOperation(app, "listLabTemplates", async (c, input) => {
    const stored = await listLabTemplates(db, visibleTemplate(c.get("access").scope));
    const builtins = [...BUILTIN_TEMPLATES.keys()].sort().map((name) => builtinTemplateView(name));
    const items = [...builtins, ...stored.map((row) => labTemplateView(row))];
    // The builtins first, then the stored ones (their latest versions), each by name.
    return c.json(
      paginate(items, input.query, (t) => [t.builtin ? "0" : "1", t.name]),
      200,
    );
  });

  registerOperation(app, "createLabTemplate", async (c, input) => {
    const { token } = c.get("access");
    const row = await createLabTemplate({
      ctx,
      input: { ...input.body, owner: { accountId: token.accountId, admin: token.role === "admin" } },
    });
    const versions = await labTemplateVersions(db, row.name);
    c.header("Location", `/v1/lab-templates/${row.name}`);
    return c.json(labTemplateView(row, versions), 201);
  });

  registerOperation(app, "getLabTemplate", async (c, input) => {
    const name = input.params.templateName;
    if (name.startsWith(BUILTIN_PREFIX)) {
      if (!BUILTIN_TEMPLATES.has(name.slice(BUILTIN_PREFIX.length))) {
        throw notFound("built-in template", name, "path.templateName");
      }
      return c.json(builtinTemplateView(name.slice(BUILTIN_PREFIX.length)), 200);
    }
    const row = await findLabTemplate(db, name, input.query?.version);
    if (!row) {
      throw notFound("lab template", name, "path.templateName");
    }
    return c.json(labTemplateView(row, await labTemplateVersions(db, name)), 200);
  });

  registerOperation(app, "deleteLabTemplate", async (c, input) => {
    await deleteLabTemplate({ ctx, name: input.params.templateName });
    return c.body(null, 204);
  });

  registerOperation(app, "listLabs", async (c, input) => {
    const rows = await listLabs(db, visibleLab(c.get("access").scope));
    const page = paginate(rows, input.query, (l) => [l.name, l.id]);
    const items = await Promise.all(page.items.map((row) => labView(db, row, onlyInstance(c))));
    return c.json({ items, next: page.next }, 200);
  });

  registerOperation(app, "createLab", async (c, input) => {
    const access = c.get("access");
    const { studentTokens, ...request } = input.body;
    const lab = await createLab({ ctx, input: { ...request, ownerId: access.token.accountId } });
    // The students' tokens, made once the instances exist; their secrets are in this answer only.
    const tokens = studentTokens
      ? await issueStudentTokens(lab, access, studentTokens.expiresInSeconds)
      : undefined;
    c.header("Location", `/v1/labs/${lab.id}`);
    const view = await waitForLab(c, lab.id);
    return c.json(
      tokens ? { ...view, studentTokens: tokens } : view,
      labSettled(view) && view.summary.failed === 0 ? 201 : 202,
    );
  });

  async function issueStudentTokens(lab: LabRow, access: Access, expiresInSeconds: number | undefined) {
    const instances = await instancesOfLab(db, lab.id);
    return Promise.all(
      instances.map(async (instance) => ({
        student: instance.student,
        instance: instance.id,
        token: await issueToken(db, access, {
          name: `${lab.name} ${instance.student}`,
          role: "student",
          instance: instance.id,
          ...(expiresInSeconds ? { expiresInSeconds } : {}),
        }).then(({ token, secret }) => createdTokenView(token, secret)),
      })),
    );
  }

  registerOperation(app, "getLab", async (c, input) => {
    const lab = await resolveLab(ctx, input.params.labId);
    return c.json(await labView(db, lab, onlyInstance(c)), 200);
  });

  registerOperation(app, "deleteLab", async (c, input) => {
    const lab = await deleteLab(ctx, await resolveLab(ctx, input.params.labId));
    if (await waitUntilGone(c, async () => !(await findLab(db, lab.id)), WAIT_POLL_MS)) {
      return c.body(null, 204);
    }
    const current = await findLab(db, lab.id);
    return current ? c.json(await labView(db, current), 202) : c.body(null, 204);
  });

  registerOperation(app, "solveLab", async (c, input) => {
    const lab = await resolveLab(ctx, input.params.labId);
    const instances = await selectInstances(ctx, lab, input.body.instances);
    await solveInstances(ctx, lab, instances);
    const view = await waitForLab(c, lab.id);
    return c.json(view, labSettled(view) && view.summary.failed === 0 && c.req.header("prefer") ? 200 : 202);
  });

  const rebuild = async (c: Context, labRef: string, instanceRef: string) => {
    const lab = await resolveLab(ctx, labRef);
    const [instance] = await selectInstances(ctx, lab, [instanceRef], "path.instanceId");
    if (!instance) {
      throw notFound("lab instance", instanceRef, "path.instanceId");
    }
    await rebuildInstance(ctx, lab, instance);
    return c.json(await labView(db, lab, onlyInstance(c)), 202);
  };
  registerOperation(app, "resetLabInstance", (c, input) =>
    rebuild(c, input.params.labId, input.params.instanceId),
  );
  registerOperation(app, "retryLabInstance", (c, input) =>
    rebuild(c, input.params.labId, input.params.instanceId),
  );

  registerOperation(app, "runLabChecks", async (c, input) => {
    const lab = await resolveLab(ctx, input.params.labId);
    // A student's checks are of their own instance, whatever else they name.
    const own = onlyInstance(c);
    if (own && input.body.instances?.some((ref) => ref !== own)) {
      const [mine] = await selectInstances(ctx, lab, [own]);
      if (input.body.instances.some((ref) => ref !== own && ref !== mine?.student)) {
        throw notFound("lab instance", input.body.instances.join(", "), "body.instances");
      }
    }
    const instances = await selectInstances(ctx, lab, own ? [own] : input.body.instances);
    const { run, done } = await startCheckRun(deps, lab, instances);
    c.header("Location", `/v1/labs/${lab.id}/check-runs/${run.id}`);
    const wait = parsePreferWait(c.req.header("prefer"));
    if (wait !== undefined && wait > 0) {
      c.header("Preference-Applied", preferenceApplied(wait));
      const finished = await Promise.race([done, sleep(wait * 1000).then(() => undefined)]);
      if (finished) {
        return c.json(checkRunView(finished, instances), 200);
      }
    }
    return c.json(checkRunView(run, instances), 202);
  });

  registerOperation(app, "getLabCheckRun", async (c, input) => {
    const lab = await resolveLab(ctx, input.params.labId);
    const [run] = await db
      .select()
      .from(schema.labCheckRuns)
      .where(and(eq(schema.labCheckRuns.id, input.params.runId), eq(schema.labCheckRuns.labId, lab.id)));
    if (!run) {
      throw notFound("check run", input.params.runId, "path.runId");
    }
    const own = onlyInstance(c);
    const instances = await selectInstances(ctx, lab, own ? [own] : undefined);
    return c.json(checkRunView(run, instances), 200);
  });

  /** The lab's view; with `Prefer: wait=N`, once no instance is still being built (or N s). */
  async function waitForLab(c: Context, labId: string) {
    const wait = parsePreferWait(c.req.header("prefer"));
    const deadline = Date.now() + (wait ?? 0) * 1000;
    if (wait !== undefined && wait > 0) {
      c.header("Preference-Applied", preferenceApplied(wait));
    }
    for (;;) {
      const lab = await findLab(db, labId);
      if (!lab) {
        throw notFound("lab", labId);
      }
      const view = await labView(db, lab);
      if (labSettled(view) || Date.now() >= deadline) {
        return view;
      }
      await sleep(WAIT_POLL_MS);
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
