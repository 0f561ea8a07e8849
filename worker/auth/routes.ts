/** /api/v1/tokens and /api/v1/auth/whoami: API token management (admin) and the caller's identity. */
import { createRoute, z } from "@hono/zod-openapi";
import { createRouter } from "../http/router";
import { authMode, requireScope } from "../http/auth";
import { jsonBody, jsonResponse, notFoundError, standardErrors } from "../http/schemas";
import { SCOPES } from "../lib/tokens";

const TokenInfo = z
  .object({
    id: z.string(),
    name: z.string(),
    scopes: z.array(z.enum(SCOPES)),
    created_at: z.number().int().openapi({ description: "Milliseconds since the epoch" }),
    created_by: z.string().nullable(),
    expires_at: z.number().int().nullable(),
    last_used_at: z.number().int().nullable(),
    revoked_at: z.number().int().nullable(),
    status: z.enum(["active", "expired", "revoked"]),
  })
  .openapi("Token");

const CreateToken = z
  .object({
    name: z.string().trim().min(1).max(100),
    scopes: z.array(z.enum(SCOPES)).min(1).max(3),
    expires_at: z.number().int().positive().nullable().optional().openapi({ description: "Milliseconds since the epoch; omit for no expiry" }),
  })
  .strict()
  .openapi("CreateToken");

const Principal = z
  .object({
    kind: z.enum(["open", "token", "bootstrap"]),
    token_id: z.string().nullable(),
    name: z.string(),
    scopes: z.array(z.enum(SCOPES)),
    auth_mode: z.enum(["open", "token"]),
  })
  .openapi("Principal");

const TokenId = z.object({ token_id: z.string().min(1).max(64).openapi({ param: { name: "token_id", in: "path" } }) });

const security = [{ bearer: [] }];

export const authRoutes = createRouter();

authRoutes.use("/tokens", requireScope("admin"));
authRoutes.use("/tokens/*", requireScope("admin"));

authRoutes.openapi(
  createRoute({
    method: "post",
    path: "/tokens",
    tags: ["Tokens"],
    summary: "Create an API token; its secret is returned once",
    security,
    request: { body: jsonBody(CreateToken) },
    responses: {
      201: jsonResponse(z.object({ token: TokenInfo, secret: z.string() }).openapi("CreatedToken"), "The token; `secret` is never shown again"),
      ...standardErrors,
    },
  }),
  async (c) => {
    const { token, info } = await c.var.services.tokens.create(c.req.valid("json"), c.var.principal);
    return c.json({ token: info, secret: token }, 201);
  },
);

authRoutes.openapi(
  createRoute({
    method: "get",
    path: "/tokens",
    tags: ["Tokens"],
    summary: "List API tokens (never their secrets)",
    security,
    responses: { 200: jsonResponse(z.object({ tokens: z.array(TokenInfo) }), "All tokens, newest first"), ...standardErrors },
  }),
  async (c) => c.json({ tokens: await c.var.services.tokens.list() }, 200),
);

authRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/tokens/{token_id}",
    tags: ["Tokens"],
    summary: "Revoke an API token (it stays listed as revoked)",
    security,
    request: { params: TokenId },
    responses: { 200: jsonResponse(z.object({ token: TokenInfo }), "The revoked token"), ...standardErrors, ...notFoundError },
  }),
  async (c) => c.json({ token: await c.var.services.tokens.revoke(c.req.valid("param").token_id) }, 200),
);

authRoutes.openapi(
  createRoute({
    method: "get",
    path: "/auth/whoami",
    tags: ["Tokens"],
    summary: "Who the presented token belongs to",
    security,
    responses: { 200: jsonResponse(Principal, "The caller"), ...standardErrors },
  }),
  async (c) => c.json({ ...c.var.principal, auth_mode: authMode(c.env) }, 200),
);
