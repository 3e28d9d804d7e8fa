import type { Schema } from "@labnet/api";
import { expect } from "vitest";
import type { TestLabnet } from "./labnet";

/** `docker network connect`, waiting for the kernel work; asserts it succeeded and returns the node. */
export async function connectNode(
  labnet: TestLabnet,
  network: string,
  body: Schema<"ConnectNetworkRequest">,
) {
  const res = await labnet.waitingClient.POST("/v1/networks/{networkId}/connect", {
    params: { path: { networkId: network } },
    body,
  });
  expect(res.error).toBeUndefined();
  expect(res.response.status).toBe(200);
  return res.data;
}

/** `docker rm`, waiting for the kernel work; asserts it succeeded. */
export async function deleteNode(labnet: TestLabnet, node: string): Promise<void> {
  const res = await labnet.waitingClient.DELETE("/v1/nodes/{nodeId}", { params: { path: { nodeId: node } } });
  expect(res.response.status).toBe(204);
}
