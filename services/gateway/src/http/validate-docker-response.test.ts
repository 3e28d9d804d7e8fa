import { describe, expect, it } from "vitest";
import { createDockerResponseValidator } from "./validate-docker-response";
import { CONTRACT_MISMATCH, createResponseValidator, validatingFetch } from "./validate-response";

const DOCKERD = { "api-version": "1.47", ostype: "linux", server: "Labnet/0.1.0 (linux)" };
const json = (body: unknown, status: number, headers: Record<string, string> = DOCKERD) =>
  new Response(JSON.stringify(body), { status, headers: { ...headers, "content-type": "application/json" } });

describe("docker facade answers", () => {
  const validate = createDockerResponseValidator();
  const cases: { name: string; method?: string; path: string; answer: () => Response; want: RegExp[] }[] = [
    {
      name: "an error as dockerd writes it",
      path: "/docker/m1/v1.47/containers/x/json",
      answer: () => json({ message: "No such container: x" }, 404),
      want: [],
    },
    {
      name: "a problem document where dockerd writes {message}",
      path: "/docker/m1/containers/x/json",
      answer: () =>
        new Response(JSON.stringify({ title: "Not found", status: 404 }), {
          status: 404,
          headers: { ...DOCKERD, "content-type": "application/problem+json" },
        }),
      want: [/want application\/json/],
    },
    {
      name: "an error with more than its message",
      path: "/docker/m1/networks/x",
      answer: () => json({ message: "no such network", code: "NOT_FOUND" }, 404),
      want: [/must NOT have additional properties: code/],
    },
    {
      name: "an empty message",
      path: "/docker/m1/networks/x",
      answer: () => json({ message: "" }, 400),
      want: [/message must NOT have fewer than 1 characters/],
    },
    {
      name: "a status no dockerd error has",
      path: "/docker/m1/networks/create",
      method: "POST",
      answer: () => json({ message: "invalid" }, 422),
      want: [/dockerd answers no error with this status/],
    },
    {
      name: "an answer without dockerd's headers",
      path: "/docker/m1/_ping",
      answer: () => new Response("OK", { status: 200, headers: { "content-type": "text/plain" } }),
      want: [/Api-Version is missing/, /Ostype is missing/, /Server is missing/],
    },
    {
      name: "a created container whose Id is not a string",
      path: "/docker/m1/v1.44/containers/create",
      method: "POST",
      answer: () => json({ Id: 5, Warnings: [] }, 201),
      want: [/\/Id must be string/],
    },
    {
      name: "a create answered 200 (the Engine API answers 201)",
      path: "/docker/m1/containers/create",
      method: "POST",
      answer: () => json({ Id: "n1", Warnings: [] }, 200),
      want: [/answers this call 201/],
    },
    {
      name: "a connect with a body (dockerd answers it empty)",
      path: "/docker/m1/networks/web/connect",
      method: "POST",
      answer: () => new Response("connected", { status: 200, headers: DOCKERD }),
      want: [/answers no body/],
    },
    {
      name: "a success at a path the facade has no call for",
      path: "/docker/m1/volumes",
      answer: () => json([], 200),
      want: [/has no such call/],
    },
    {
      name: "a container list entry whose Created is a date string (Go decodes an int64)",
      path: "/docker/m1/containers/json",
      answer: () =>
        json(
          [
            {
              Id: "n1",
              Names: ["/web"],
              Image: "",
              Command: "",
              Created: "2026-01-01T00:00:00Z",
              Ports: [],
              Labels: {},
              State: "running",
              Status: "Up 1 second",
              HostConfig: { NetworkMode: "bridge" },
              NetworkSettings: { Networks: {} },
            },
          ],
          200,
        ),
      want: [/\/0\/Created must be integer/],
    },
    {
      name: "a stream, which is not read (it never ends here)",
      path: "/docker/m1/events",
      answer: () =>
        new Response(new ReadableStream({ start() {} }), {
          status: 200,
          headers: { ...DOCKERD, "content-type": "application/json" },
        }),
      want: [],
    },
  ];
  for (const { name, method = "GET", path, answer, want } of cases) {
    it(name, async () => {
      const mismatches = (await validate(new Request(`http://gw${path}`, { method }), answer())) ?? [
        "not judged",
      ];
      expect(mismatches).toHaveLength(want.length);
      want.forEach((pattern, i) => {
        expect(mismatches[i]).toMatch(pattern);
      });
    });
  }

  it("judges the hints at the gateway's own root as dockerd errors", async () => {
    const hint = json({ message: "Labnet serves the Docker Engine API per machine" }, 404);
    expect(await validate(new Request("http://gw/v1.47/containers/json"), hint)).toEqual([]);
    expect(await validate(new Request("http://gw/_ping"), json({ ok: true }, 200))).toEqual([
      expect.stringMatching(/only says where the Engine API is/),
    ]);
  });

  it("leaves paths outside /docker to the document's validator", () => {
    expect(validate(new Request("http://gw/v1/networks"), json({}, 200))).toBeUndefined();
  });
});

describe("validatingFetch (LABNET_VALIDATE_RESPONSES)", () => {
  const validate = createResponseValidator();

  it("passes a conforming answer through untouched", async () => {
    const seen: string[][] = [];
    const answer = json({ message: "page not found" }, 404);
    const fetch = validatingFetch(
      async (_request: Request) => answer,
      (_, m) => seen.push(m),
      validate,
    );
    expect(await fetch(new Request("http://gw/docker/m1/nothing"))).toBe(answer);
    expect(seen).toEqual([]);
  });

  it("reports one that does not conform and answers 500 naming the mismatch", async () => {
    const seen: string[][] = [];
    const fetch = validatingFetch(
      async (_request: Request) => json({ id: "op_x" }, 200, {}),
      (_, m) => seen.push(m),
      validate,
    );
    const res = await fetch(new Request("http://gw/v1/operations/op_x"));
    expect(res.status).toBe(500);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    const problem = (await res.json()) as { code: string; detail: string };
    expect(problem.code).toBe("INTERNAL");
    expect(problem.detail).toMatch(/getOperation .* must have required property 'kind'/);
    expect(seen).toHaveLength(1);
    expect(CONTRACT_MISMATCH).toBe("answer does not match the contract");
  });

  it("answers dockerd's way under /docker", async () => {
    const fetch = validatingFetch(
      async (_request: Request) => json({ title: "x" }, 404),
      () => {},
      validate,
    );
    const res = await fetch(new Request("http://gw/docker/m1/containers/x/json"));
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ message: expect.stringMatching(/does not match the contract/) });
  });
});
