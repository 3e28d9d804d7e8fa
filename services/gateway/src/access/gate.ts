import type { OperationId } from "@labnet/api";
import {
  type Database,
  findVisible,
  type ResourceKind,
  type Scope,
  type TokenWithLab,
  type VisibleResource,
  visibleHostIds,
} from "@labnet/db";
import type { StudentAction } from "@labnet/labs";
import { ProblemError } from "../http/problem";
import { studentRulesOf } from "./lab-students";
import { ACCESS_RULES, type ResourceRef } from "./rules";

/** What one request's token reaches, worked out once per request and kept for its handlers. */
export interface Access {
  token: TokenWithLab;
  scope: Scope;
  /** The machines the token reaches (undefined: every one, an admin's). */
  hostIds(): Promise<string[] | undefined>;
  /** The first resource each `ref` of the operation resolved to (by field, `path.labId`). */
  resolved: Map<string, VisibleResource>;
}

/** How a token's role becomes a scope. */
export function scopeOf(token: TokenWithLab): Scope {
  if (token.role === "admin") {
    return { kind: "all" };
  }
  if (token.role === "student" && token.instanceId && token.labId && token.accountId) {
    return {
      kind: "instance",
      accountId: token.accountId,
      instanceId: token.instanceId,
      labId: token.labId,
      tokenId: token.id,
    };
  }
  if (token.role === "instructor" && token.accountId) {
    return { kind: "account", accountId: token.accountId };
  }
  // A token whose scope cannot be told (no account) reaches nothing.
  return { kind: "account", accountId: "" };
}

export function createAccess(db: Database, token: TokenWithLab): Access {
  const scope = scopeOf(token);
  let hosts: Promise<string[] | undefined> | undefined;
  return {
    token,
    scope,
    hostIds: () => {
      hosts ??= visibleHostIds(db, scope);
      return hosts;
    },
    resolved: new Map(),
  };
}

interface GateInput {
  params: Record<string, unknown>;
  query: Record<string, unknown>;
  body: unknown;
}

/**
 * Applies an operation's access rule (rules.ts) before its handler: the role, then every field
 * that names a resource, resolved among what the token reaches. A resource out of reach
 * answers 404 exactly as a missing one does (ids do not leak); a role that may not call the
 * operation at all answers 404 when the path names a resource, else 403. For a token that
 * does not reach everything, path references given by name are replaced by the id they
 * resolved to (a student's `web` is their own `web`, not one of thirty), and a machine left
 * out is filled in when the token reaches exactly one.
 */
export async function admitOperation(
  db: Database,
  access: Access,
  operationId: OperationId,
  input: GateInput,
): Promise<void> {
  const rule = ACCESS_RULES[operationId];
  const { scope, token } = access;
  const refs = rule.refs ?? [];
  if (!rule.roles.includes(token.role)) {
    const pathRef = refs.find((r) => r.at.startsWith("path."));
    if (pathRef) {
      throw notFoundAt(pathRef, String(valuesAt(input, pathRef.at)[0] ?? ""));
    }
    throw new ProblemError({
      status: 403,
      code: "FORBIDDEN",
      detail: `a ${token.role} token may not do this (${operationId})`,
    });
  }
  if (scope.kind === "all") {
    return;
  }
  for (const ref of refs) {
    await admitRef(db, access, ref, input);
  }
  if (rule.student) {
    await assertStudentMay(db, access, rule.student);
  }
}

/**
 * A student's token may do `action` only where their lab's template allows it (its
 * `students.may`); other tokens pass. 403 FORBIDDEN naming what the template allows.
 */
export async function assertStudentMay(db: Database, access: Access, action: StudentAction): Promise<void> {
  const { scope } = access;
  if (scope.kind !== "instance") {
    return;
  }
  const { may } = await studentRulesOf(db, scope.labId);
  if (!may.includes(action)) {
    throw new ProblemError({
      status: 403,
      code: "FORBIDDEN",
      detail: `this lab does not let students ${describeAction(action)} (its template's students.may: ${may.join(", ") || "nothing"})`,
    });
  }
}

