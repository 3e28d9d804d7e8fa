/**
 * The reference deployments (infra/: Kubernetes manifests, the compose file, the Dockerfile,
 * the systemd units) checked without a cluster or a Docker engine: the manifests against the
 * Kubernetes schemas (kubernetes-models), and in all of them what the schemas cannot see:
 * every command runs a file that exists through a loader its workspace depends on, every
 * variable set is one that command reads, probes name public operations, references resolve.
 * The migration command they run is run here for real.
 */
import { execFile } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { openapiDocument } from "@labnet/api";
import { GatewayConfig, indexOperations } from "@labnet/gateway";
import { DaemonSet, Deployment } from "kubernetes-models/apps/v1";
import { Job } from "kubernetes-models/batch/v1";
import { Namespace, Service } from "kubernetes-models/v1";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { parseAllDocuments, parse as parseYaml } from "yaml";
import { ExecutorConfig } from "../../services/executor/src/config";
import { MigrateConfig } from "../../services/gateway/src/config";
import { postgresOptions } from "../helpers/database";
import { startTestLabnet, type TestLabnet } from "../helpers/labnet";

const run = promisify(execFile);
const REPO = fileURLToPath(new URL("../..", import.meta.url));
const INFRA = join(REPO, "infra");
const IMAGE_WORKDIR = "/opt/labnet";
/** The Secret `labnet`'s keys, as infra/README.md lists them. */
const SECRET_KEYS = new Set(["database-url", "redis-url", "admin-token"]);

type Json = Record<string, unknown>;
const asObject = (value: unknown): Json => (value && typeof value === "object" ? (value as Json) : {});
const asArray = (value: unknown): Json[] => (Array.isArray(value) ? value.map(asObject) : []);

/** The environment each entry point reads: what its config schema parses. */
const ENTRY_POINTS: Record<string, Set<string>> = {
  "services/gateway/src/main.ts": new Set(Object.keys(GatewayConfig.shape)),
  "services/executor/src/main.ts": new Set(Object.keys(ExecutorConfig.shape)),
  "services/gateway/src/migrate-main.ts": new Set(Object.keys(MigrateConfig.shape)),
};

/**
 * Problems with a command as a deployment writes it (argv, relative to the repo checkout):
 * `node --import <loader> <entry>` with the entry a known entry point and the loader a
 * runtime dependency of the entry's workspace (a production install has no devDependencies).
 */
function commandProblems(argv: readonly string[]): string[] {
  const [node, flag, loader, entry, ...rest] = argv;
  if (!/(^|\/)node$/.test(node ?? "") || flag !== "--import" || !loader || !entry || rest.length > 0) {
    return [`not \`node --import <loader> <entry>\`: ${JSON.stringify(argv)}`];
  }
  const problems: string[] = [];
  if (!existsSync(join(REPO, entry))) {
    problems.push(`${entry} does not exist`);
  }
  if (!(entry in ENTRY_POINTS)) {
    problems.push(`${entry} is not an entry point this test knows (add it to ENTRY_POINTS)`);
  }
  const workspace = join(REPO, entry.split("/").slice(0, 2).join("/"));
  const dependencies = asObject(
    JSON.parse(readFileSync(join(workspace, "package.json"), "utf8")).dependencies,
  );
  if (!(loader in dependencies)) {
    problems.push(
      `${loader} is not a dependency of ${relative(REPO, workspace)}, so a production install lacks it`,
    );
  }
  return problems;
}

/** Variables set for `entry` that it does not read (a typo, or a setting that went away). */
function unreadVariables(entry: string, names: readonly string[]): string[] {
  const known = ENTRY_POINTS[entry] ?? new Set<string>();
  return names.filter((name) => !known.has(name));
}

// --- Kubernetes -------------------------------------------------------------------------------

const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  "v1/Namespace": Namespace,
  "v1/Service": Service,
  "apps/v1/Deployment": Deployment,
  "apps/v1/DaemonSet": DaemonSet,
  "batch/v1/Job": Job,
};

interface Manifest {
  file: string;
  doc: Json;
}

function loadManifests(): Manifest[] {
  const dir = join(INFRA, "k8s");
  return readdirSync(dir)
    .filter((name) => name.endsWith(".yaml"))
    .sort()
    .flatMap((name) =>
      parseAllDocuments(readFileSync(join(dir, name), "utf8")).map((document) => {
        expect(document.errors, `${name}: YAML errors`).toEqual([]);
        return { file: name, doc: asObject(document.toJS()) };
      }),
    );
}

const kindOf = (doc: Json) => `${String(doc.apiVersion)}/${String(doc.kind)}`;
const podTemplateOf = (doc: Json) => asObject(asObject(doc.spec).template);

