/**
 * The auth table: every route the router knows, called in token mode without a token, with a read
 * token and (for writes) checked against a hand-kept list of the POSTs that only read. A route added
 * without auth, or a write that a read token can reach, fails here by name.
 */
import { describe, expect, it } from "vitest";
import { app } from "../../worker/index";
import { call, createToken } from "./helpers";

/** Answered without a token: health checks and the API's own description. */
const PUBLIC = new Set(["GET /api/v1/health", "GET /api/v1/openapi.json", "GET /api/v1/docs", "GET /health"]);

/** POST routes that only read (MLflow's searches and the content store's "which do you lack" query). */
const READ_ONLY_POSTS = new Set([
  ...["/api/2.0/mlflow", "/ajax-api/2.0/mlflow"].flatMap((p) => [
    `${p}/runs/search`,
    `${p}/experiments/search`,
    `${p}/logged-models/search`,
    `${p}/experiments/search-datasets`,
    `${p}/registered-models/get-latest-versions`,
  ]),
  "/api/3.0/mlflow/traces/search",
  "/ajax-api/3.0/mlflow/traces/search",
  "/api/v1/runs/search",
  "/api/v1/blobs/missing",
]);

/** A concrete path for a route pattern: each parameter gets a value of the shape such ids have. */
function concrete(pattern: string): string {
  return pattern
    .replace(/:([A-Za-z_]+)(\{[^}]*\})?/g, (_m, name: string) => (/hash|sha/.test(name) ? "0".repeat(64) : /number|version|step|part/.test(name) ? "1" : "0".repeat(32)))
    .replace(/\*/g, "a/b.txt");
}

const routes = [...new Map(app.routes.filter((r) => r.method !== "ALL").map((r) => [`${r.method} ${r.path}`, r])).values()];

describe("the auth table", () => {
  it("knows the routes of every pillar", () => {
    const prefixes = ["/api/v1/runs", "/api/v1/studies", "/api/v1/pipelines", "/api/v1/datasets", "/api/v1/monitors", "/api/2.0/mlflow/", "/ajax-api/2.0/mlflow/", "/api/3.0/mlflow/traces", "/v1/traces", "/dvc/", "/metrics", "/api/2.0/mlflow-artifacts/", "/api/v1/agents", "/api/v1/admin/export/", "/api/v1/admin/import/"];
    for (const p of prefixes) expect(routes.some((r) => r.path.startsWith(p)), p).toBe(true);
    expect(routes.length).toBeGreaterThan(150);
  });

  it("answers 401 in the API's error shape on every non-public route without a token", async () => {
    const failures: string[] = [];
    for (const r of routes) {
      const key = `${r.method} ${r.path}`;
      const res = await call(r.method, concrete(r.path));
      const publicRoute = PUBLIC.has(key);
      if (publicRoute ? res.status === 401 : res.status !== 401) failures.push(`${key} → ${res.status}`);
      if (!publicRoute && res.headers.get("www-authenticate") !== 'Bearer realm="tern"') failures.push(`${key} lacks WWW-Authenticate`);
    }
    expect(failures).toEqual([]);
  }, 120_000);

  it("lets a read token read, never write, and never answers it with a 5xx", async () => {
    const { secret } = await createToken(["read"], "auth-table-read");
    const failures: string[] = [];
    for (const r of routes) {
      if (PUBLIC.has(`${r.method} ${r.path}`)) continue;
      const path = concrete(r.path);
      const reads = r.method === "GET" || r.method === "HEAD" || (r.method === "POST" && READ_ONLY_POSTS.has(r.path));
      const res = await call(r.method, path, { token: secret, ...(r.method === "POST" || r.method === "PUT" || r.method === "PATCH" ? { body: {} } : {}) });
      const admin = r.path.startsWith("/api/v1/tokens") || r.path.startsWith("/api/v1/admin/");
      if (admin || !reads) {
        if (res.status !== 403) failures.push(`${r.method} ${r.path} → ${res.status}, not 403`);
      } else if (res.status === 401 || res.status === 403 || res.status >= 500) {
        failures.push(`${r.method} ${r.path} → ${res.status}: ${res.text.slice(0, 200)}`);
      }
    }
    expect(failures).toEqual([]);
  }, 120_000);
});
