import { rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { EXIT_CANNOT_RUN, EXIT_TIMED_OUT, runCommand } from "./run-command";
import { createAnswerReader, createSpawner, type HelperAnswer } from "./spawner";

describe("createSpawner", () => {
  it("collects stdout, stderr and the exit code, feeding stdin, as runCommand does", async () => {
    const spawner = createSpawner();
    const argv = ["sh", "-c", 'read line; echo "got $line"; echo oops >&2; exit 3'];
    const [viaHelper, direct] = await Promise.all([
      spawner.run(argv, { input: "hello\n" }),
      runCommand(argv, { input: "hello\n" }),
    ]);
    expect(viaHelper).toEqual(direct);
    expect(viaHelper).toMatchObject({ code: 3, stdout: "got hello\n", stderr: "oops\n", timedOut: false });
    spawner.close();
  });

  it("answers each of many concurrent commands with its own output, whole (2 MB, UTF-8)", async () => {
    const spawner = createSpawner();
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        spawner.run(["sh", "-c", `printf 'é%.0s' $(seq ${i + 1}); exit ${i % 7}`]),
      ),
    );
    results.forEach((result, i) => {
      expect(result.code).toBe(i % 7);
      expect(result.stdout).toBe("é".repeat(i + 1));
    });
    const big = await spawner.run(["head", "-c", String(2 * 1024 * 1024), "/dev/zero"]);
    expect(big.stdout.length).toBe(2 * 1024 * 1024);
    const echoed = await spawner.run(["cat"], { input: "x".repeat(300_000) });
    expect(echoed.stdout.length).toBe(300_000);
    spawner.close();
  });

  it("kills a command at its time limit (124) and reports one that cannot start (127)", async () => {
    const spawner = createSpawner();
    const [slow, missing] = await Promise.all([
      spawner.run(["sleep", "10"], { timeoutMs: 200 }),
      spawner.run(["/nonexistent/labnet-no-such-program"]),
    ]);
    expect(slow).toMatchObject({ code: EXIT_TIMED_OUT, signal: "SIGKILL", timedOut: true });
    expect(slow.stderr).toBe("timed out after 200 ms");
    expect(missing.code).toBe(EXIT_CANNOT_RUN);
    expect(missing.spawnError).toBeInstanceOf(Error);
    expect(missing.stderr).toContain("ENOENT");
    spawner.close();
  });

  it("fails the commands of a helper that died, and starts a new helper for the next", async () => {
    const spawner = createSpawner({ helpers: 1 });
    // The command's parent is the helper.
    const [killed, beside] = await Promise.all([
      spawner.run(["sh", "-c", "kill -9 $PPID; sleep 1"]),
      spawner.run(["sleep", "1"]),
    ]);
    for (const result of [killed, beside]) {
      expect(result.code).toBe(EXIT_CANNOT_RUN);
      expect(result.spawnError?.message).toMatch(
        /process starter exited \(SIGKILL\) before the command ended/,
      );
    }
    const again = await spawner.run(["echo", "back"]);
    expect(again).toMatchObject({ code: 0, stdout: "back\n" });
    spawner.close();
  });

  it("starts a second helper while the first is busy; one dying fails only its own commands", async () => {
    const spawner = createSpawner({ helpers: 2 });
    const [killed, beside] = await Promise.all([
      spawner.run(["sh", "-c", "sleep 0.2; kill -9 $PPID; sleep 1"]),
      spawner.run(["sh", "-c", "echo $PPID"]),
    ]);
    expect(killed.code).toBe(EXIT_CANNOT_RUN);
    expect(beside).toMatchObject({ code: 0 });
    const [first, second] = await Promise.all([
      spawner.run(["sh", "-c", "sleep 0.2; echo $PPID"]),
      spawner.run(["sh", "-c", "sleep 0.2; echo $PPID"]),
    ]);
    // Side by side, each from its own helper (the parent of each command).
    expect(first.stdout).not.toBe(second.stdout);
    spawner.close();
  });

  it("answers the commands still running when it is closed, then its helpers leave", async () => {
    const spawner = createSpawner();
    const running = spawner.run(["sh", "-c", "sleep 0.2; echo late"]);
    spawner.close();
    expect(await running).toMatchObject({ code: 0, stdout: "late\n" });
    // A new command after close starts a helper of its own.
    expect(await spawner.run(["echo", "again"])).toMatchObject({ code: 0, stdout: "again\n" });
    spawner.close();
  });

  it("holds its process open while a command runs, and not after", async () => {
    const script = path.join(tmpdir(), `labnet-spawner-${process.pid}.mts`);
    const spawnerPath = fileURLToPath(new URL("./spawner.ts", import.meta.url));
    await writeFile(
      script,
      `import { sharedSpawner } from ${JSON.stringify(spawnerPath)};\n` +
        `const { stdout } = await sharedSpawner().run(["sh", "-c", "sleep 0.3; echo ran"]);\n` +
        "process.stdout.write(stdout);\n",
    );
    const started = Date.now();
    const result = await runCommand([process.execPath, "--import", "tsx", script], {
      timeoutMs: 20_000,
    }).finally(() => rm(script, { force: true }));
    // Exit 13 would be a top-level await left unsettled: the helper's pipes did not hold it.
    expect(result).toMatchObject({ code: 0, stdout: "ran\n" });
    expect(Date.now() - started).toBeLessThan(15_000);
  });
});

describe("createAnswerReader", () => {
  it("reads answers split anywhere, output bytes included", () => {
    const answers: HelperAnswer[] = [];
    const read = createAnswerReader((answer) => answers.push(answer));
    const frame = (id: number, out: string, err: string) => {
      const [o, e] = [Buffer.from(out), Buffer.from(err)];
      const head = { id, exitCode: 0, signal: null, timedOut: false, out: o.length, err: e.length };
      return Buffer.concat([Buffer.from(`${JSON.stringify(head)}\n`), o, e]);
    };
    const stream = Buffer.concat([frame(1, "a\nb {}\n", "é"), frame(2, "", ""), frame(3, '{"x":1}\n', "")]);
    for (let i = 0; i < stream.length; i++) {
      read(stream.subarray(i, i + 1));
    }
    expect(answers.map((a) => [a.head.id, a.stdout, a.stderr])).toEqual([
      [1, "a\nb {}\n", "é"],
      [2, "", ""],
      [3, '{"x":1}\n', ""],
    ]);
  });
});
