import { and, eq, isNull, or, type SQL, sql } from "drizzle-orm";
import type { PgColumn } from "drizzle-orm/pg-core";
import {
  endpoints,
  hosts,
  labCheckRuns,
  labInstances,
  labs,
  labTemplates,
  networks,
  nodes,
  operations,
  tokens,
} from "../schema";
import type { Db } from "../tx";
import { LAB_INSTANCE_LABEL } from "./labs";

/**
 * What a token reaches. `all`: an admin's. `account`: an instructor's: what their account owns
 * (labs, templates, the labs' machines and everything on them). `instance`: a student's: one
 * lab instance, its machines and everything on them.
 */
export type Scope =
  | { kind: "all" }
  | { kind: "account"; accountId: string }
  | { kind: "instance"; accountId: string; instanceId: string; labId: string; tokenId: string };

/** The resources the API names in paths and bodies, as the access rules know them. */
export type ResourceKind =
  | "host"
  | "machine"
  | "network"
  | "node"
  | "lab"
  | "instance"
  | "template"
  /** A template the scope may change: an instructor's own (an admin's are read-only to them). */
  | "ownTemplate"
  | "operation"
  | "checkRun"
  | "token"
  | "account";

/** A visible resource a reference matched: its id and where it belongs. */
export interface VisibleResource {
  id: string;
  hostId?: string | null;
  labId?: string | null;
  instanceId?: string | null;
}

/** Ids of the hosts rows (machines) the scope reaches; undefined: every one. */
function hostIdsIn(scope: Scope): SQL | undefined {
  switch (scope.kind) {
    case "all":
      return undefined;
    case "account":
      return sql`select ${hosts.id} from ${hosts} where ${hosts.ownerId} = ${scope.accountId}`;
    case "instance":
      return sql`select ${hosts.id} from ${hosts} where ${hosts.kind} = 'virtual' and ${hosts.labels} ->> ${LAB_INSTANCE_LABEL} = ${scope.instanceId}`;
  }
}

/** `column` is a host the scope reaches (undefined: no condition, an admin's). */
export function onVisibleHost(scope: Scope, column: PgColumn): SQL | undefined {
  const ids = hostIdsIn(scope);
  return ids ? sql`${column} in (${ids})` : undefined;
}

/**
 * The networks the scope reaches: those of its machines, and the overlays (scope `lan:<id>`,
 * no host) of the LANs its machines are on.
 */
export function visibleNetwork(scope: Scope): SQL | undefined {
  const ids = hostIdsIn(scope);
  if (!ids) {
    return undefined;
  }
  const lans = sql`select 'lan:' || ${endpoints.networkId} from ${endpoints} join ${hosts} on ${hosts.uplinkNodeId} = ${endpoints.nodeId} where ${hosts.id} in (${ids})`;
  return sql`(${networks.hostId} in (${ids}) or ${networks.scope} in (${lans}))`;
}

/** The machines (hosts rows) the scope reaches; undefined: every one. */
export async function visibleHostIds(db: Db, scope: Scope): Promise<string[] | undefined> {
  const condition = onVisibleHost(scope, hosts.id);
  if (!condition) {
    return undefined;
  }
  const rows = await db.select({ id: hosts.id }).from(hosts).where(condition).orderBy(hosts.name);
  return rows.map((r) => r.id);
}

/** The labs the scope reaches (undefined: no condition). */
export function visibleLab(scope: Scope): SQL | undefined {
  switch (scope.kind) {
    case "all":
      return undefined;
    case "account":
      return eq(labs.ownerId, scope.accountId);
    case "instance":
      return eq(labs.id, scope.labId);
  }
}

/** The templates the scope reaches: an instructor's own and the admins' (ownerless); no student's. */
export function visibleTemplate(scope: Scope): SQL | undefined {
  switch (scope.kind) {
    case "all":
      return undefined;
    case "account":
      return or(eq(labTemplates.ownerId, scope.accountId), isNull(labTemplates.ownerId));
    case "instance":
      return sql`false`;
  }
}

/** The tokens the scope reaches: an instructor's account's (their students' included); a student's own. */
export function visibleToken(scope: Scope): SQL | undefined {
  switch (scope.kind) {
    case "all":
      return undefined;
    case "account":
      return eq(tokens.accountId, scope.accountId);
    case "instance":
      return eq(tokens.id, scope.tokenId);
  }
}

const ID_PATTERNS: Partial<Record<ResourceKind, RegExp>> = {
  host: /^hst_[a-z2-7]{16}$/,
  machine: /^hst_[a-z2-7]{16}$/,
  network: /^net_[a-z2-7]{16}$/,
  node: /^nod_[a-z2-7]{16}$/,
  lab: /^lab_[a-z2-7]{16}$/,
  instance: /^lin_[a-z2-7]{16}$/,
};

/** Whether `ref` is an id of `kind` (else a name). */
export function isIdOf(kind: ResourceKind, ref: string): boolean {
  return ID_PATTERNS[kind]?.test(ref) ?? false;
}

function byRef(kind: ResourceKind, ref: string, id: PgColumn, name: PgColumn): SQL {
  return isIdOf(kind, ref) ? eq(id, ref) : eq(name, ref);
}

/**
 * What `ref` (an id or a name) of `kind` matches among what `scope` reaches: none (to the
 * caller, as if it did not exist), one, or several (a name on several machines of a scope).
 * `within` narrows instances and check runs to their lab (the path's `labId`, resolved first).
 */
