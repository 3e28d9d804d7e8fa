import { describe, expect, it } from "vitest";
import type { DesiredBridge } from "./desired";
import { renderIccRules, renderIsolationRules } from "./iptables-isolation";
import { makeBridge } from "./test-fixtures";

const bridge = (name: string, overrides: Partial<DesiredBridge> = {}) =>
  makeBridge({ bridge: name, ...overrides });

const A = "lnbr-aaaaaaaa";
const B = "lnbr-bbbbbbbb";
const C = "lnbr-cccccccc";

describe("renderIsolationRules", () => {
  const cases: { name: string; given: DesiredBridge[]; want: string[] }[] = [
    { name: "no bridges", given: [], want: [] },
    { name: "one isolated bridge: nothing to be isolated from", given: [bridge(A)], want: [] },
    {
      name: "one bridge with icc off: nothing to isolate from (icc is LABNET-FORWARD's)",
      given: [bridge(A, { icc: false })],
      want: [],
    },
    {
      name: "two isolated bridges (the default): traffic leaving either for the other drops",
      given: [bridge(A), bridge(B)],
      want: [
        `-A LABNET-ISOLATION -i ${A} ! -o ${A} -j LABNET-ISOLATION-ANY`,
        `-A LABNET-ISOLATION -i ${B} ! -o ${B} -j LABNET-ISOLATION-ANY`,
        `-A LABNET-ISOLATION-ANY -o ${A} -j DROP`,
        `-A LABNET-ISOLATION-ANY -o ${B} -j DROP`,
        `-A LABNET-ISOLATION-ISO -o ${A} -j DROP`,
        `-A LABNET-ISOLATION-ISO -o ${B} -j DROP`,
      ],
    },
    {
      name: "both with isolation off: no rules, they route to each other",
      given: [bridge(A, { isolated: false }), bridge(B, { isolated: false })],
      want: [],
    },
    {
      name: "one open, one isolated: the open one's traffic into the isolated one still drops",
      given: [bridge(A, { isolated: false }), bridge(B)],
      want: [
        `-A LABNET-ISOLATION -i ${A} ! -o ${A} -j LABNET-ISOLATION-ISO`,
        `-A LABNET-ISOLATION -i ${B} ! -o ${B} -j LABNET-ISOLATION-ANY`,
        `-A LABNET-ISOLATION-ANY -o ${A} -j DROP`,
        `-A LABNET-ISOLATION-ANY -o ${B} -j DROP`,
        `-A LABNET-ISOLATION-ISO -o ${B} -j DROP`,
      ],
    },
    {
      name: "chosen names (a machine's docker0) are isolated like Labnet's own, with no wildcard",
      given: [bridge("docker0"), bridge(A, { isolated: false }), bridge(C, { isolated: false })],
      want: [
        "-A LABNET-ISOLATION -i docker0 ! -o docker0 -j LABNET-ISOLATION-ANY",
        `-A LABNET-ISOLATION -i ${A} ! -o ${A} -j LABNET-ISOLATION-ISO`,
        `-A LABNET-ISOLATION -i ${C} ! -o ${C} -j LABNET-ISOLATION-ISO`,
        "-A LABNET-ISOLATION-ANY -o docker0 -j DROP",
        `-A LABNET-ISOLATION-ANY -o ${A} -j DROP`,
        `-A LABNET-ISOLATION-ANY -o ${C} -j DROP`,
        "-A LABNET-ISOLATION-ISO -o docker0 -j DROP",
      ],
    },
    {
      name: "icc off on open bridges: no isolation rules",
      given: [bridge(A, { icc: false, isolated: false }), bridge(B, { icc: false, isolated: false })],
      want: [],
    },
  ];
  it.each(cases)("$name", ({ given, want }) => {
    expect(renderIsolationRules(given)).toEqual(want);
  });
});

describe("renderIccRules", () => {
  const cases: { name: string; given: DesiredBridge[]; want: string[] }[] = [
    { name: "icc on everywhere: no drops", given: [bridge(A), bridge(B)], want: [] },
    {
      name: "icc off drops traffic between the bridge's own ports, isolated or not",
      given: [bridge(A, { icc: false }), bridge(B), bridge(C, { icc: false, isolated: false })],
      want: [`-A LABNET-FORWARD -i ${A} -o ${A} -j DROP`, `-A LABNET-FORWARD -i ${C} -o ${C} -j DROP`],
    },
  ];
  it.each(cases)("$name", ({ given, want }) => {
    expect(renderIccRules(given)).toEqual(want);
  });
});