describe("Kubernetes manifests (infra/k8s)", () => {
  const manifests = loadManifests();
  const workloads = manifests.filter((m) => Object.keys(asObject(podTemplateOf(m.doc).spec)).length > 0);
  const operations = [...indexOperations(openapiDocument).values()];

  it("are the kinds expected, each valid against the Kubernetes schema", () => {
    expect(manifests.map((m) => `${m.file}: ${kindOf(m.doc)}`)).toEqual([
      "00-namespace.yaml: v1/Namespace",
      "executor-daemonset.yaml: apps/v1/DaemonSet",
      "gateway-deployment.yaml: apps/v1/Deployment",
      "gateway-deployment.yaml: v1/Service",
      "migrate-job.yaml: batch/v1/Job",
    ]);
    for (const { file, doc } of manifests) {
      const Model = MODELS[kindOf(doc)];
      expect(Model, `${file}: ${kindOf(doc)} has no model here`).toBeDefined();
      if (Model) {
        expect(() => new Model(doc as never).validate(), `${file}: ${kindOf(doc)}`).not.toThrow();
      }
    }
  });

  it("live in the namespace the manifests create, a workload's selector picking its own pods", () => {
    const namespaces = manifests
      .filter((m) => m.doc.kind === "Namespace")
      .map((m) => asObject(m.doc.metadata).name);
    expect(namespaces).toEqual(["labnet"]);
    for (const { file, doc } of manifests.filter((m) => m.doc.kind !== "Namespace")) {
      expect(asObject(doc.metadata).namespace, `${file}: ${String(doc.kind)} namespace`).toBe("labnet");
    }
    for (const { file, doc } of workloads.filter((m) => m.doc.kind !== "Job")) {
      const selector = asObject(asObject(asObject(doc.spec).selector).matchLabels);
      const labels = asObject(asObject(podTemplateOf(doc).metadata).labels);
      expect(Object.keys(selector).length, `${file}: empty selector`).toBeGreaterThan(0);
      expect(labels, `${file}: selector matches the pod template`).toMatchObject(selector);
    }
  });

  it("run their containers as written: the command, its variables, its secrets, one image", () => {
    const problems: string[] = [];
    const images = new Set<string>();
    for (const { file, doc } of workloads) {
      for (const container of asArray(asObject(podTemplateOf(doc).spec).containers)) {
        const where = `${file} ${String(container.name)}`;
        images.add(String(container.image));
        const argv = (container.command ?? []) as string[];
        problems.push(...commandProblems(argv).map((p) => `${where}: ${p}`));
        const env = asArray(container.env);
        const entry = argv[3] ?? "";
        problems.push(
          ...unreadVariables(
            entry,
            env.map((e) => String(e.name)),
          ).map((name) => `${where}: sets ${name}, which ${entry} does not read`),
        );
        for (const variable of env) {
          const ref = asObject(asObject(variable.valueFrom).secretKeyRef);
          if (Object.keys(ref).length > 0 && (ref.name !== "labnet" || !SECRET_KEYS.has(String(ref.key)))) {
            problems.push(
              `${where}: ${String(variable.name)} from secret ${String(ref.name)}/${String(ref.key)}`,
            );
          }
        }
      }
    }
    expect(problems).toEqual([]);
    expect([...images]).toEqual(["ghcr.io/labnet/labnet:latest"]);
  });

  it("probe public GET operations of the contract on a port the container names", () => {
    const publicGets = new Set(operations.filter((o) => o.method === "get" && !o.secured).map((o) => o.path));
    const probed: string[] = [];
    for (const { file, doc } of workloads) {
      for (const container of asArray(asObject(podTemplateOf(doc).spec).containers)) {
        const ports = new Set(asArray(container.ports).map((p) => p.name));
        for (const probe of ["livenessProbe", "readinessProbe", "startupProbe"]) {
          const httpGet = asObject(asObject(container[probe]).httpGet);
          if (Object.keys(httpGet).length === 0) {
            continue;
          }
          probed.push(`${file} ${probe} ${String(httpGet.path)}`);
          expect(publicGets.has(String(httpGet.path)), `${file} ${probe}: ${String(httpGet.path)}`).toBe(
            true,
          );
          expect(ports.has(httpGet.port), `${file} ${probe}: port ${String(httpGet.port)}`).toBe(true);
        }
      }
    }
    expect(probed).toEqual([
      "gateway-deployment.yaml livenessProbe /v1/healthz",
      "gateway-deployment.yaml readinessProbe /v1/readyz",
    ]);
  });

  it("mount only declared volumes, with Bidirectional propagation only where privileged", () => {
    for (const { file, doc } of workloads) {
      const pod = asObject(podTemplateOf(doc).spec);
      const volumes = new Set(asArray(pod.volumes).map((v) => v.name));
      for (const container of asArray(pod.containers)) {
        const privileged = asObject(container.securityContext).privileged === true;
        for (const mount of asArray(container.volumeMounts)) {
          expect(volumes.has(mount.name), `${file}: volume ${String(mount.name)} is declared`).toBe(true);
          if (mount.mountPropagation === "Bidirectional") {
            // The API server refuses it otherwise; the schema does not say so.
            expect(privileged, `${file}: ${String(mount.mountPath)} Bidirectional needs privileged`).toBe(
              true,
            );
          }
        }
      }
    }
    const executor = manifests.find((m) => m.doc.kind === "DaemonSet");
    const pod = asObject(podTemplateOf(executor?.doc ?? {}).spec);
    expect(pod.hostNetwork).toBe(true);
    const mounts = asArray(asArray(pod.containers)[0]?.volumeMounts);
    expect(mounts.filter((m) => m.mountPropagation === "Bidirectional").map((m) => m.mountPath)).toEqual([
      "/run/netns",
      "/run/labnet",
    ]);
  });

  it("put a Service in front of a workload's named port", () => {
    for (const { file, doc } of manifests.filter((m) => m.doc.kind === "Service")) {
      const spec = asObject(doc.spec);
      const selector = asObject(spec.selector);
      const backends = workloads.filter((w) => {
        const labels = asObject(asObject(podTemplateOf(w.doc).metadata).labels);
        return Object.entries(selector).every(([k, v]) => labels[k] === v);
      });
      expect(
        backends.map((w) => asObject(w.doc.metadata).name),
        `${file}: Service backends`,
      ).toEqual(["labnet-gateway"]);
      const named = new Set(
        backends.flatMap((w) =>
          asArray(asObject(podTemplateOf(w.doc).spec).containers).flatMap((c) =>
            asArray(c.ports).map((p) => p.name),
          ),
        ),
      );
      for (const port of asArray(spec.ports)) {
        expect(named.has(port.targetPort), `${file}: targetPort ${String(port.targetPort)}`).toBe(true);
      }
    }
  });
});

