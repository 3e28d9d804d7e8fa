import { readFile } from "node:fs/promises";
import { runCommandOrThrow } from "@labnet/process";

/** A local account's numeric ids. */
export interface SystemUser {
  name: string;
  uid: number;
  gid: number;
}

/** Looks an account up in /etc/passwd; undefined when it does not exist. */
export async function findSystemUser(name: string): Promise<SystemUser | undefined> {
  const passwd = await readFile("/etc/passwd", "utf8");
  for (const line of passwd.split("\n")) {
    const [user, , uid, gid] = line.split(":");
    if (user === name && uid !== undefined && gid !== undefined) {
      return { name, uid: Number(uid), gid: Number(gid) };
    }
  }
  return undefined;
}

/**
 * Returns the account, creating it as a system user without a login shell when it is missing
 * (Debian's postgresql package creates `postgres`; a machine without it may not have one).
 */
export async function ensureSystemUser(name: string): Promise<SystemUser> {
  const existing = await findSystemUser(name);
  if (existing) {
    return existing;
  }
  await runCommandOrThrow([
    "useradd",
    "--system",
    "--user-group",
    "--no-create-home",
    "--shell",
    "/usr/sbin/nologin",
    name,
  ]);
  const created = await findSystemUser(name);
  if (!created) {
    throw new Error(`useradd ${name} succeeded but the account is not in /etc/passwd`);
  }
  return created;
}
