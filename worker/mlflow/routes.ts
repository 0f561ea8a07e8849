/**
 * MLflow REST API: the routers served under /api/2.0/mlflow and /ajax-api/2.0/mlflow, and which of
 * their POSTs only read (a read-scoped token may call those).
 */
import { Hono } from "hono";
import type { AppEnv } from "../env";
import { trackingRoutes } from "./tracking-routes";
import { loggedModelRoutes } from "./logged-model-routes";
import { historyRoutes } from "./history-routes";
import { runArtifactRoutes } from "./artifact-routes";
import { registryRoutes } from "./registry-routes";
import { traceRoutes } from "./trace-routes";

export const mlflowRoutes = new Hono<AppEnv>();
mlflowRoutes.route("/", trackingRoutes);
mlflowRoutes.route("/", loggedModelRoutes);
mlflowRoutes.route("/", historyRoutes);
mlflowRoutes.route("/", runArtifactRoutes);
mlflowRoutes.route("/", registryRoutes);
mlflowRoutes.route("/", traceRoutes);

export const MLFLOW_READ_ONLY_POSTS: RegExp[] = [
  /^\/(ajax-)?api\/2\.0\/mlflow\/(runs|experiments)\/search$/,
  /^\/(ajax-)?api\/2\.0\/mlflow\/(logged-models\/search|experiments\/search-datasets)$/,
  /^\/(ajax-)?api\/2\.0\/mlflow\/registered-models\/get-latest-versions$/,
  /^\/(ajax-)?api\/3\.0\/mlflow\/traces\/search$/,
];
