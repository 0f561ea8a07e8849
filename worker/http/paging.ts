/**
 * Offset page tokens as MLflow's server makes them (base64 of {"offset": n}; clients treat them as
 * opaque), and turning search-grammar errors into INVALID_PARAMETER_VALUE.
 */
import { SearchSyntaxError } from "../lib/mlflow-search";
import { invalid } from "./errors";

export function parseOffsetToken(token: string | null | undefined): number {
  if (!token) return 0;
  let decoded: string;
  try {
    decoded = atob(token);
  } catch {
    throw invalid("Invalid page token, could not base64-decode");
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(decoded);
  } catch {
    throw invalid(`Invalid page token, decoded value=${decoded}`);
  }
  const offset = (parsed as { offset?: unknown } | null)?.offset;
  if (typeof offset !== "number" || !Number.isSafeInteger(offset) || offset < 0) throw invalid(`Invalid page token, parsed value=${decoded}`);
  return offset;
}

export const offsetToken = (offset: number): string => btoa(JSON.stringify({ offset }));

/** Runs a search-grammar parse; a syntax error becomes a 400 with the parser's message. */
export function parseSearch<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (err instanceof SearchSyntaxError) throw invalid(err.message);
    throw err;
  }
}
