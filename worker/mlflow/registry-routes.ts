/**
 * MLflow REST API 2.0, model registry service (model_registry.proto): registered models, model
 * versions, stages, tags, aliases and search, with MLflow's methods (GET with query parameters;
 * POST, PATCH and DELETE with JSON bodies). Mounted under /api/2.0/mlflow and /ajax-api/2.0/mlflow.
 */
import { Hono, type Context } from "hono";
import { z } from "zod";
import type { AppEnv } from "../env";
import { idString, int64, mlflowInput, repeated } from "./request";
import { wireModelVersion, wireRegisteredModel } from "./registry-wire";

export const registryRoutes = new Hono<AppEnv>();

/** MLflow reads an absent tag value as "". */
const tag = z.object({ key: z.string(), value: z.string().optional().default("") });
const version = { name: z.string(), version: idString };
const search = z.object({ filter: z.string().optional(), max_results: int64.optional(), order_by: repeated(z.string()), page_token: z.string().optional() });

type Handler = (c: Context<AppEnv>) => Promise<Response>;

// --- registered models -----------------------------------------------------------------------

registryRoutes.post("/registered-models/create", async (c) => {
  const q = await mlflowInput(c, z.object({ name: z.string(), tags: repeated(tag), description: z.string().optional(), deployment_job_id: z.string().optional() }));
  const model = await c.var.services.registry.createModel({ name: q.name, description: q.description, tags: q.tags });
  return c.json({ registered_model: wireRegisteredModel(model) });
});

registryRoutes.get("/registered-models/get", async (c) => {
  const q = await mlflowInput(c, z.object({ name: z.string() }));
  return c.json({ registered_model: wireRegisteredModel(await c.var.services.registry.getModel(q.name)) });
});

registryRoutes.post("/registered-models/rename", async (c) => {
  const q = await mlflowInput(c, z.object({ name: z.string(), new_name: z.string().optional() }));
  return c.json({ registered_model: wireRegisteredModel(await c.var.services.registry.renameModel(q.name, q.new_name ?? "")) });
});

registryRoutes.patch("/registered-models/update", async (c) => {
  const q = await mlflowInput(c, z.object({ name: z.string(), description: z.string().optional(), deployment_job_id: z.string().optional() }));
  return c.json({ registered_model: wireRegisteredModel(await c.var.services.registry.updateModel(q.name, q.description)) });
});

registryRoutes.delete("/registered-models/delete", async (c) => {
  const q = await mlflowInput(c, z.object({ name: z.string() }));
  await c.var.services.registry.deleteModel(q.name);
  return c.json({});
});

registryRoutes.get("/registered-models/search", async (c) => {
  const q = await mlflowInput(c, search);
  const page = await c.var.services.registry.searchModels({ filter: q.filter, orderBy: q.order_by, maxResults: q.max_results, pageToken: q.page_token });
  return c.json({ registered_models: page.items.length ? page.items.map(wireRegisteredModel) : undefined, next_page_token: page.nextPageToken ?? undefined });
});

const latestVersions: Handler = async (c) => {
  const q = await mlflowInput(c, z.object({ name: z.string(), stages: repeated(z.string()) }));
  const versions = await c.var.services.registry.latestVersions(q.name, q.stages);
  return c.json({ model_versions: versions.length ? versions.map(wireModelVersion) : undefined });
};
registryRoutes.post("/registered-models/get-latest-versions", latestVersions);
registryRoutes.get("/registered-models/get-latest-versions", latestVersions);

registryRoutes.post("/registered-models/set-tag", async (c) => {
  const q = await mlflowInput(c, z.object({ name: z.string(), key: z.string(), value: z.string().optional().default("") }));
  await c.var.services.registry.setModelTag(q.name, { key: q.key, value: q.value });
  return c.json({});
});

registryRoutes.delete("/registered-models/delete-tag", async (c) => {
  const q = await mlflowInput(c, z.object({ name: z.string(), key: z.string() }));
  await c.var.services.registry.deleteModelTag(q.name, q.key);
  return c.json({});
});