// --- Compose, Dockerfile, systemd -------------------------------------------------------------

describe("the compose file (infra/compose.yaml)", () => {
  const compose = asObject(parseYaml(readFileSync(join(INFRA, "compose.yaml"), "utf8"), { merge: true }));
  const services = asObject(compose.services);
  const volumes = new Set(Object.keys(asObject(compose.volumes)));

  it("has the services of one machine, each built or pulled, depending on services that exist", () => {
    expect(Object.keys(services).sort()).toEqual(["executor", "gateway", "migrate", "postgres", "redis"]);
    for (const [name, raw] of Object.entries(services)) {
      const service = asObject(raw);
      const build = asObject(service.build);
      if (Object.keys(build).length > 0) {
        expect(
          existsSync(join(INFRA, String(build.context), String(build.dockerfile))),
          `${name}: dockerfile`,
        ).toBe(true);
      } else {
        expect(typeof service.image, `${name}: image`).toBe("string");
      }
      for (const [target, condition] of Object.entries(asObject(service.depends_on))) {
        const dependency = asObject(services[target]);
        expect(Object.keys(dependency).length, `${name} depends on ${target}`).toBeGreaterThan(0);
        const wanted = String(asObject(condition).condition);
        expect(["service_healthy", "service_completed_successfully", "service_started"]).toContain(wanted);
        if (wanted === "service_healthy") {
          expect(dependency.healthcheck, `${target} has a healthcheck for ${name}`).toBeDefined();
        }
      }
      for (const volume of (service.volumes ?? []) as unknown[]) {
        if (typeof volume === "string" && !volume.startsWith("/")) {
          expect(volumes.has(volume.split(":")[0] ?? ""), `${name}: volume ${volume}`).toBe(true);
        }
      }
    }
  });

  it("runs the Labnet services as written, with variables they read and addresses they reach", () => {
    const problems: string[] = [];
    for (const name of ["migrate", "gateway", "executor"]) {
      const service = asObject(services[name]);
      const argv = service.command as string[];
      problems.push(...commandProblems(argv).map((p) => `${name}: ${p}`));
      const env = asObject(service.environment);
      problems.push(
        ...unreadVariables(argv[3] ?? "", Object.keys(env)).map((v) => `${name}: sets ${v}, unread`),
      );
      const hostNetwork = service.network_mode === "host";
      for (const [variable, scheme, target] of [
        ["DATABASE_URL", "postgres:", "postgres"],
        ["REDIS_URL", "redis:", "redis"],
      ] as const) {
        if (env[variable] === undefined) {
          continue;
        }
        const url = new URL(String(env[variable]));
        expect(url.protocol, `${name} ${variable}`).toBe(scheme);
        const port = url.port || (scheme === "postgres:" ? "5432" : "6379");
        if (hostNetwork) {
          // In the host's network the service is reached where compose publishes it.
          const published = (asObject(services[target]).ports ?? []) as string[];
          expect(published, `${name} ${variable}`).toContain(`${url.hostname}:${port}:${port}`);
        } else {
          expect(url.hostname, `${name} ${variable}`).toBe(target);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it("gives the executor the host's network, a writable /proc/sys and the host's namespace mounts", () => {
    const executor = asObject(services.executor);
    expect(executor.network_mode).toBe("host");
    // Docker mounts /proc/sys read-only in unprivileged containers: ip_forward could not be set.
    expect(executor.privileged).toBe(true);
    const binds = asArray(executor.volumes).filter((v) => v.type === "bind");
    const shared = binds
      .filter((v) => asObject(v.bind).propagation === "rshared")
      .map((v) => [v.source, v.target]);
    expect(shared).toEqual([
      ["/run/netns", "/run/netns"],
      ["/run/labnet", "/run/labnet"],
    ]);
  });
});

describe("the Dockerfile and the systemd units", () => {
  it("run the entry points as written, from the image's or the unit's working directory", () => {
    const dockerfile = readFileSync(join(INFRA, "Dockerfile"), "utf8");
    expect(dockerfile).toContain(`WORKDIR ${IMAGE_WORKDIR}`);
    // Only runtime dependencies in the image: what commandProblems checks is what it has.
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    const cmd = /^CMD (\[.*\])$/m.exec(dockerfile)?.[1];
    expect(commandProblems(JSON.parse(cmd ?? "[]"))).toEqual([]);
    for (const unit of readdirSync(join(INFRA, "systemd"))) {
      const text = readFileSync(join(INFRA, "systemd", unit), "utf8");
      expect(text, unit).toContain(`WorkingDirectory=${IMAGE_WORKDIR}`);
      const execStart = /^ExecStart=(.*)$/m.exec(text)?.[1] ?? "";
      expect(commandProblems(execStart.split(/\s+/)), unit).toEqual([]);
    }
  });
});

// --- What the probes reach ---------------------------------------------------------------------

describe("the probes the manifests name", () => {
  let labnet: TestLabnet;
  beforeAll(async () => {
    labnet = await startTestLabnet();
  });
  afterAll(async () => {
    await labnet?.stop();
  });

  // The kubelet sends no token: public are exactly the operations the document leaves unsecured.
  it("answer without a token, where the rest of the API asks for one", async () => {
    const anonymous = (path: string) => labnet.app.fetch(new Request(`http://labnet.test${path}`));
    expect((await anonymous("/v1/healthz")).status).toBe(200);
    expect((await anonymous("/v1/readyz")).status).not.toBe(401);
    for (const path of ["/v1/networks", "/v1/hosts", "/v1/whoami", "/v1/healthz/x"]) {
      expect((await anonymous(path)).status, path).toBe(401);
    }
  });
});

// --- The migration step, for real ------------------------------------------------------------

describe("the migration command (compose's migrate, the Kubernetes Job)", () => {
  it("migrates an empty database, also when two run at once (gateways starting together)", async () => {
    const base = inject("databaseUrl");
    const name = `deploy_${process.pid}_${Date.now().toString(36)}`;
    const admin = postgres({ ...postgresOptions(base), database: "postgres", max: 1, onnotice: () => {} });
    await admin.unsafe(`create database "${name}"`);
    try {
      const url = new URL(base);
      url.pathname = `/${name}`;
      const migrate = () =>
        run("node", ["--import", "tsx", "services/gateway/src/migrate-main.ts"], {
          cwd: REPO,
          env: { ...process.env, DATABASE_URL: url.toString() },
          timeout: 60_000,
        });
      const results = await Promise.all([migrate(), migrate()]);
      expect(results.map((r) => r.stdout.trim())).toEqual(["migrations applied", "migrations applied"]);

      const journal = JSON.parse(
        readFileSync(join(REPO, "packages/db/migrations/meta/_journal.json"), "utf8"),
      ) as { entries: unknown[] };
      const db = postgres({ ...postgresOptions(url.toString()), max: 1, onnotice: () => {} });
      try {
        const [row] = await db`select count(*)::int as applied from drizzle.__drizzle_migrations`;
        expect(row?.applied).toBe(journal.entries.length);
      } finally {
        await db.end({ timeout: 5 });
      }
      await expect(
        run("node", ["--import", "tsx", "services/gateway/src/migrate-main.ts"], {
          cwd: REPO,
          env: { ...process.env, DATABASE_URL: "not a url" },
        }),
      ).rejects.toMatchObject({ stderr: expect.stringContaining("DATABASE_URL") });
    } finally {
      await admin.unsafe(`drop database if exists "${name}" with (force)`);
      await admin.end({ timeout: 5 });
    }
  }, 90_000);
});
