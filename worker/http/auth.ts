/**
 * Authentication and authorisation middleware.
 * AUTH_MODE=open: every caller is an admin (local development). AUTH_MODE=token: a bearer token is
 * required (also accepted as the password of HTTP Basic, which some MLflow clients send); failed
 * attempts are rate-limited per client address by the RateLimiterObject Durable Object.
 * The scope a request needs follows its method (GET/HEAD read, anything else write); routes raise it
 * with requireScope, and searches that use POST are listed as read-only.
 */
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../env";
import type { Principal } from "../auth/service";
import { FAILED_AUTH_RULE } from "../lib/rate-window";
import { scopeSatisfies, type Scope } from "../lib/tokens";
import { ApiError } from "./errors";

export type { Principal };
export type AuthMode = "open" | "token";

export function authMode(env: { AUTH_MODE?: string }): AuthMode {
  return env.AUTH_MODE === "open" ? "open" : "token";
}

const OPEN_PRINCIPAL: Principal = { kind: "open", token_id: null, name: "open mode", scopes: ["admin"] };

function presentedToken(header: string | undefined): string | null {
  if (!header) return null;
  const [scheme, value] = header.split(/\s+/, 2);
  if (!value) return null;
  if (/^bearer$/i.test(scheme)) return value.trim();
  if (/^basic$/i.test(scheme)) {
    try {
      const decoded = atob(value.trim());
      const colon = decoded.indexOf(":");
      return colon >= 0 ? decoded.slice(colon + 1) : null;
    } catch {
      return null;
    }
  }
  return null;
}

function clientKey(req: Request): string {
  return req.headers.get("cf-connecting-ip") ?? req.headers.get("x-real-ip") ?? "local";
}

export function authenticate(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (authMode(c.env) === "open") {
      c.set("principal", OPEN_PRINCIPAL);
      return next();
    }
    const unauthenticated = (message: string) =>
      new ApiError("UNAUTHENTICATED", message, { "WWW-Authenticate": 'Bearer realm="tern"' });
    // X-Tern-Token carries the bare token for clients that can only set a custom header (DVC's `auth custom`).
    const token = presentedToken(c.req.header("authorization")) ?? (c.req.header("x-tern-token")?.trim() || null);
    if (!token) throw unauthenticated("This Tern requires an API token: send 'Authorization: Bearer <token>'");
    const principal = await c.var.services.tokens.verify(token, (p) => c.executionCtx.waitUntil(p));
    if (!principal) {
      const limiter = c.env.RATE_LIMITER.get(c.env.RATE_LIMITER.idFromName(clientKey(c.req.raw)));
      const decision = await limiter.hit(FAILED_AUTH_RULE);
      if (!decision.allowed) {
        const seconds = Math.max(1, Math.ceil(decision.retryAfterMs / 1000));
        throw new ApiError("REQUEST_LIMIT_EXCEEDED", `Too many failed authentication attempts; retry in ${seconds} s`, {
          "Retry-After": String(seconds),
        });
      }
      throw unauthenticated("The API token is invalid, expired or revoked");
    }
    c.set("principal", principal);
    return next();
  };
}

function needs(principal: Principal, scope: Scope): void {
  if (!scopeSatisfies(principal.scopes, scope)) {
    throw new ApiError("PERMISSION_DENIED", `This call needs the '${scope}' scope; the token has: ${principal.scopes.join(", ") || "none"}`);
  }
}

/** Method-based default: reads need `read`, everything else `write`, except the listed read-only POSTs. */
export function authorize(readOnlyPosts: readonly RegExp[] = []): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const method = c.req.method;
    const readOnly = method === "GET" || method === "HEAD" || (method === "POST" && readOnlyPosts.some((r) => r.test(c.req.path)));
    needs(c.var.principal, readOnly ? "read" : "write");
    return next();
  };
}

export function requireScope(scope: Scope): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    needs(c.var.principal, scope);
    return next();
  };
}
