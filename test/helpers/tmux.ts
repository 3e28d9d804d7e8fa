import { readFile } from "node:fs/promises";
import path from "node:path";
import { recordChild, runCommandOrThrow } from "@labnet/devstack";
import { inject } from "vitest";
import { childRegistryOf } from "../setup/run";

/** A terminal a person would look at: a tmux server of the test's own, one pane per command. */
export interface TestTerminal {
  /**
   * Runs `argv` (no shell) in a new pane of `width` × `height` with `env` on top of tmux's,
   * and returns the pane's name; the pane stays on screen after the command exits.
   */
  run(name: string, argv: readonly string[], env: Record<string, string>): Promise<string>;
  /** What the pane has shown (capture-pane with its history), blank lines around it dropped. */
  screen(pane: string): Promise<string>;
  /**
   * Undefined while the command runs; once it has exited, its exit status, or `null` when tmux
   * has not collected it: tmux 3.3 sometimes leaves an exited pane's process a zombie, with the
   * pane dead but no status, and then the screen is all there is to judge by.
   */
  exitStatus(pane: string): Promise<number | null | undefined>;
  /** tmux's view of the pane and `ps` of its process, for a failure message. */
  describe(pane: string): Promise<string>;
  /** Ends the tmux server (by its socket: only this test's). */
  stop(): Promise<void>;
}

/**
 * A private tmux server (socket in the run directory, so never the user's), recorded with the
 * run's children so a killed run's sweep ends it by PID.
 */
export function startTestTerminal(label: string, size = { width: 140, height: 50 }): TestTerminal {
  const socket = path.join(inject("runDir"), `tmux-${label}.sock`);
  const tmux = (...args: string[]) => runCommandOrThrow(["tmux", "-S", socket, ...args]);
  let recorded = false;
  return {
    async run(name, argv, env) {
      const session = `${label}-${name}`;
      await tmux(
        "new-session",
        "-d",
        "-s",
        session,
        "-x",
        String(size.width),
        "-y",
        String(size.height),
        ...Object.entries(env).flatMap(([k, v]) => ["-e", `${k}=${v}`]),
        // Several arguments: tmux runs the command directly, without a shell.
        ...argv,
        ";",
        "set-option",
        "-t",
        session,
        "remain-on-exit",
        "on",
      );
      if (!recorded) {
        const pid = Number((await tmux("display-message", "-p", "#{pid}")).stdout.trim());
        await recordChild(childRegistryOf(inject("runDir")), pid);
        recorded = true;
      }
      return session;
    },
    async screen(pane) {
      const { stdout } = await tmux("capture-pane", "-p", "-S", "-", "-t", pane);
      return stdout.replace(/^\s*\n/, "").replace(/\s+$/, "");
    },
    async exitStatus(pane) {
      const { stdout } = await tmux(
        "display-message",
        "-p",
        "-t",
        pane,
        "#{pane_dead} #{pane_pid} #{pane_dead_status}",
      );
      const [dead, pid, status] = stdout.trim().split(" ");
      if (dead !== "1") {
        return undefined;
      }
      if (status) {
        return Number(status);
      }
      // Dead but no status yet: exited if its process is gone or a zombie.
      const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
      return stat === "" || /^\d+ \(.*\) Z /.test(stat) ? null : undefined;
    },
    async describe(pane) {
      const { stdout } = await tmux(
        "display-message",
        "-p",
        "-t",
        pane,
        "dead=#{pane_dead} status=#{pane_dead_status} pid=#{pane_pid}",
      );
      const pid = /pid=(\d+)/.exec(stdout)?.[1] ?? "";
      const ps = await runCommandOrThrow(["ps", "-o", "pid,stat,etime,args", "--ppid", pid, "-p", pid]).then(
        (r) => r.stdout,
        () => "(no process)",
      );
      return `${stdout.trim()}\n${ps}`;
    },
    async stop() {
      await tmux("kill-server").catch(() => {});
    },
  };
}
