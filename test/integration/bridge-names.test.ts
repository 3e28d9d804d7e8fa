/**
 * Chosen bridge names at the API (issue 12: `-o com.docker.network.bridge.name=`): a bridge
 * network may name its Linux bridge (`options.bridgeName` or Docker's option), once per machine,
 * never as one of the machine's own interfaces nor in Labnet's own forms; refusals name the
 * field and change nothing. The app in process against a test database; no executor (the
 * kernel side is test/e2e/bridge-names.test.ts).
 */
import type { HostRow } from "@labnet/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestLabnet, type TestLabnet } from "../helpers/labnet";
import { expectProblemChangingNothing, type ProblemCase } from "../helpers/problems";
import { countRows, NETWORK_TABLES } from "../helpers/row-counts";
import { registerTestHost, TEST_HOST_CAPABILITIES } from "../helpers/test-host";

let labnet: TestLabnet;
let bn1: HostRow;
let bn2: HostRow;

const rowCounts = () => countRows(labnet.db, NETWORK_TABLES);

function bridgeNetwork(name: string, host: string, options: Record<string, unknown>) {
  return { name, host, options };
}

beforeAll(async () => {
  labnet = await startTestLabnet();
  const capabilities = {
    ...TEST_HOST_CAPABILITIES,
    linkTypes: ["bridge", "veth", "macvlan"],
    drivers: ["bridge", "macvlan"],
    // A lab host with a real dockerd: its docker0 is not Labnet's.
    interfaces: ["eth0", "docker0"],
  };
  bn1 = await registerTestHost(labnet.db, { name: "bn1", netnsPrefix: "bn1-", capabilities });
  bn2 = await registerTestHost(labnet.db, { name: "bn2", netnsPrefix: "bn2-", capabilities });
});

afterAll(async () => {
  await labnet?.stop();
});

describe("a chosen bridge name", () => {
  it("is the network's bridge, by Labnet's name or Docker's", async () => {
    const own = await labnet.client.POST("/v1/networks", {
      body: bridgeNetwork("bn-web", bn1.name, { bridgeName: "br-web" }),
    });
    expect(own.response.status).toBe(202);
    expect(own.data?.options.bridgeName).toBe("br-web");
    const docker = await labnet.client.POST("/v1/networks", {
      body: bridgeNetwork("bn-app", bn1.name, {
        "com.docker.network.bridge.name": "br.app",
        bridgeName: "br.app",
      }),
    });
    expect(docker.response.status).toBe(202);
    expect(docker.data?.options.bridgeName).toBe("br.app");
    // Without one, Labnet's own.
    const plain = await labnet.client.POST("/v1/networks", { body: { name: "bn-plain", host: bn1.name } });
    expect(plain.data?.options.bridgeName).toMatch(/^lnbr-[a-z2-7]{8}$/);
  });

  it("is one machine's once; another machine may have it too", async () => {
    await expectProblemChangingNothing(labnet, rowCounts, {
      method: "POST",
      path: "/v1/networks",
      body: bridgeNetwork("bn-web2", bn1.name, { bridgeName: "br-web" }),
      status: 409,
      code: "CONFLICT",
      location: "body.options.bridgeName",
    });
    const res = await labnet.request("POST", "/v1/networks", {
      body: bridgeNetwork("bn-web", bn2.name, { bridgeName: "br-web" }),
    });
    expect(res.status).toBe(202);
  });

  const refused: (ProblemCase & { why: string })[] = [
    ...["lnbr-aaaaaaaa", "lnvx-1", "lo", "a b", "br;id", "br\u00e9", "-br"].map((bridgeName) => ({
      why: `the name ${JSON.stringify(bridgeName)}`,
      method: "POST",
      path: "/v1/networks",
      body: bridgeNetwork("bn-bad", "bn1", { bridgeName }),
      status: 422,
      code: "INVALID_FIELD",
      location: "body.options.bridgeName",
    })),
    {
      why: "a name longer than an interface name",
      method: "POST",
      path: "/v1/networks",
      body: bridgeNetwork("bn-bad", "bn1", { bridgeName: "b".repeat(16) }),
      status: 400,
      location: "body.options.bridgeName",
    },
    {
      why: "an interface the lab host has that is not Labnet's",
      method: "POST",
      path: "/v1/networks",
      body: bridgeNetwork("bn-bad", "bn1", { "com.docker.network.bridge.name": "docker0" }),
      status: 409,
      code: "CONFLICT",
      location: "body.options.com.docker.network.bridge.name",
    },
    {
      why: "the two option names disagreeing",
      method: "POST",
      path: "/v1/networks",
      body: bridgeNetwork("bn-bad", "bn1", { bridgeName: "br-a", "com.docker.network.bridge.name": "br-b" }),
      status: 422,
      code: "INVALID_FIELD",
      location: "body.options.bridgeName",
    },
    {
      why: "a macvlan network",
      method: "POST",
      path: "/v1/networks",
      body: {
        name: "bn-bad",
        host: "bn1",
        driver: "macvlan",
        options: { parent: "eth0", bridgeName: "br-m" },
      },
      status: 422,
      code: "INVALID_FIELD",
      location: "body.options.bridgeName",
    },
  ];
  it.each(refused)("refuses $why, naming the field and changing nothing", async (problem) => {
    await expectProblemChangingNothing(labnet, rowCounts, problem);
  });
});
