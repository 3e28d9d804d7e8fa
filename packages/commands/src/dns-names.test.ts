import { describe, expect, it } from "vitest";
import { defaultHostname, dnsNameProblem } from "./dns-names";

describe("dnsNameProblem", () => {
  const cases: { given: string; want: string | undefined }[] = [
    { given: "db", want: undefined },
    { given: "web-1", want: undefined },
    { given: "db.internal", want: undefined },
    { given: "3com", want: undefined },
    { given: "A", want: undefined },
    { given: "a".repeat(63), want: undefined },
    { given: `${"a".repeat(63)}.${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(61)}`, want: undefined },
    { given: "db.3com", want: undefined },
    { given: "", want: "must not be empty" },
    { given: "999.1.1.1", want: "must not end in an all-digit label (it would read as an address)" },
    { given: "10.0.0.1", want: "must not end in an all-digit label (it would read as an address)" },
    { given: "1234", want: "must not end in an all-digit label (it would read as an address)" },
    { given: "db.1", want: "must not end in an all-digit label (it would read as an address)" },
    { given: "-db", want: 'label "-db" must start and end with a letter or digit' },
    { given: "db-", want: 'label "db-" must start and end with a letter or digit' },
    { given: "web_container", want: 'label "web_container" may hold only letters, digits and hyphens' },
    { given: "a b", want: 'label "a b" may hold only letters, digits and hyphens' },
    { given: "db..internal", want: "has an empty label (two dots, or a dot at either end)" },
    { given: "db.", want: "has an empty label (two dots, or a dot at either end)" },
    { given: ".db", want: "has an empty label (two dots, or a dot at either end)" },
    { given: "a".repeat(64), want: `label "${"a".repeat(16)}..." is longer than 63 characters` },
    {
      given: `${"a".repeat(63)}.${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(62)}`,
      want: "is 254 characters long, at most 253 are allowed",
    },
  ];
  it.each(cases)("$given", ({ given, want }) => {
    expect(dnsNameProblem(given)).toBe(want);
  });
});

describe("defaultHostname", () => {
  const id = "nod_3b4bxpycy324vutl";
  const cases = [
    { given: "centos1", want: "centos1" },
    { given: "web.internal", want: "web.internal" },
    { given: "web_container", want: "web-container" },
    { given: "_web__db_", want: "web--db" },
    { given: "a.-b-.c_", want: "a.b.c" },
    { given: "web..db", want: "web.db" },
    { given: "web.1", want: "nod-3b4bxpycy324vutl" },
    { given: "__", want: "nod-3b4bxpycy324vutl" },
    { given: "123", want: "nod-3b4bxpycy324vutl" },
  ];
  it.each(cases)("$given → $want, a valid hostname", ({ given, want }) => {
    const hostname = defaultHostname({ name: given, id });
    expect(hostname).toBe(want);
    expect(dnsNameProblem(hostname)).toBeUndefined();
  });
});