export async function findVisible(
  db: Db,
  scope: Scope,
  kind: ResourceKind,
  ref: string,
  within?: { labId?: string },
): Promise<VisibleResource[]> {
  switch (kind) {
    case "host":
    case "machine":
      return db
        .select({ id: hosts.id, hostId: hosts.id })
        .from(hosts)
        .where(and(byRef(kind, ref, hosts.id, hosts.name), onVisibleHost(scope, hosts.id)));
    case "network":
      return db
        .select({ id: networks.id, hostId: networks.hostId })
        .from(networks)
        .where(and(byRef(kind, ref, networks.id, networks.name), visibleNetwork(scope)));
    case "node":
      return db
        .select({ id: nodes.id, hostId: nodes.hostId })
        .from(nodes)
        .where(and(byRef(kind, ref, nodes.id, nodes.name), onVisibleHost(scope, nodes.hostId)));
    case "lab":
      return db
        .select({ id: labs.id, labId: labs.id })
        .from(labs)
        .where(and(byRef(kind, ref, labs.id, labs.name), visibleLab(scope)));
    case "instance":
      return db
        .select({ id: labInstances.id, labId: labInstances.labId, instanceId: labInstances.id })
        .from(labInstances)
        .innerJoin(labs, eq(labs.id, labInstances.labId))
        .where(
          and(
            byRef(kind, ref, labInstances.id, labInstances.student),
            within?.labId ? eq(labInstances.labId, within.labId) : undefined,
            visibleLab(scope),
            scope.kind === "instance" ? eq(labInstances.id, scope.instanceId) : undefined,
          ),
        );
    case "template":
    case "ownTemplate": {
      if (ref.startsWith("builtin:")) {
        return scope.kind === "instance" || kind === "ownTemplate" ? [] : [{ id: ref }];
      }
      // `<name>` or `<name>@<version>`: the name decides who may see it.
      const name = ref.replace(/@\d+$/, "");
      const owned =
        kind === "ownTemplate" && scope.kind === "account"
          ? eq(labTemplates.ownerId, scope.accountId)
          : undefined;
      return db
        .selectDistinct({ id: labTemplates.name })
        .from(labTemplates)
        .where(and(eq(labTemplates.name, name), visibleTemplate(scope), owned));
    }
    case "operation":
      return db
        .select({ id: operations.id, hostId: operations.hostId })
        .from(operations)
        .where(and(eq(operations.id, ref), onVisibleHost(scope, operations.hostId)));
    case "checkRun":
      return db
        .select({ id: labCheckRuns.id, labId: labCheckRuns.labId })
        .from(labCheckRuns)
        .innerJoin(labs, eq(labs.id, labCheckRuns.labId))
        .where(
          and(
            eq(labCheckRuns.id, ref),
            within?.labId ? eq(labCheckRuns.labId, within.labId) : undefined,
            visibleLab(scope),
            // A student sees the runs of their instance alone, not the class's matrix.
            scope.kind === "instance"
              ? sql`${labCheckRuns.instanceIds} = array[${scope.instanceId}]::text[]`
              : undefined,
          ),
        );
    case "token":
      return db
        .select({ id: tokens.id, instanceId: tokens.instanceId })
        .from(tokens)
        .where(and(eq(tokens.id, ref), visibleToken(scope)));
    case "account":
      if (scope.kind === "all" || (scope.kind === "account" && scope.accountId === ref)) {
        return [{ id: ref }];
      }
      return [];
  }
}

/** What an account holds, as its quotas count it. */
export interface AccountUsage {
  labs: number;
  instances: number;
  machines: number;
  nodes: number;
  ports: number;
}

/** What `accountId` holds now (its students' additions included: they are on its machines). */
export async function accountUsage(db: Db, accountId: string): Promise<AccountUsage> {
  const rows = await db.execute<{ [K in keyof AccountUsage]: number }>(sql`
    -- A machine being removed (a reset's old generation) no longer counts.
    with owned as (select h.id from hosts h where h.owner_id = ${accountId} and h.state <> 'deleting')
    select
      (select count(*)::int from labs l where l.owner_id = ${accountId}) as labs,
      (select count(*)::int from lab_instances i join labs l on l.id = i.lab_id where l.owner_id = ${accountId}) as instances,
      (select count(*)::int from owned) as machines,
      (select count(*)::int from nodes n where n.host_id in (select id from owned)) as nodes,
      (select count(*)::int from port_mappings p join nodes n on n.id = p.node_id where n.host_id in (select id from owned)) as ports`);
  const [row] = rows;
  return row ?? { labs: 0, instances: 0, machines: 0, nodes: 0, ports: 0 };
}

/** What one lab instance's machines hold: what a student's limits count. */
export async function instanceUsage(
  db: Db,
  instanceId: string,
): Promise<{ networks: number; nodes: number; ports: number }> {
  const rows = await db.execute<{ networks: number; nodes: number; ports: number }>(sql`
    with machines as (
      select h.id from hosts h where h.labels ->> ${LAB_INSTANCE_LABEL} = ${instanceId} and h.state <> 'deleting'
    )
    select
      -- The predefined networks (bridge, host, none) are every machine's, not the student's doing.
      (select count(*)::int from networks w where w.host_id in (select id from machines) and not w.builtin) as networks,
      (select count(*)::int from nodes n where n.host_id in (select id from machines)) as nodes,
      (select count(*)::int from port_mappings p join nodes n on n.id = p.node_id where n.host_id in (select id from machines)) as ports`);
  const [row] = rows;
  return row ?? { networks: 0, nodes: 0, ports: 0 };
}
