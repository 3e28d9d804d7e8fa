import { describe, expect, it } from "vitest";
import { numberKey, paginate } from "./paginate";
import { ProblemError } from "./problem";

const items = ["e", "a", "d", "b", "c"].map((id, i) => ({ id, createdAt: `2026-01-0${i % 2}` }));
const keyOf = (x: { id: string; createdAt: string }) => [x.createdAt, x.id];

describe("paginate", () => {
  it("without a limit, the whole list sorted by its key, and no next page", () => {
    expect(paginate(items, {}, keyOf)).toEqual({
      items: ["c", "d", "e", "a", "b"].map((id) => items.find((x) => x.id === id)),
      next: null,
    });
  });

  it("walks every item once, page by page, to a last page with next null", () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let pages = 0; pages < 10; pages++) {
      const page = paginate(items, { limit: 2, ...(cursor ? { cursor } : {}) }, keyOf);
      seen.push(...page.items.map((x) => x.id));
      if (page.next === null) {
        break;
      }
      cursor = page.next;
    }
    expect(seen).toEqual(["c", "d", "e", "a", "b"]);
  });

  it("a cursor stays valid when its item is removed and items are added before it", () => {
    const first = paginate(items, { limit: 2 }, keyOf);
    expect(first.items.map((x) => x.id)).toEqual(["c", "d"]);
    const changed = [...items.filter((x) => x.id !== "d"), { id: "0", createdAt: "2026-01-00" }];
    const second = paginate(changed, { limit: 10, cursor: first.next ?? "" }, keyOf);
    expect(second.items.map((x) => x.id)).toEqual(["e", "a", "b"]);
  });

  it("refuses a cursor it did not give, naming query.cursor", () => {
    for (const cursor of ["nope", Buffer.from("[1]").toString("base64url"), ""]) {
      try {
        paginate(items, { cursor }, keyOf);
        expect.unreachable();
      } catch (error) {
        expect(error).toBeInstanceOf(ProblemError);
        expect((error as ProblemError).errors?.[0]?.location).toBe("query.cursor");
      }
    }
  });

  it("numberKey sorts as the numbers do", () => {
    expect([numberKey(8080), numberKey(80), numberKey(443)].sort()).toEqual([
      numberKey(80),
      numberKey(443),
      numberKey(8080),
    ]);
  });
});
