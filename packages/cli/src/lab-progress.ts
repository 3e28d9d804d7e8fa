import { phaseOf, type Schema } from "@labnet/api";
import { MultiBar, Presets, type SingleBar } from "cli-progress";
import type { CliStream } from "./context";

type Lab = Schema<"Lab">;
type LabInstance = Schema<"LabInstance">;

/** How far an instance is built: its machines and nodes that are ready, of all of them. */
export function instanceProgress(instance: LabInstance): { done: number; total: number } {
  const parts = [...instance.machines, ...instance.nodes];
  const total = Math.max(parts.length, 1);
  if (phaseOf(instance.state) === "ready") {
    return { done: total, total };
  }
  return { done: parts.filter((p) => phaseOf(p.state) === "ready").length, total };
}

/** `12/30 ready`, with the failed and still-building counts when there are any. */
export function summaryLine(lab: Pick<Lab, "summary">): string {
  const { ready, total, failed, provisioning } = lab.summary;
  const parts = [`${ready}/${total} ready`];
  if (provisioning > 0) {
    parts.push(`${provisioning} provisioning`);
  }
  if (failed > 0) {
    parts.push(`${failed} failed`);
  }
  return parts.join(", ");
}

/** True once no instance is still being built. */
export function labSettled(lab: Lab): boolean {
  return lab.instances.every((i) => phaseOf(i.state) !== "pending");
}

/** Shows a lab being built; `update` with every read, `stop` at the end. */
export interface LabProgressView {
  update(lab: Lab): void;
  stop(): void;
}

/** Lines left for the table and the prompt when bars are drawn per instance. */
const SPARE_ROWS = 4;

/**
 * On a terminal: a bar for the lab (`12/30 ready`) and, when they fit on the screen, one bar per
 * instance (its machines and nodes built). Elsewhere (a pipe, a log): one line per change of
 * the summary.
 */
export function createLabProgress(stream: CliStream): LabProgressView {
  if (!stream.isTTY) {
    let last = "";
    return {
      update(lab) {
        const line = summaryLine(lab);
        if (line !== last) {
          stream.write(`${lab.name}: ${line}\n`);
          last = line;
        }
      },
      stop() {},
    };
  }
  const bars = new MultiBar(
    {
      format: "{label} {bar} {status}",
      barsize: 24,
      hideCursor: true,
      clearOnComplete: false,
      stopOnComplete: false,
      autopadding: true,
      forceRedraw: true,
      // A real terminal here: process.stderr (cli-progress moves the cursor on it).
      stream: stream as NodeJS.WritableStream,
    },
    Presets.shades_classic,
  );
  let total: SingleBar | undefined;
  const perInstance = new Map<string, SingleBar>();
  return {
    update(lab) {
      const width = Math.max(...lab.instances.map((i) => i.student.length), 3);
      if (!total) {
        total = bars.create(lab.summary.total, 0, { label: "lab".padEnd(width), status: "" });
        const fits = lab.instances.length + SPARE_ROWS <= (stream.rows ?? 24);
        for (const instance of fits ? lab.instances : []) {
          const { total: parts } = instanceProgress(instance);
          perInstance.set(
            instance.id,
            bars.create(parts, 0, { label: instance.student.padEnd(width), status: "" }),
          );
        }
      }
      total.setTotal(lab.summary.total);
      total.update(lab.summary.ready, { status: summaryLine(lab) });
      for (const instance of lab.instances) {
        const bar = perInstance.get(instance.id);
        if (bar) {
          const { done, total: parts } = instanceProgress(instance);
          bar.setTotal(parts);
          bar.update(done, { status: `${done}/${parts} ${instance.state}` });
        }
      }
    },
    stop() {
      bars.stop();
    },
  };
}
