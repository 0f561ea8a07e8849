/**
 * MLflow's error shape on the MLflow routes: `{"error_code","message"}` with MLflow's statuses
 * (RESOURCE_ALREADY_EXISTS is 400 there, not 409). Clients read error_code to decide, e.g. to fall
 * back to another endpoint on ENDPOINT_NOT_FOUND.
 */
import type { Context } from "hono";
import { ApiError, toApiError, type ErrorCode } from "../http/errors";

const MLFLOW_PREFIXES = ["/api/2.0/mlflow", "/ajax-api/2.0/mlflow", "/api/3.0/mlflow", "/ajax-api/3.0/mlflow", "/api/2.0/mlflow-artifacts", "/ajax-api/2.0/mlflow-artifacts"];

export const isMlflowPath = (path: string) => MLFLOW_PREFIXES.some((p) => path === p || path.startsWith(p + "/"));

/** Our code → MLflow's error_code and status (mlflow/protos/databricks.proto, exceptions.py). */
const MLFLOW_CODES: Record<ErrorCode, [string, number]> = {
  INVALID_PARAMETER_VALUE: ["INVALID_PARAMETER_VALUE", 400],
  MALFORMED_REQUEST: ["INVALID_PARAMETER_VALUE", 400],
  UNSUPPORTED_MEDIA_TYPE: ["INVALID_PARAMETER_VALUE", 400],
  UNAUTHENTICATED: ["UNAUTHENTICATED", 401],
  PERMISSION_DENIED: ["PERMISSION_DENIED", 403],
  RESOURCE_DOES_NOT_EXIST: ["RESOURCE_DOES_NOT_EXIST", 404],
  ENDPOINT_NOT_FOUND: ["ENDPOINT_NOT_FOUND", 404],
  METHOD_NOT_ALLOWED: ["ENDPOINT_NOT_FOUND", 405],
  RESOURCE_ALREADY_EXISTS: ["RESOURCE_ALREADY_EXISTS", 400],
  INVALID_STATE: ["INVALID_STATE", 500],
  PAYLOAD_TOO_LARGE: ["INVALID_PARAMETER_VALUE", 400],
  REQUEST_LIMIT_EXCEEDED: ["REQUEST_LIMIT_EXCEEDED", 429],
  INTERNAL_ERROR: ["INTERNAL_ERROR", 500],
  TEMPORARILY_UNAVAILABLE: ["TEMPORARILY_UNAVAILABLE", 503],
};

export function handleMlflowError(err: unknown, c: Context): Response {
  const { error, unexpected } = toApiError(err);
  const id: string = c.get("requestId") ?? crypto.randomUUID();
  if (unexpected) {
    console.error(JSON.stringify({ event: "request.unexpected_error", request_id: id, path: c.req.path, error: String(err) }));
  }
  const [code, status] = MLFLOW_CODES[error.code];
  const message = error.code === "UNSUPPORTED_MEDIA_TYPE" ? "Bad Request. Content-Type must be one of ['application/json']." : error.message;
  return c.json({ error_code: code, message }, status as 400, { ...error.headers, "X-Request-Id": id });
}

export { ApiError };
