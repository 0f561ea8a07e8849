/**
 * Reading MLflow requests the way MLflow's server does: GET fields from the query string (repeated keys
 * for lists, numbers as decimal strings), other methods from a JSON body that must be sent as
 * application/json. Validation failures use MLflow's wording.
 */
import type { Context } from "hono";
import { z } from "zod";
import { ApiError, invalid } from "../http/errors";

/** int64 arrives as a JSON number from Python, as a string from protobuf-JSON writers (Java, R) and GET. */
export const int64 = z.union([
  z.number().int(),
  z
    .string()
    .regex(/^-?\d+$/)
    .transform((s) => Number(s)),
]);

/** Protobuf JSON writes non-finite doubles as strings. */
export const double = z.union([
  z.number(),
  z
    .string()
    .regex(/^(NaN|-?Infinity|-?\d+(\.\d+)?([eE][-+]?\d+)?)$/)
    .transform((s) => (s === "NaN" ? NaN : s === "Infinity" ? Infinity : s === "-Infinity" ? -Infinity : Number(s))),
]);

/** Strings given as JSON numbers (e.g. experiment_id: 1) are accepted, as protobuf parsing does. */
export const idString = z.union([z.string(), z.number().int().transform(String)]);

/** A repeated field: one query value, several, or a JSON array. */
export const repeated = <T extends z.ZodType>(item: T) =>
  z.preprocess((v) => (v === undefined || v === null ? [] : Array.isArray(v) ? v : [v]), z.array(item));

export const keyValue = z.object({ key: z.string(), value: z.string() });

const enumOf = <T extends string>(names: readonly T[]) =>
  z.union([z.enum(names as [T, ...T[]]), int64.transform((n, ctx) => {
    const name = names[n - 1];
    if (!name) {
      ctx.addIssue({ code: "custom", message: `Invalid enum value ${n}` });
      return z.NEVER;
    }
    return name;
  })]);

export const viewType = enumOf(["ACTIVE_ONLY", "DELETED_ONLY", "ALL"] as const);
export const runStatus = enumOf(["RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED"] as const);

const JSON_TYPE = /^application\/([\w.+-]+\+)?json\s*(;|$)/i;

async function rawInput(c: Context): Promise<Record<string, unknown>> {
  const method = c.req.method;
  const hasBody = method !== "GET" && method !== "HEAD" && (c.req.header("content-length") ?? "") !== "0" && c.req.raw.body != null;
  if (!hasBody) {
    const out: Record<string, unknown> = {};
    for (const [k, vs] of Object.entries(c.req.queries())) out[k] = vs.length === 1 ? vs[0] : vs;
    return out;
  }
  if (!JSON_TYPE.test(c.req.header("content-type") ?? "")) throw new ApiError("UNSUPPORTED_MEDIA_TYPE", "Content-Type must be application/json");
  const text = await c.req.text();
  if (!text.trim()) return {};
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw invalid("Malformed JSON in request body");
  }
  if (body === null || typeof body !== "object" || Array.isArray(body)) throw invalid("The request body must be a JSON object");
  return body as Record<string, unknown>;
}

export async function mlflowInput<T extends z.ZodType>(c: Context, schema: T): Promise<z.output<T>> {
  const result = schema.safeParse(await rawInput(c));
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue.path.map(String).join(".") || "request";
  if (issue.code === "invalid_type" && /received undefined/.test(issue.message)) {
    throw invalid(`Missing value for required parameter '${field}'. See the API docs for more information about request parameters.`);
  }
  throw invalid(`Invalid value for parameter '${field}' supplied: ${issue.message}. See the API docs for more information about request parameters.`);
}