async function admitRef(db: Database, access: Access, ref: ResourceRef, input: GateInput): Promise<void> {
  const values = valuesAt(input, ref.at);
  if (values.length === 0) {
    if (ref.machineOfScope) {
      await fillInMachine(access, ref, input);
    }
    return;
  }
  const isPath = ref.at.startsWith("path.");
  for (const value of values) {
    if (typeof value !== "string") {
      continue;
    }
    // Networks and nodes named in a body are resolved by the command on the (reachable) machine
    // the request is about; an id is checked here so one out of reach is not even mentioned.
    if (!isPath && (ref.kind === "network" || ref.kind === "node") && !looksLikeId(ref.kind, value)) {
      continue;
    }
    const labId = access.resolved.get("path.labId")?.id;
    const found = await findVisible(db, access.scope, ref.kind, value, labId ? { labId } : undefined);
    const [first] = found;
    if (!first) {
      throw notFoundAt(ref, value);
    }
    if (found.length > 1) {
      throw new ProblemError({
        status: 409,
        code: "CONFLICT",
        detail: `${describeKind(ref.kind)} name ${value} exists on several of your machines: use its id`,
        errors: [{ location: ref.at, message: "ambiguous name" }],
      });
    }
    access.resolved.set(ref.at, first);
    if (isPath && ref.kind !== "template" && ref.kind !== "ownTemplate") {
      setAt(input, ref.at, first.id);
    }
  }
}

/** A machine the request must be about, filled in when the token reaches exactly one. */
async function fillInMachine(access: Access, ref: ResourceRef, input: GateInput): Promise<void> {
  const machines = (await access.hostIds()) ?? [];
  const [only] = machines;
  if (machines.length === 1 && only) {
    setAt(input, ref.at, only);
    return;
  }
  throw new ProblemError({
    status: 422,
    code: "INVALID_FIELD",
    detail:
      machines.length === 0
        ? "this token reaches no machine to do this on"
        : `name the machine to do this on (${ref.at}): this token reaches ${machines.length}`,
    errors: [{ location: ref.at, message: "name one of your machines" }],
  });
}

function looksLikeId(kind: ResourceKind, value: string): boolean {
  return kind === "network" ? /^net_[a-z2-7]{16}$/.test(value) : /^nod_[a-z2-7]{16}$/.test(value);
}

/**
 * The values at `path.x`, `query.x`, `body.x` or `body.list[].x` of the validated input (a
 * repeated query parameter gives each).
 */
function valuesAt(input: GateInput, at: string): unknown[] {
  const [where, ...rest] = at.split(".");
  let current: unknown[] = [where === "path" ? input.params : where === "query" ? input.query : input.body];
  for (const part of rest) {
    const list = part.endsWith("[]");
    const key = list ? part.slice(0, -2) : part;
    current = current.flatMap((value) => {
      const next = isRecord(value) ? value[key] : undefined;
      if (next === undefined || next === null) {
        return [];
      }
      return list || Array.isArray(next) ? (Array.isArray(next) ? next : []) : [next];
    });
  }
  return current;
}

function setAt(input: GateInput, at: string, value: string): void {
  const [where, key, ...deeper] = at.split(".");
  const holder = where === "path" ? input.params : where === "query" ? input.query : input.body;
  if (deeper.length > 0 || !key || !isRecord(holder)) {
    return;
  }
  holder[key] = value;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function notFoundAt(ref: ResourceRef, value: string): ProblemError {
  return new ProblemError({
    status: 404,
    code: "NOT_FOUND",
    detail: `${describeKind(ref.kind)} ${value} not found`,
    errors: [{ location: ref.at, message: "not found" }],
  });
}

const KIND_WORDS: Record<ResourceKind, string> = {
  host: "host",
  machine: "machine",
  network: "network",
  node: "node",
  lab: "lab",
  instance: "lab instance",
  template: "lab template",
  ownTemplate: "lab template",
  operation: "operation",
  checkRun: "check run",
  token: "token",
  account: "account",
};

function describeKind(kind: ResourceKind): string {
  return KIND_WORDS[kind];
}

function describeAction(action: StudentAction): string {
  switch (action) {
    case "connect":
      return "connect nodes to networks";
    case "disconnect":
      return "disconnect nodes from networks";
    case "networks":
      return "create, change or remove networks";
    case "nodes":
      return "create or remove nodes";
    case "ports":
      return "publish or unpublish ports";
  }
}
