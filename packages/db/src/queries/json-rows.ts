/**
 * Rows read as JSON (`to_json(t)`), for statements that send many rows or parts as one
 * document: the client's cost is per value received, so one document per part costs less
 * than a column per field. One mapping back to the shape drizzle selects a table's row in.
 */
import { getTableColumns, type Table } from "drizzle-orm";

/** A row as `to_json` sends it: columns by their SQL names, timestamps as text. */
export type JsonRow = Record<string, unknown>;

/**
 * A table's row as `to_json` sends it (columns by their SQL names, timestamps as text) in the
 * shape drizzle selects it: fields by their names in the schema, timestamps as Dates. The
 * other column types of Labnet's tables (text, inet, cidr, macaddr, integers, booleans, arrays,
 * jsonb) arrive as drizzle gives them.
 */
export function rowOfJson<T extends Table>(table: T, json: JsonRow): T["$inferSelect"] {
  const row: JsonRow = {};
  for (const [field, column] of Object.entries(getTableColumns(table))) {
    const value = json[column.name] ?? null;
    row[field] = column.dataType === "date" && typeof value === "string" ? new Date(value) : value;
  }
  return row as T["$inferSelect"];
}
