/**
 * The router factory every pillar uses: an OpenAPIHono whose zod validation failures become
 * INVALID_PARAMETER_VALUE errors that name the offending field.
 */
import { OpenAPIHono, type Hook } from "@hono/zod-openapi";
import type { AppEnv } from "../env";
import { ApiError } from "./errors";

interface ZodIssueLike {
  path: PropertyKey[];
  message: string;
}

export function describeIssues(issues: readonly ZodIssueLike[], target: string): string {
  return issues
    .slice(0, 5)
    .map((i) => {
      const where = i.path.length ? i.path.map(String).join(".") : target;
      return `${where}: ${i.message}`;
    })
    .join("; ");
}

const TARGET_NAMES: Record<string, string> = { json: "request body", param: "path parameter", query: "query parameter", header: "header" };

export const validationHook: Hook<unknown, AppEnv, string, unknown> = (result, _c) => {
  if (!result.success) {
    const target = TARGET_NAMES[(result as { target?: string }).target ?? ""] ?? "request";
    throw new ApiError("INVALID_PARAMETER_VALUE", `Invalid ${target}: ${describeIssues(result.error.issues, target)}`);
  }
};

export function createRouter(): OpenAPIHono<AppEnv> {
  return new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
}
