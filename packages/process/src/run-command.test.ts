import { describe, expect, it } from "vitest";
import { EXIT_CANNOT_RUN, EXIT_TIMED_OUT, runCommand, runCommandOrThrow } from "./run-command";

describe("runCommand", () => {
  it("collects stdout and stderr and the exit code, feeding stdin", async () => {
    const result = await runCommand(["sh", "-c", 'read line; echo "got $line"; echo oops >&2; exit 3'], {
      input: "hello\n",
    });
    expect(result).toMatchObject({
      code: 3,
      signal: null,
      stdout: "got hello\n",
      stderr: "oops\n",
      timedOut: false,
    });
  });

  it("kills a command at its time limit: 124, and stderr says so", async () => {
    const started = Date.now();
    const result = await runCommand(["sleep", "10"], { timeoutMs: 200 });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(result).toMatchObject({ code: EXIT_TIMED_OUT, signal: "SIGKILL", timedOut: true });
    expect(result.stderr).toBe("timed out after 200 ms");
  });

  it("reports a program that cannot start as 127 with the reason, never rejecting", async () => {
    const result = await runCommand(["/nonexistent/labnet-no-such-program"]);
    expect(result.code).toBe(EXIT_CANNOT_RUN);
    expect(result.spawnError).toBeInstanceOf(Error);
    expect(result.stderr).toContain("ENOENT");
  });

  it("reports a command killed by a signal as 128 + its number", async () => {
    const result = await runCommand(["sh", "-c", "kill -TERM $$"]);
    expect(result).toMatchObject({ code: 128 + 15, signal: "SIGTERM", timedOut: false });
  });

  it("never passes through a shell: metacharacters are plain arguments", async () => {
    const result = await runCommand(["echo", "$(id)", ";", "|"]);
    expect(result.stdout).toBe("$(id) ; |\n");
  });
});

describe("runCommandOrThrow", () => {
  it("returns the result of a command that exits 0", async () => {
    expect((await runCommandOrThrow(["true"])).code).toBe(0);
  });

  it("throws naming the command, the exit and its stderr", async () => {
    await expect(runCommandOrThrow(["sh", "-c", "echo broken >&2; exit 2"])).rejects.toThrow(
      "`sh -c echo broken >&2; exit 2` exited 2: broken",
    );
  });
});
