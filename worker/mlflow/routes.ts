/**
 * MLflow REST API: the routers served under /api/2.0/mlflow and /ajax-api/2.0/mlflow, and which of
 * their POSTs only read (a read-scoped token may call those).
 */
import { Hono } from "hono";
import type { AppEnv } from "../env";
import { trackingRoutes } from "./tracking-routes";
import { historyRoutes } from "./history-routes";

export const mlflowRoutes = new Hono<AppEnv>();
mlflowRoutes.route("/", trackingRoutes);
mlflowRoutes.route("/", historyRoutes);

export const MLFLOW_READ_ONLY_POSTS: RegExp[] = [/^\/(ajax-)?api\/2\.0\/mlflow\/(runs|experiments)\/search$/];
