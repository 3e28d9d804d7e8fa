import { describe, expect, it } from "vitest";
import { DomainError } from "../errors";
import { type NetworkOptions, type NetworkOptionsInput, resolveNetworkOptions } from "./network-options";

describe("resolveNetworkOptions", () => {
  const cases: { name: string; given: NetworkOptionsInput | undefined; want: NetworkOptions }[] = [
    { name: "nothing given: icc on, isolated", given: undefined, want: { icc: true, isolated: true } },
    {
      name: "Labnet names",
      given: { mtu: 1400, icc: false, isolated: false },
      want: { mtu: 1400, icc: false, isolated: false },
    },
    {
      name: "Docker names",
      given: { "com.docker.network.bridge.enable_icc": "false", "com.docker.network.driver.mtu": "1450" },
      want: { mtu: 1450, icc: false, isolated: true },
    },
    {
      name: "both names agreeing",
      given: { icc: true, "com.docker.network.bridge.enable_icc": "true" },
      want: { icc: true, isolated: true },
    },
  ];
  it.each(cases)("$name", ({ given, want }) => {
    expect(resolveNetworkOptions(given)).toEqual(want);
  });

  it.each(["100", "9999"])("refuses Docker's mtu %s outside 576..9000", (mtu) => {
    expect(() => resolveNetworkOptions({ "com.docker.network.driver.mtu": mtu })).toThrow(
      /between 576 and 9000/,
    );
  });

  it("refuses both names disagreeing, naming the Docker one", () => {
    const run = () => resolveNetworkOptions({ icc: true, "com.docker.network.bridge.enable_icc": "false" });
    expect(run).toThrow(DomainError);
    try {
      run();
    } catch (error) {
      expect((error as DomainError).errors.map((e) => e.location)).toEqual([
        "body.options.com.docker.network.bridge.enable_icc",
      ]);
    }
  });
});
