/**
 * MLflow REST API, MLflow 3 logged models (service.proto: CreateLoggedModel, GetLoggedModel,
 * FinalizeLoggedModel, DeleteLoggedModel, SetLoggedModelTags, DeleteLoggedModelTag,
 * SearchLoggedModels, LogLoggedModelParamsRequest) and LogOutputs (runs/outputs). Mounted with the
 * other MLflow routers; the model id of a path wins over one repeated in the body.
 */
import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../env";
import { idString, int64, keyValue, mlflowInput, repeated } from "./request";
import { wireLoggedModel } from "./wire";

export const loggedModelRoutes = new Hono<AppEnv>();

loggedModelRoutes.post("/logged-models", async (c) => {
  const q = await mlflowInput(
    c,
    z.object({
      experiment_id: idString,
      name: z.string().optional(),
      model_type: z.string().optional(),
      source_run_id: z.string().optional(),
      params: repeated(keyValue),
      tags: repeated(keyValue),
    }),
  );
  const model = await c.var.services.loggedModels.create({
    experimentId: q.experiment_id,
    name: q.name,
    modelType: q.model_type,
    sourceRunId: q.source_run_id,
    params: q.params,
    tags: q.tags,
  });
  return c.json({ model: wireLoggedModel(model) });
});

loggedModelRoutes.post("/logged-models/search", async (c) => {
  const q = await mlflowInput(
    c,
    z.object({
      experiment_ids: repeated(idString),
      filter: z.string().optional(),
      datasets: repeated(z.object({ dataset_name: z.string().optional(), dataset_digest: z.string().optional() })),
      max_results: int64.optional(),
      order_by: repeated(
        z.object({ field_name: z.string().optional(), ascending: z.boolean().optional(), dataset_name: z.string().optional(), dataset_digest: z.string().optional() }),
      ),
      page_token: z.string().optional(),
    }),
  );
  const page = await c.var.services.loggedModels.search({
    experimentIds: q.experiment_ids,
    filter: q.filter,
    datasets: q.datasets,
    maxResults: q.max_results,
    orderBy: q.order_by,
    pageToken: q.page_token,
  });
  return c.json({ models: page.items.length ? page.items.map(wireLoggedModel) : undefined, next_page_token: page.nextPageToken ?? undefined });
});

loggedModelRoutes.get("/logged-models/:model_id", async (c) => {
  return c.json({ model: wireLoggedModel(await c.var.services.loggedModels.get(c.req.param("model_id"))) });
});

/** Finalize: the status enum by name (LOGGED_MODEL_READY) or number, as protobuf JSON allows. */
loggedModelRoutes.patch("/logged-models/:model_id", async (c) => {
  const q = await mlflowInput(c, z.object({ status: z.union([z.string(), int64]).optional() }));
  const model = await c.var.services.loggedModels.finalize(c.req.param("model_id"), q.status);
  return c.json({ model: wireLoggedModel(model) });
});

loggedModelRoutes.delete("/logged-models/:model_id", async (c) => {
  await c.var.services.loggedModels.delete(c.req.param("model_id"));
  return c.json({});
});

loggedModelRoutes.patch("/logged-models/:model_id/tags", async (c) => {
  const q = await mlflowInput(c, z.object({ tags: repeated(keyValue) }));
  const model = await c.var.services.loggedModels.setTags(c.req.param("model_id"), q.tags);
  return c.json({ model: wireLoggedModel(model) });
});

loggedModelRoutes.delete("/logged-models/:model_id/tags/:tag_key", async (c) => {
  await c.var.services.loggedModels.deleteTag(c.req.param("model_id"), c.req.param("tag_key"));
  return c.json({});
});

loggedModelRoutes.post("/logged-models/:model_id/params", async (c) => {
  const q = await mlflowInput(c, z.object({ params: repeated(keyValue) }));
  await c.var.services.loggedModels.logParams(c.req.param("model_id"), q.params);
  return c.json({});
});

loggedModelRoutes.post("/runs/outputs", async (c) => {
  const q = await mlflowInput(c, z.object({ run_id: z.string(), models: repeated(z.object({ model_id: z.string(), step: int64 })) }));
  await c.var.services.loggedModels.logOutputs(
    q.run_id,
    q.models.map((m) => ({ modelId: m.model_id, step: m.step })),
  );
  return c.json({});
});
