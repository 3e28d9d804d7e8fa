/** `/_ping`, `docker version`, `docker info`, and the image calls a node never needs. */

import { listNodeDetails } from "@labnet/db";
import type { AppDeps } from "../routes/deps";
import type { DockerRoute } from "./access";
import { API_VERSION, MIN_API_VERSION } from "./api-version";
import { dockerStateOf } from "./container-view";
import { DockerError } from "./errors";
import { dockerNodesOf } from "./lookup";

/** What the facade says it is (`docker version`'s Server: Engine). */
export const SERVER_VERSION = "labnet";

export function registerDockerSystemRoutes(route: DockerRoute, deps: AppDeps): void {
  const { db } = deps;

  route("GET", "/_ping", (c) => {
    c.header("Cache-Control", "no-cache, no-store, must-revalidate");
    c.header("Pragma", "no-cache");
    c.header("Docker-Experimental", "false");
    c.header("Swarm", "inactive");
    return c.text("OK", 200);
  });

  route("GET", "/version", (c) =>
    c.json(
      {
        Platform: { Name: "Labnet" },
        Components: [
          {
            Name: "Engine",
            Version: SERVER_VERSION,
            Details: {
              ApiVersion: API_VERSION,
              MinAPIVersion: MIN_API_VERSION,
              Os: "linux",
              Arch: process.arch,
            },
          },
        ],
        Version: SERVER_VERSION,
        ApiVersion: API_VERSION,
        MinAPIVersion: MIN_API_VERSION,
        GitCommit: "",
        GoVersion: "",
        Os: "linux",
        Arch: process.arch === "x64" ? "amd64" : process.arch,
        KernelVersion: "",
        BuildTime: "",
      },
      200,
    ),
  );

  route("GET", "/info", async (c) => {
    const machine = c.get("machine");
    const nodes = new Set((await dockerNodesOf(db, machine)).map((n) => n.id));
    const states = (await listNodeDetails(db, { hostId: machine.id }))
      .filter((d) => nodes.has(d.node.id))
      .map(dockerStateOf);
    const running = states.filter((s) => s === "running").length;
    return c.json(
      {
        ID: machine.id,
        Containers: states.length,
        ContainersRunning: running,
        ContainersPaused: 0,
        ContainersStopped: states.length - running,
        Images: 0,
        Driver: "labnet",
        DriverStatus: [],
        Plugins: {
          Volume: [],
          Network: ["bridge", "host", "macvlan", "null", "overlay"],
          Authorization: null,
          Log: [],
        },
        MemoryLimit: false,
        SwapLimit: false,
        IPv4Forwarding: true,
        Debug: false,
        NFd: 0,
        NGoroutines: 0,
        SystemTime: new Date().toISOString(),
        LoggingDriver: "",
        CgroupDriver: "",
        NEventsListener: 0,
        KernelVersion: "",
        OperatingSystem: `Labnet machine ${machine.name}`,
        OSType: "linux",
        Architecture: process.arch === "x64" ? "x86_64" : process.arch,
        NCPU: 0,
        MemTotal: 0,
        IndexServerAddress: "",
        Name: machine.hostname ?? machine.name,
        Labels: [],
        ExperimentalBuild: false,
        ServerVersion: SERVER_VERSION,
        Swarm: {
          NodeID: "",
          NodeAddr: "",
          LocalNodeState: "inactive",
          ControlAvailable: false,
          Error: "",
          RemoteManagers: null,
        },
        SecurityOptions: [],
        Warnings: [],
      },
      200,
    );
  });

  route("GET", "/images/json", (c) => c.json([], 200));
  route("GET", "/images/:image/json", (c) => {
    throw new DockerError(404, `No such image: ${c.req.param("image") ?? ""}`);
  });
  route("POST", "/images/create", () => {
    throw new DockerError(
      400,
      "Labnet never pulls images: a node has none (docker run records the image name and builds a network sandbox)",
    );
  });
}
