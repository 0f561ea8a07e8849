/** /api/v1/health: each binding's status and the scheduler's last tick (public: no secrets in it). */
import { createRoute, z } from "@hono/zod-openapi";
import { createRouter } from "../http/router";
import { jsonResponse } from "../http/schemas";

const Probe = z
  .object({ status: z.enum(["ok", "error"]), latency_ms: z.number(), error: z.string().optional() })
  .openapi("Probe");

const Health = z
  .object({
    status: z.enum(["ok", "degraded"]),
    auth_mode: z.enum(["open", "token"]),
    version: z.string(),
    bindings: z.object({ d1: Probe, r2: Probe, durable_objects: z.record(z.string(), Probe) }),
    scheduler: z.object({ last_tick_at: z.number().nullable(), last_tick_cron: z.string().nullable() }),
  })
  .openapi("Health");

export const systemRoutes = createRouter();

systemRoutes.openapi(
  createRoute({
    method: "get",
    path: "/health",
    tags: ["System"],
    summary: "Status of each binding (D1, R2, Durable Objects) and of the scheduler",
    responses: {
      200: jsonResponse(Health, "Every binding answered"),
      503: jsonResponse(Health, "At least one binding failed"),
    },
  }),
  async (c) => {
    const health = await c.var.services.system.health();
    return health.status === "ok" ? c.json(health, 200) : c.json(health, 503);
  },
);
