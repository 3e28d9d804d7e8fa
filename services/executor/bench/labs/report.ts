/** The labs bench's tables: per class size, each step's times and ratios, then the grading counts. */
import { ms, seconds as s, table, ratio as x } from "../harness";
import { CHECKS_PER_INSTANCE, TEMPLATE } from "./config";
import type { LabnetClass } from "./labnet";

export interface BatchedGrading {
  ms: number;
  /** Students whose app_container got an answer from web_container's app address. */
  answered: number;
}

export interface BatchedClass {
  setupMs: number;
  before: BatchedGrading;
  solveMs: number;
  after: BatchedGrading;
  teardownMs: number;
}

export interface ClassResult {
  n: number;
  labnet: LabnetClass;
  batched: BatchedClass;
}

const steps = [
  ["setup", (l: LabnetClass) => l.setupMs, (b: BatchedClass) => b.setupMs],
  ["grading before solve", (l: LabnetClass) => l.before.ms, (b: BatchedClass) => b.before.ms],
  ["solve", (l: LabnetClass) => l.solveMs, (b: BatchedClass) => b.solveMs],
  ["grading after solve", (l: LabnetClass) => l.after.ms, (b: BatchedClass) => b.after.ms],
  ["teardown", (l: LabnetClass) => l.teardownMs, (b: BatchedClass) => b.teardownMs],
] as const;

export function printClasses(results: readonly ClassResult[]): void {
  if (results.length === 0) {
    return;
  }
  const rows = results.flatMap((r) => {
    const all = [
      ...steps.map(([name, labnet, batched]) => [name, labnet(r.labnet), batched(r.batched)] as const),
      [
        "total",
        steps.reduce((t, [, labnet]) => t + labnet(r.labnet), 0),
        steps.reduce((t, [, , batched]) => t + batched(r.batched), 0),
      ] as const,
    ];
    return all.map(([name, labnet, batched]) => [
      String(r.n),
      name,
      s(labnet),
      s(batched),
      x(labnet / batched),
      ms(labnet / r.n),
      ms(batched / r.n),
    ]);
  });
  const lines = [
    "",
    `Lab of ${TEMPLATE} for N students (per instance one machine on a LAN of its own, its default`,
    "bridge and networks web and app, web_container and app_container): Labnet over HTTP (POST /v1/labs",
    "until every instance is ready; POST .../checks with `Prefer: wait=60` until the run is done; POST",
    ".../solve until every operation it recorded has settled; DELETE until 404 and no namespace left)",
    "against the same kernel state built by batched standard tools in the same namespace (seconds; L/B =",
    "Labnet / batched; ms per instance)",
    "",
    table(["N", "step", "labnet s", "batched s", "L/B", "ms/instance labnet", "ms/instance batched"], rows),
    "",
    `Grading: Labnet runs the template's ${CHECKS_PER_INSTANCE} checks in every instance (reachability by ICMP and by name,`,
    "names that resolve or not, expected failures), 16 probes at once; the batched baseline runs one",
    "`ip netns exec <app_container> ping -n -c 1 -W 2 <web_container's app address>` per student (Labnet's",
    "ICMP probe), 16 at once.",
    'Before the solution "app_container reaches web_container.app" must fail in every instance, after it',
    "every check must pass (the bench fails otherwise)",
    "",
    table(
      [
        "N",
        "run",
        "labnet checks passed",
        "labnet checks failed",
        "app reaches web.app (labnet)",
        "ping answered (batched)",
      ],
      results.flatMap((r) =>
        (
          [
            ["before solve", r.labnet.before, r.batched.before],
            ["after solve", r.labnet.after, r.batched.after],
          ] as const
        ).map(([run, labnet, batched]) => [
          String(r.n),
          run,
          String(labnet.passed),
          String(labnet.failed),
          `${labnet.reaching}/${labnet.instances}`,
          `${batched.answered}/${r.n}`,
        ]),
      ),
    ),
    "",
  ];
  process.stdout.write(lines.join("\n"));
}
