/**
 * MLflow REST API 2.0, tracking service: experiments, runs, params, tags, metrics, dataset inputs, search.
 * Mounted under /api/2.0/mlflow and /ajax-api/2.0/mlflow. Each handler reads the request as MLflow
 * does, makes one service call and answers MLflow's response message.
 */
import { Hono, type Context } from "hono";
import { z } from "zod";
import type { AppEnv } from "../env";
import { double, idString, int64, keyValue, mlflowInput, repeated, runStatus, viewType } from "./request";
import { wireDatasetSummary, wireExperiment, wireMetric, wireRun, wireRunInfo } from "./wire";

export const trackingRoutes = new Hono<AppEnv>();

/** run_uuid is MLflow's deprecated alias of run_id; clients send either. */
const runRef = { run_id: z.string().optional(), run_uuid: z.string().optional() };
const runIdOf = (x: { run_id?: string; run_uuid?: string }) => x.run_id || x.run_uuid || "";
const metricLinksOf = (m: { model_id?: string; dataset_name?: string; dataset_digest?: string }) => ({
  modelId: m.model_id || null,
  datasetName: m.dataset_name || null,
  datasetDigest: m.dataset_digest || null,
});
/**
 * MLflow 3 metrics may name the logged model and dataset they belong to (and their run): such points
 * are also the logged model's metrics.
 */
const metricLinks = { model_id: z.string().optional(), dataset_name: z.string().optional(), dataset_digest: z.string().optional() };
const metric = z.object({ key: z.string(), value: double, timestamp: int64, step: int64.optional().default(0), run_id: z.string().optional(), ...metricLinks });
const datasetInput = z.object({
  tags: repeated(keyValue),
  dataset: z.object({
    name: z.string(),
    digest: z.string(),
    source_type: z.string(),
    source: z.string(),
    schema: z.string().optional(),
    profile: z.string().optional(),
  }),
});

type Handler = (c: Context<AppEnv>) => Promise<Response>;
const both = (path: string, handler: Handler) => {
  trackingRoutes.get(path, handler);
  trackingRoutes.post(path, handler);
};

// --- experiments ---------------------------------------------------------------------------

trackingRoutes.post("/experiments/create", async (c) => {
  const q = await mlflowInput(c, z.object({ name: z.string(), artifact_location: z.string().optional(), tags: repeated(keyValue) }));
  const id = await c.var.services.tracking.createExperiment({ name: q.name, artifactLocation: q.artifact_location || null, tags: q.tags });
  return c.json({ experiment_id: id });
});

trackingRoutes.get("/experiments/get", async (c) => {
  const q = await mlflowInput(c, z.object({ experiment_id: idString }));
  return c.json({ experiment: wireExperiment(await c.var.services.tracking.getExperiment(q.experiment_id)) });
});

trackingRoutes.get("/experiments/get-by-name", async (c) => {
  const q = await mlflowInput(c, z.object({ experiment_name: z.string() }));
  return c.json({ experiment: wireExperiment(await c.var.services.tracking.getExperimentByName(q.experiment_name)) });
});

both("/experiments/search", async (c) => {
  const q = await mlflowInput(
    c,
    z.object({ max_results: int64.optional(), page_token: z.string().optional(), filter: z.string().optional(), order_by: repeated(z.string()), view_type: viewType.optional() }),
  );
  const page = await c.var.services.tracking.searchExperiments({ filter: q.filter, orderBy: q.order_by, maxResults: q.max_results, pageToken: q.page_token, viewType: q.view_type });
  return c.json({ experiments: page.items.length ? page.items.map(wireExperiment) : undefined, next_page_token: page.nextPageToken ?? undefined });
});

trackingRoutes.post("/experiments/update", async (c) => {
  const q = await mlflowInput(c, z.object({ experiment_id: idString, new_name: z.string().optional() }));
  await c.var.services.tracking.updateExperiment(q.experiment_id, q.new_name);
  return c.json({});
});

trackingRoutes.post("/experiments/delete", async (c) => {
  const q = await mlflowInput(c, z.object({ experiment_id: idString }));
  await c.var.services.tracking.deleteExperiment(q.experiment_id);
  return c.json({});
});

trackingRoutes.post("/experiments/restore", async (c) => {
  const q = await mlflowInput(c, z.object({ experiment_id: idString }));
  await c.var.services.tracking.restoreExperiment(q.experiment_id);
  return c.json({});
});

trackingRoutes.post("/experiments/set-experiment-tag", async (c) => {
  const q = await mlflowInput(c, z.object({ experiment_id: idString, key: z.string(), value: z.string() }));
  await c.var.services.tracking.setExperimentTag(q.experiment_id, { key: q.key, value: q.value });
  return c.json({});
});

trackingRoutes.post("/experiments/delete-experiment-tag", async (c) => {
  const q = await mlflowInput(c, z.object({ experiment_id: idString, key: z.string() }));
  await c.var.services.tracking.deleteExperimentTag(q.experiment_id, q.key);
  return c.json({});
});

// --- runs ----------------------------------------------------------------------------------

trackingRoutes.post("/runs/create", async (c) => {
  const q = await mlflowInput(
    c,
    z.object({ experiment_id: idString.optional(), user_id: z.string().optional(), run_name: z.string().optional(), start_time: int64.optional(), tags: repeated(keyValue) }),
  );
  const run = await c.var.services.tracking.createRun({ experimentId: q.experiment_id, userId: q.user_id, runName: q.run_name, startTime: q.start_time, tags: q.tags });
  return c.json({ run: wireRun(run) });
});

