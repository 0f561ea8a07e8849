/**
 * SQL predicates for MLflow's search grammar, shared by every store that searches (runs, experiments,
 * registered models, model versions, logged models).
 */
import { sql, type SQL } from "drizzle-orm";
import type { Comparator } from "../lib/mlflow-search";

/** MLflow's LIKE is case-sensitive, SQLite's is not: GLOB is, once % and _ are translated. */
export function likeToGlob(pattern: string): string {
  let out = "";
  for (const ch of pattern) {
    if (ch === "%") out += "*";
    else if (ch === "_") out += "?";
    else if (ch === "*" || ch === "?" || ch === "[") out += `[${ch}]`;
    else out += ch;
  }
  return out;
}

/** `column <comparator> value` for columns and subquery values. */
export function stringPredicate(column: SQL, c: { comparator: Comparator; value: unknown }): SQL {
  switch (c.comparator) {
    case "=":
      return sql`${column} = ${c.value}`;
    case "!=":
      return sql`${column} != ${c.value}`;
    case "LIKE":
      return sql`${column} GLOB ${likeToGlob(String(c.value))}`;
    case "ILIKE":
      return sql`lower(${column}) LIKE lower(${c.value})`;
    case "IN":
      return sql`${column} IN (SELECT value FROM json_each(${JSON.stringify(c.value)}))`;
    case "NOT IN":
      return sql`${column} NOT IN (SELECT value FROM json_each(${JSON.stringify(c.value)}))`;
    case "<":
      return sql`${column} < ${c.value}`;
    case "<=":
      return sql`${column} <= ${c.value}`;
    case ">":
      return sql`${column} > ${c.value}`;
    case ">=":
      return sql`${column} >= ${c.value}`;
    default:
      throw new Error(`comparator ${c.comparator} has no column predicate`);
  }
}
