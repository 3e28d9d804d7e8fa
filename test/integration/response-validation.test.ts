/**
 * The response validator beyond the in-process `/v1` suite (issue 14, "every response of the test
 * suite is validated"): the `/docker/{machine}` facade's answers are judged by dockerd's rules
 * (validate-docker-response.ts) wherever the test Labnet's app answers, and a gateway run as its
 * own process (services/gateway/src/main.ts) with LABNET_VALIDATE_RESPONSES=true checks every answer
 * it serves and logs any that does not conform.
 */
import { createDb } from "@labnet/db";
import { createResponseValidator } from "@labnet/gateway";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../helpers/database";
import { type GatewayProcess, startGatewayProcess } from "../helpers/gateway-process";
import { startTestLabnet, type TestLabnet } from "../helpers/labnet";
import { registerTestHost } from "../helpers/test-host";

const HOST = "rv-host";

describe("the docker facade's answers", () => {
  let labnet: TestLabnet;

  beforeAll(async () => {
    labnet = await startTestLabnet();
    await registerTestHost(labnet.db, { name: HOST, netnsPrefix: "rv-" });
  });

  afterAll(async () => {
    await labnet?.stop();
  });

  const docker = (method: string, at: string, body?: unknown) =>
    labnet.app.fetch(
      new Request(`http://labnet.test/docker/${HOST}${at}`, {
        method,
        headers: {
          authorization: `Bearer ${labnet.adminToken}`,
          ...(body !== undefined ? { "content-type": "application/json" } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      }),
    );

  it("conform to dockerd's rules as the app answers them (a mismatch would throw in the call)", async () => {
    const answers = [
      await docker("GET", "/_ping"),
      await docker("GET", "/v1.44/version"),
      await docker("GET", "/info"),
      await docker("GET", "/networks"),
      await docker("GET", "/networks/bridge"),
      await docker("POST", "/containers/create?name=rv-web", { Image: "alpine", HostConfig: {} }),
      await docker("GET", "/containers/json?all=1"),
      await docker("GET", "/containers/rv-web/json"),
      await docker("GET", "/containers/rv-missing/json"),
      await docker("GET", "/v1.99/version"),
      await docker("GET", "/volumes"),
    ];
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200, 201, 200, 200, 404, 400, 404]);
  });

  it("a drifted copy of a real answer is refused by the same validator", async () => {
    const validate = createResponseValidator();
    const request = new Request(`http://labnet.test/docker/${HOST}/containers/rv-web/json`);
    const real = await docker("GET", "/containers/rv-web/json");
    expect(await validate(request, real.clone())).toEqual([]);
    const inspect = (await real.json()) as { State: { Pid: unknown } };
    inspect.State.Pid = "0";
    const drifted = new Response(JSON.stringify(inspect), { status: 200, headers: real.headers });
    expect(await validate(request, drifted)).toEqual([expect.stringMatching(/\/State\/Pid must be integer/)]);

    const missing = await docker("GET", "/containers/rv-missing/json");
    const asProblem = new Response(JSON.stringify({ title: "Not Found", detail: "no such node" }), {
      status: 404,
      headers: { ...Object.fromEntries(missing.headers), "content-type": "application/problem+json" },
    });
    expect(await validate(request, asProblem)).toEqual([expect.stringMatching(/want application\/json/)]);
  });
});

describe("a gateway process with LABNET_VALIDATE_RESPONSES=true", () => {
  let database: TestDatabase;
  let gateway: GatewayProcess;

  beforeAll(async () => {
    database = await createTestDatabase("rv");
    const { db, close } = createDb(database.url, { max: 1 });
    await registerTestHost(db, { name: HOST, netnsPrefix: "rv-" });
    await close();
    // The helper turns the check on (VALIDATE_RESPONSES_ENV) for every gateway process a test runs.
    gateway = await startGatewayProcess({ databaseUrl: database.url, name: "gateway-validating" });
    await gateway.process.waitForOutput(/^Labnet API serving$/, 60_000);
  }, 90_000);

  afterAll(async () => {
    await gateway?.process.stop();
    await database?.drop();
  });

  it("checks every answer it serves, /v1 and /docker, and logs none as drifted", async () => {
    const { call } = gateway;
    const anonymous = await fetch(`${gateway.base}/v1/networks`);
    const statuses = [
      (await call("GET", "/v1/networks")).status,
      (await call("POST", "/v1/networks", { name: "rv-net", host: HOST })).status,
      (await call("GET", "/v1/networks/rv-net")).status,
      (await call("POST", "/v1/networks", { name: "rv-net", host: HOST })).status,
      (await call("POST", "/v1/networks", { name: "rv-bad", bogus: true })).status,
      (await call("GET", "/v1/operations/op_aaaaaaaaaaaaaaaa")).status,
      (await call("PUT", "/v1/networks")).status,
      anonymous.status,
      (await call("GET", `/docker/${HOST}/version`)).status,
      (await call("GET", `/docker/${HOST}/networks/rv-net`)).status,
      (await call("GET", `/docker/${HOST}/containers/nope/json`)).status,
    ];
    expect(statuses).toEqual([200, 202, 200, 409, 400, 404, 405, 401, 200, 200, 404]);
    expect(gateway.process.output()).toMatch(/validating every answer against the contract/);
    expect(gateway.contractMismatches()).toEqual([]);
  });
});