trackingRoutes.get("/runs/get", async (c) => {
  const q = await mlflowInput(c, z.object(runRef));
  return c.json({ run: wireRun(await c.var.services.tracking.getRun(runIdOf(q))) });
});

trackingRoutes.post("/runs/update", async (c) => {
  const q = await mlflowInput(c, z.object({ ...runRef, status: runStatus.optional(), end_time: int64.optional(), run_name: z.string().optional() }));
  const info = await c.var.services.tracking.updateRun(runIdOf(q), { status: q.status, endTime: q.end_time, runName: q.run_name });
  return c.json({ run_info: wireRunInfo(info) });
});

trackingRoutes.post("/runs/delete", async (c) => {
  const q = await mlflowInput(c, z.object({ run_id: z.string() }));
  await c.var.services.tracking.deleteRun(q.run_id);
  return c.json({});
});

trackingRoutes.post("/runs/restore", async (c) => {
  const q = await mlflowInput(c, z.object({ run_id: z.string() }));
  await c.var.services.tracking.restoreRun(q.run_id);
  return c.json({});
});

trackingRoutes.post("/runs/log-metric", async (c) => {
  const q = await mlflowInput(c, z.object({ ...runRef, key: z.string(), value: double, timestamp: int64, step: int64.optional().default(0), ...metricLinks }));
  await c.var.services.tracking.logBatch(runIdOf(q), { metrics: [{ key: q.key, value: q.value, timestamp: q.timestamp, step: q.step, ...metricLinksOf(q) }], params: [], tags: [] });
  return c.json({});
});

trackingRoutes.post("/runs/log-parameter", async (c) => {
  const q = await mlflowInput(c, z.object({ ...runRef, key: z.string(), value: z.string() }));
  await c.var.services.tracking.logBatch(runIdOf(q), { metrics: [], params: [{ key: q.key, value: q.value }], tags: [] });
  return c.json({});
});

trackingRoutes.post("/runs/set-tag", async (c) => {
  const q = await mlflowInput(c, z.object({ ...runRef, key: z.string(), value: z.string() }));
  await c.var.services.tracking.logBatch(runIdOf(q), { metrics: [], params: [], tags: [{ key: q.key, value: q.value }] });
  return c.json({});
});

trackingRoutes.post("/runs/log-model", async (c) => {
  const q = await mlflowInput(c, z.object({ run_id: z.string(), model_json: z.string() }));
  await c.var.services.tracking.logModel(q.run_id, q.model_json);
  return c.json({});
});

trackingRoutes.post("/runs/delete-tag", async (c) => {
  const q = await mlflowInput(c, z.object({ run_id: z.string(), key: z.string() }));
  await c.var.services.tracking.deleteTag(q.run_id, q.key);
  return c.json({});
});

trackingRoutes.post("/runs/log-batch", async (c) => {
  const q = await mlflowInput(c, z.object({ run_id: z.string(), metrics: repeated(metric), params: repeated(keyValue), tags: repeated(keyValue) }));
  const metrics = q.metrics.map((m) => ({ key: m.key, value: m.value, timestamp: m.timestamp, step: m.step, ...metricLinksOf(m) }));
  await c.var.services.tracking.logBatch(q.run_id, { metrics, params: q.params, tags: q.tags });
  return c.json({});
});

/** MLflow 3 also sends the logged models a run used (`models`): they become the run's model inputs. */
trackingRoutes.post("/runs/log-inputs", async (c) => {
  const q = await mlflowInput(c, z.object({ run_id: z.string(), datasets: repeated(datasetInput), models: repeated(z.object({ model_id: z.string() })) }));
  await c.var.services.tracking.logInputs(
    q.run_id,
    q.datasets.map((d) => ({
      tags: d.tags,
      dataset: { name: d.dataset.name, digest: d.dataset.digest, sourceType: d.dataset.source_type, source: d.dataset.source, schema: d.dataset.schema ?? null, profile: d.dataset.profile ?? null },
    })),
    q.models.map((m) => ({ modelId: m.model_id })),
  );
  return c.json({});
});

trackingRoutes.post("/experiments/search-datasets", async (c) => {
  const q = await mlflowInput(c, z.object({ experiment_ids: repeated(idString) }));
  const summaries = await c.var.services.tracking.searchDatasets(q.experiment_ids);
  return c.json({ dataset_summaries: summaries.length ? summaries.map(wireDatasetSummary) : undefined });
});

trackingRoutes.post("/runs/search", async (c) => {
  const q = await mlflowInput(
    c,
    z.object({
      experiment_ids: repeated(idString),
      filter: z.string().optional(),
      run_view_type: viewType.optional(),
      max_results: int64.optional(),
      order_by: repeated(z.string()),
      page_token: z.string().optional(),
    }),
  );
  const page = await c.var.services.tracking.searchRuns({
    experimentIds: q.experiment_ids,
    filter: q.filter,
    orderBy: q.order_by,
    maxResults: q.max_results,
    pageToken: q.page_token,
    viewType: q.run_view_type,
  });
  return c.json({ runs: page.items.length ? page.items.map(wireRun) : undefined, next_page_token: page.nextPageToken ?? undefined });
});

trackingRoutes.get("/metrics/get-history", async (c) => {
  const q = await mlflowInput(c, z.object({ ...runRef, metric_key: z.string(), max_results: int64.optional(), page_token: z.string().optional() }));
  const page = await c.var.services.tracking.getMetricHistory(runIdOf(q), q.metric_key, { maxResults: q.max_results, pageToken: q.page_token });
  return c.json({ metrics: page.items.length ? page.items.map(wireMetric) : undefined, next_page_token: page.nextPageToken ?? undefined });
});