// --- aliases ---------------------------------------------------------------------------------

registryRoutes.post("/registered-models/alias", async (c) => {
  const q = await mlflowInput(c, z.object({ name: z.string(), alias: z.string(), version: idString }));
  await c.var.services.registry.setAlias(q.name, q.alias, q.version);
  return c.json({});
});

registryRoutes.delete("/registered-models/alias", async (c) => {
  const q = await mlflowInput(c, z.object({ name: z.string(), alias: z.string() }));
  await c.var.services.registry.deleteAlias(q.name, q.alias);
  return c.json({});
});

registryRoutes.get("/registered-models/alias", async (c) => {
  const q = await mlflowInput(c, z.object({ name: z.string(), alias: z.string() }));
  return c.json({ model_version: wireModelVersion(await c.var.services.registry.versionByAlias(q.name, q.alias)) });
});

// --- model versions --------------------------------------------------------------------------

registryRoutes.post("/model-versions/create", async (c) => {
  const q = await mlflowInput(
    c,
    z.object({
      name: z.string(),
      source: z.string(),
      run_id: z.string().optional(),
      tags: repeated(tag),
      run_link: z.string().optional(),
      description: z.string().optional(),
      model_id: z.string().optional(),
    }),
  );
  const mv = await c.var.services.registry.createVersion({
    name: q.name,
    source: q.source,
    runId: q.run_id,
    runLink: q.run_link,
    description: q.description,
    tags: q.tags,
    modelId: q.model_id,
  });
  return c.json({ model_version: wireModelVersion(mv) });
});

registryRoutes.get("/model-versions/get", async (c) => {
  const q = await mlflowInput(c, z.object(version));
  return c.json({ model_version: wireModelVersion(await c.var.services.registry.getVersion(q.name, q.version)) });
});

registryRoutes.patch("/model-versions/update", async (c) => {
  const q = await mlflowInput(c, z.object({ ...version, description: z.string().optional() }));
  return c.json({ model_version: wireModelVersion(await c.var.services.registry.updateVersion(q.name, q.version, q.description)) });
});

registryRoutes.delete("/model-versions/delete", async (c) => {
  const q = await mlflowInput(c, z.object(version));
  await c.var.services.registry.deleteVersion(q.name, q.version);
  return c.json({});
});

registryRoutes.post("/model-versions/transition-stage", async (c) => {
  const q = await mlflowInput(c, z.object({ ...version, stage: z.string(), archive_existing_versions: z.boolean().optional().default(false) }));
  const mv = await c.var.services.registry.transitionStage(q.name, q.version, q.stage, q.archive_existing_versions);
  return c.json({ model_version: wireModelVersion(mv) });
});

registryRoutes.get("/model-versions/search", async (c) => {
  const q = await mlflowInput(c, search);
  const page = await c.var.services.registry.searchVersions({ filter: q.filter, orderBy: q.order_by, maxResults: q.max_results, pageToken: q.page_token });
  return c.json({ model_versions: page.items.length ? page.items.map(wireModelVersion) : undefined, next_page_token: page.nextPageToken ?? undefined });
});

registryRoutes.get("/model-versions/get-download-uri", async (c) => {
  const q = await mlflowInput(c, z.object(version));
  return c.json({ artifact_uri: await c.var.services.registry.downloadUri(q.name, q.version) });
});

registryRoutes.post("/model-versions/set-tag", async (c) => {
  const q = await mlflowInput(c, z.object({ ...version, key: z.string(), value: z.string().optional().default("") }));
  await c.var.services.registry.setVersionTag(q.name, q.version, { key: q.key, value: q.value });
  return c.json({});
});

registryRoutes.delete("/model-versions/delete-tag", async (c) => {
  const q = await mlflowInput(c, z.object({ ...version, key: z.string() }));
  await c.var.services.registry.deleteVersionTag(q.name, q.version, q.key);
  return c.json({});
});
