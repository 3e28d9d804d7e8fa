import { describe, expect, it } from "vitest";
import { isCleanText, textProblem } from "./text";

describe("textProblem", () => {
  it.each([
    ["plain", "my-net", undefined],
    ["unicode letters and emoji", "café 🚀 宿主机", undefined],
    ["NUL", "a\u0000b", "must not contain control characters (U+0000 at index 1)"],
    ["a newline", "a\nb", "must not contain control characters (U+000A at index 1)"],
    ["escape", "\u001b[2J", "must not contain control characters (U+001B at index 0)"],
    ["DEL", "a\u007f", "must not contain control characters (U+007F at index 1)"],
    ["a C1 control", "a\u0085", "must not contain control characters (U+0085 at index 1)"],
    ["a lone high surrogate", "a\ud800", "is not valid Unicode (a lone surrogate U+D800 at index 1)"],
    ["a lone low surrogate", "\udc00b", "is not valid Unicode (a lone surrogate U+DC00 at index 0)"],
    ["reversed halves", "\udc00\ud800", "is not valid Unicode (a lone surrogate U+DC00 at index 0)"],
  ])("%s", (_what, text, want) => {
    expect(textProblem(text)).toBe(want);
  });

  it("takes tabs and line breaks in multiline text, nothing else", () => {
    expect(textProblem("name: t\r\n\tx: 1\n", { multiline: true })).toBeUndefined();
    expect(textProblem("a\u0000", { multiline: true })).toMatch(/U\+0000/);
    expect(textProblem("a\ud83d", { multiline: true })).toMatch(/lone surrogate/);
    expect(isCleanText("a\nb")).toBe(false);
    expect(isCleanText("a\nb", { multiline: true })).toBe(true);
  });
});
