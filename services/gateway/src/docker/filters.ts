/**
 * dockerd's `filters` query parameter (`docker network ls --filter`, `docker ps --filter`): JSON,
 * `{"name": {"my-net": true}}`, or the legacy `{"name": ["my-net"]}`. Matching follows dockerd's
 * filters package: `exact` compares, `match` also tries each value as a regular expression (RE2
 * syntax, run by re2js in linear time: a filter cannot stall the gateway), `kv` is the label form
 * (`key` present or `key=value`). Pure.
 */
import { RE2JS } from "re2js";
import { DockerError } from "./errors";

export class DockerFilters {
  private constructor(private readonly fields: ReadonlyMap<string, readonly string[]>) {}

  /** Parses the query value; an invalid one is dockerd's 400. Unknown keys are refused where `allowed` is given. */
  static parse(raw: string | undefined, allowed?: readonly string[]): DockerFilters {
    const fields = new Map<string, string[]>();
    if (raw === undefined || raw.trim() === "") {
      return new DockerFilters(fields);
    }
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      throw new DockerError(400, "invalid filter");
    }
    if (!isRecord(value)) {
      throw new DockerError(400, "invalid filter");
    }
    for (const [key, terms] of Object.entries(value)) {
      if (allowed && !allowed.includes(key)) {
        throw new DockerError(400, `invalid filter '${key}'`);
      }
      if (Array.isArray(terms) && terms.every((t) => typeof t === "string")) {
        fields.set(key, [...terms]);
      } else if (isRecord(terms) && Object.values(terms).every((t) => typeof t === "boolean")) {
        fields.set(
          key,
          Object.entries(terms)
            .filter(([, on]) => on)
            .map(([term]) => term),
        );
      } else {
        throw new DockerError(400, "invalid filter");
      }
    }
    return new DockerFilters(fields);
  }

  has(key: string): boolean {
    return (this.fields.get(key)?.length ?? 0) > 0;
  }

  values(key: string): readonly string[] {
    return this.fields.get(key) ?? [];
  }

  /** Passes when the key is not filtered or a value equals `source`. */
  exact(key: string, source: string): boolean {
    const terms = this.values(key);
    return terms.length === 0 || terms.includes(source);
  }

  /** {@link exact}, or a value matches `source` as a regular expression (anywhere in it, as Go's MatchString). */
  match(key: string, source: string): boolean {
    if (this.exact(key, source)) {
      return true;
    }
    return this.values(key).some((term) => {
      try {
        return RE2JS.compile(term).matcher(source).find();
      } catch {
        return false;
      }
    });
  }

  /** Every value holds for `labels`: `key` is present, `key=value` has that value. */
  kv(key: string, labels: Readonly<Record<string, string>>): boolean {
    const terms = this.values(key);
    return terms.every((term) => {
      const at = term.indexOf("=");
      const name = at < 0 ? term : term.slice(0, at);
      if (!Object.hasOwn(labels, name)) {
        return false;
      }
      return at < 0 || labels[name] === term.slice(at + 1);
    });
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
