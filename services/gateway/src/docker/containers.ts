/** `docker run|create|start|ps|inspect|port|rm|rename` against one machine: containers are Labnet nodes. */
import { randomInt } from "node:crypto";
import { createNode, DomainError, deleteNode, renameNode, startNode } from "@labnet/commands";
import { findNodes, getNode, listNodeDetails, type NodeRow, nodeDetailsByIds } from "@labnet/db";
import type { AppDeps } from "../routes/deps";
import { admitDockerChange, type DockerRoute, param } from "./access";
import { DOCKER_LABELS, nodeCreationOf } from "./container-create";
import { containerInspectOf, containerSummaryOf, dockerStateOf } from "./container-view";
import { assertContract } from "./contract";
import { DockerError } from "./errors";
import { markAttached, wasAttached } from "./exec-store";
import { DockerFilters } from "./filters";
import { dockerNodesOf, findDockerContainer, settle } from "./lookup";
import { frame, hijackHeaders } from "./streams";
import { queryBool } from "./values";

/** How long a wait for a node's removal stays open (the client may end it sooner). */
const WAIT_LIMIT_MS = 10 * 60_000;

/** dockerd's rule for container names (Labnet's allows at most 63 characters). */
const CONTAINER_NAME = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/;

export function registerDockerContainerRoutes(route: DockerRoute, deps: AppDeps): void {
  const { db, redis } = deps;

  route("GET", "/containers/json", async (c) => {
    const machine = c.get("machine");
    const filters = DockerFilters.parse(c.req.query("filters"), [
      "id",
      "name",
      "label",
      "status",
      "network",
      "ancestor",
    ]);
    const all = queryBool(c.req.query("all"));
    const nodes = new Set((await dockerNodesOf(db, machine)).map((n) => n.id));
    const details = (await listNodeDetails(db, { hostId: machine.id })).filter((d) => nodes.has(d.node.id));
    const now = Date.now();
    const listed = details.filter((d) => {
      const state = dockerStateOf(d);
      return (
        (all || filters.has("status") || state === "running") &&
        filters.match("id", d.node.id) &&
        filters.match("name", `/${d.node.name}`) &&
        filters.kv("label", d.node.labels) &&
        filters.exact("status", state) &&
        filters.exact("ancestor", d.node.labels[DOCKER_LABELS.image] ?? "") &&
        (!filters.has("network") ||
          d.endpoints.some((e) =>
            filters.values("network").some((n) => n === e.networkName || n === e.networkId),
          ))
      );
    });
    // Newest first, as dockerd lists them.
    return c.json(
      listed.reverse().map((d) => containerSummaryOf(d, now)),
      200,
    );
  });

  route("POST", "/containers/create", async (c) => {
    const machine = c.get("machine");
    const given = c.req.query("name");
    if (given !== undefined && given !== "" && !CONTAINER_NAME.test(given)) {
      throw new DockerError(
        400,
        `Invalid container name (${given}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`,
      );
    }
    const name = given ? given.replace(/^\//, "") : randomName();
    const { input, warnings } = nodeCreationOf(await c.req.json().catch(() => undefined), name, machine.id);
    assertContract("CreateNodeRequest", input);
    await admitDockerChange(db, c, { what: "containerCreate", action: "nodes" });
    try {
      // Recorded, not built: `docker start` (also the second half of `docker run`) builds it.
      const { node } = await createNode({ ctx: deps.commands, input, start: false });
      return c.json({ Id: node.id, Warnings: warnings }, 201);
    } catch (error) {
      throw await createProblem(error, machine.id, name);
    }
  });

  route("GET", "/containers/:container/json", async (c) => {
    const node = await findDockerContainer(db, c.get("machine"), param(c, "container"));
    const [details] = await nodeDetailsByIds(db, [node.id]);
    if (!details) {
      throw new DockerError(404, `No such container: ${param(c, "container")}`);
    }
    return c.json(containerInspectOf(details), 200);
  });

  route("POST", "/containers/:container/start", async (c) => {
    const node = await findDockerContainer(db, c.get("machine"), param(c, "container"));
    // An attached `docker run --rm`: the run is over once started (a node has no process), so it goes.
    const removing = node.labels[DOCKER_LABELS.autoRemove] === "true" && (await wasAttached(redis, node.id));
    await admitDockerChange(db, c, {
      what: removing ? "containerRemove" : "containerStart",
      ...(removing ? { action: "nodes" as const } : {}),
      target: { type: "node", id: node.id },
    });
    // A created node gets the operation that builds it; a started one is waited for until built.
    const { operation } = await startNode({ ctx: deps.commands, ref: node.id });
    if (operation) {
      await settle(deps, operation);
    }
    if (removing) {
      await removeNode(node);
    }
    return c.body(null, 204);
  });

  route("DELETE", "/containers/:container", async (c) => {
    const node = await findDockerContainer(db, c.get("machine"), param(c, "container"));
    await admitDockerChange(db, c, {
      what: "containerRemove",
      action: "nodes",
      target: { type: "node", id: node.id },
    });
    // dockerd removes a running container only with force (`docker rm -f`); a built node runs.
    if (node.state === "ready" && !queryBool(c.req.query("force"))) {
      throw new DockerError(
        409,
        `cannot remove container "/${node.name}": container is running: stop the container before removing or force remove`,
      );
    }
    await removeNode(node);
    return c.body(null, 204);
  });

  route("POST", "/containers/:container/rename", async (c) => {
    const machine = c.get("machine");
    const node = await findDockerContainer(db, machine, param(c, "container"));
    const name = c.req.query("name") ?? "";
    if (!CONTAINER_NAME.test(name)) {
      throw new DockerError(
        400,
        `Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`,
      );
    }
    await admitDockerChange(db, c, {
      what: "containerRename",
      action: "nodes",
      target: { type: "node", id: node.id },
    });
    try {
      const { operation } = await renameNode({
        ctx: deps.commands,
        ref: node.id,
        name: name.replace(/^\//, ""),
        location: "query.name",
      });
      await settle(deps, operation);
    } catch (error) {
      throw await createProblem(error, machine.id, name.replace(/^\//, ""));
    }
    return c.body(null, 204);
  });

  // `docker run` without -d attaches to the container's process; a node has none.
  route("POST", "/containers/:container/attach", async (c) => {
    const node = await findDockerContainer(db, c.get("machine"), param(c, "container"));
    await admitDockerChange(db, c, { what: "containerAttach", target: { type: "node", id: node.id } });
    const tty = node.labels[DOCKER_LABELS.tty] === "true";
    await markAttached(redis, node.id);
    const message = `labnet: ${node.name} is a Labnet node: it has no shell or process to attach to (run it with -d; docker exec ${node.name} ping|curl|ip ... runs diagnostics in it)\n`;
    return new Response(frame("stderr", message, tty), { status: 200, headers: hijackHeaders(tty) });
  });

  // The docker CLI sends start only once this answers its headers: they go at once, the body when
  // the condition holds (a node's process never exits; `removed` once the node is gone).
  route("POST", "/containers/:container/wait", async (c) => {
    const node = await findDockerContainer(db, c.get("machine"), param(c, "container"));
    await admitDockerChange(db, c, { what: "containerWait", target: { type: "node", id: node.id } });
    const untilRemoved = c.req.query("condition") === "removed";
    const done = new TextEncoder().encode(`${JSON.stringify({ StatusCode: 0, Error: null })}\n`);
    let cancelled = false;
    const body = new ReadableStream<Uint8Array>({
      start: async (controller) => {
        const deadline = Date.now() + WAIT_LIMIT_MS;
        while (untilRemoved && !cancelled && Date.now() < deadline && (await getNode(db, node.id))) {
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
        if (!cancelled) {
          controller.enqueue(done);
          controller.close();
        }
      },
      cancel: () => {
        cancelled = true;
      },
    });
    return new Response(body, { status: 200, headers: { "content-type": "application/json" } });
  });

  route("POST", "/containers/:container/resize", async (c) => {
    const node = await findDockerContainer(db, c.get("machine"), param(c, "container"));
    await admitDockerChange(db, c, { what: "containerResize", target: { type: "node", id: node.id } });
    return c.body(null, 200);
  });

  for (const verb of ["stop", "kill", "restart", "pause", "unpause"]) {
    route("POST", `/containers/:container/${verb}`, async (c) => {
      const node = await findDockerContainer(db, c.get("machine"), param(c, "container"));
      await admitDockerChange(db, c, {
        what: `container${verb[0]?.toUpperCase()}${verb.slice(1)}`,
        target: { type: "node", id: node.id },
      });
      throw new DockerError(
        409,
        `Labnet nodes have no process to ${verb}: ${node.name} runs as long as it exists (docker rm -f ${node.name} removes it)`,
      );
    });
  }

  async function removeNode(node: NodeRow): Promise<void> {
    const { operation } = await deleteNode({ ctx: deps.commands, ref: node.id });
    await settle(deps, operation);
  }

  /** dockerd's words for a name in use (it names the holder), Labnet's problem otherwise. */
  async function createProblem(error: unknown, hostId: string, name: string): Promise<unknown> {
    if (error instanceof DomainError && error.code === "NAME_CONFLICT") {
      const [holder] = await findNodes(db, name, hostId);
      return new DockerError(
        409,
        `Conflict. The container name "/${name}" is already in use by container "${holder?.id ?? ""}". You have to remove (or rename) that container to be able to reuse that name.`,
        { cause: error },
      );
    }
    if (error instanceof DomainError && error.code === "NOT_FOUND") {
      // Never a 404 from create: the docker CLI takes any 404 there for a missing image and pulls.
      return new DockerError(400, error.message, { cause: error });
    }
    return error;
  }
}

const ADJECTIVES = ["brave", "calm", "eager", "happy", "jolly", "keen", "lucid", "nifty", "quirky", "vivid"];
const NAMES = [
  "hopper",
  "lovelace",
  "turing",
  "shannon",
  "ritchie",
  "thompson",
  "cerf",
  "kahn",
  "perlman",
  "postel",
];

/** A name for a node created without one, dockerd's way (adjective_scientist) with a suffix. */
function randomName(): string {
  const pick = (list: readonly string[]) => list[randomInt(list.length)] ?? "node";
  return `${pick(ADJECTIVES)}_${pick(NAMES)}_${randomInt(1000)}`;
}
