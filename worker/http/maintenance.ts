/**
 * The maintenance mode's gate: while an export or import runs (admin/service.ts), requests that would
 * write answer 503 TEMPORARILY_UNAVAILABLE with Retry-After, so the export reads one unchanging state.
 * Reads, read-only searches and the admin routes themselves pass.
 */
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../env";
import { ApiError } from "./errors";

const ADMIN_PATH = /^\/api\/v1\/admin(\/|$)/;

export function maintenanceGate(readOnlyPosts: readonly RegExp[] = []): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const method = c.req.method;
    const path = c.req.path;
    if (method === "GET" || method === "HEAD" || method === "OPTIONS" || ADMIN_PATH.test(path)) return next();
    if (method === "POST" && readOnlyPosts.some((r) => r.test(path))) return next();
    const mode = await c.var.services.admin.maintenance();
    if (mode) {
      throw new ApiError("TEMPORARILY_UNAVAILABLE", `Tern is read-only while an ${mode.kind} runs (since ${new Date(mode.since).toISOString()}); try again when it has finished`, { "Retry-After": "60" });
    }
    return next();
  };
}
