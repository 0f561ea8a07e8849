import { describe, expect, it } from "vitest";
import { app } from "../../worker/index";
import { call } from "./helpers";

const PUBLIC = new Set(["/api/v1/health", "/api/v1/openapi.json", "/api/v1/docs"]);

describe("OpenAPI document", () => {
  it("is served at /api/v1/openapi.json as OpenAPI 3 with the bearer scheme", async () => {
    const res = await call("GET", "/api/v1/openapi.json");
    expect(res.status).toBe(200);
    const doc = res.json;
    expect(doc.openapi).toMatch(/^3\./);
    expect(doc.info.title).toBe("Tern API");
    expect(doc.components.securitySchemes.bearer).toEqual(expect.objectContaining({ type: "http", scheme: "bearer" }));
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(["/api/v1/health", "/api/v1/tokens", "/api/v1/tokens/{token_id}", "/api/v1/auth/whoami"]));
    expect(doc.components.schemas.Error).toBeDefined();
  });

  it("documents every native route, and every non-public one needs the bearer token", async () => {
    const doc = (await call("GET", "/api/v1/openapi.json")).json;
    const toOpenApiPath = (p: string) => p.replace(/:([A-Za-z_]+)/g, "{$1}");
    const routes = app.routes.filter((r) => r.path.startsWith("/api/v1/") && r.method !== "ALL" && !PUBLIC.has(r.path));
    expect(routes.length).toBeGreaterThan(0);
    for (const r of routes) {
      const op = doc.paths[toOpenApiPath(r.path)]?.[r.method.toLowerCase()];
      expect(op, `${r.method} ${r.path} is missing from the OpenAPI document`).toBeDefined();
      expect(op.security, `${r.method} ${r.path} does not declare its token`).toEqual([{ bearer: [] }]);
      expect(op.responses["401"], `${r.method} ${r.path} lacks its 401`).toBeDefined();
    }
  });

  it("redirects /api/v1/docs to the human-readable reference", async () => {
    const res = await call("GET", "/api/v1/docs");
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe("/api-reference");
  });
});
