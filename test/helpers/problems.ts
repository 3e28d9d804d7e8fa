import type { Problem } from "@labnet/api";
import { expect } from "vitest";
import type { TestLabnet } from "./labnet";

/** A call Labnet must refuse, and the problem it must answer. */
export interface ProblemCase {
  method: string;
  path: string;
  body?: unknown;
  status: number;
  /** The problem's code; a case that names one also wants a detail. */
  code?: string;
  /** A location the problem's errors must name. */
  location: string;
}

/** Asserts the answer is a problem document (by its content type) and returns it. */
export async function readProblem(res: Response): Promise<Problem> {
  expect(res.headers.get("content-type")).toContain("application/problem+json");
  return (await res.json()) as Problem;
}

/**
 * Sends the case's request and asserts the problem it answers (status, code, detail, the field
 * at fault), and that `rowCounts` gives the same before and after: the call changed nothing.
 */
export async function expectProblemChangingNothing(
  labnet: TestLabnet,
  rowCounts: () => Promise<unknown>,
  { method, path, body, status, code, location }: ProblemCase,
): Promise<void> {
  const before = await rowCounts();
  const res = await labnet.request(method, path, body === undefined ? {} : { body });
  expect(res.status).toBe(status);
  const problem = await readProblem(res);
  if (code !== undefined) {
    expect(problem.code).toBe(code);
    expect(problem.detail.length).toBeGreaterThan(0);
  }
  expect(problem.errors?.map((e) => e.location)).toContain(location);
  expect(await rowCounts()).toEqual(before);
}
