/**
 * Values as dockerd reads them: a query flag (`?force=1`, its `httputils.BoolValue`) and a
 * string option (`-o com.docker.network.bridge.enable_icc=1`, Go's `strconv.ParseBool`). Pure.
 */

/** A query flag: anything but absent, empty, `0`, `no`, `false` or `none` is set (case-insensitive). */
export function queryBool(value: string | undefined): boolean {
  const v = (value ?? "").trim().toLowerCase();
  return !(v === "" || v === "0" || v === "no" || v === "false" || v === "none");
}

const TRUE = new Set(["1", "t", "T", "TRUE", "true", "True"]);
const FALSE = new Set(["0", "f", "F", "FALSE", "false", "False"]);

/** Go's strconv.ParseBool, which dockerd's drivers use for boolean options; undefined when not a boolean. */
export function parseGoBool(value: string): boolean | undefined {
  return TRUE.has(value) ? true : FALSE.has(value) ? false : undefined;
}
