/** MLflow's bulk-interval metric history (what the MLflow web UI's charts call), served from Tern's sampler. */
import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../env";
import { int64, mlflowInput, repeated } from "./request";

export const historyRoutes = new Hono<AppEnv>();

historyRoutes.get("/metrics/get-history-bulk-interval", async (c) => {
  const q = await mlflowInput(
    c,
    z.object({ run_ids: repeated(z.string()), metric_key: z.string(), start_step: int64.optional(), end_step: int64.optional(), max_results: int64.optional() }),
  );
  const points = await c.var.services.history.bulkInterval({ runIds: q.run_ids, key: q.metric_key, startStep: q.start_step, endStep: q.end_step, maxResults: q.max_results });
  return c.json({
    metrics: points.length
      ? points.map((p) => ({ key: p.key, value: Number.isNaN(p.value) ? "NaN" : p.value, timestamp: p.timestamp, step: p.step, run_id: p.runId }))
      : undefined,
  });
});
