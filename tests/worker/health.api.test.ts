import { describe, expect, it } from "vitest";
import { call } from "./helpers";

describe("GET /api/v1/health", () => {
  it("reports D1, R2 and every Durable Object namespace as ok", async () => {
    const res = await call("GET", "/api/v1/health");
    expect(res.status).toBe(200);
    expect(res.json.status).toBe("ok");
    expect(res.json.auth_mode).toBe("token");
    expect(res.json.bindings.d1.status).toBe("ok");
    expect(res.json.bindings.r2.status).toBe("ok");
    expect(Object.keys(res.json.bindings.durable_objects).sort()).toEqual(["PIPELINE_RUNS", "RATE_LIMITER", "STUDIES"]);
    expect(res.json.bindings.durable_objects.RATE_LIMITER.status).toBe("ok");
    expect(res.json.bindings.durable_objects.STUDIES.status).toBe("ok");
  });

  it("answers 503 and names the failing binding when one is broken", async () => {
    const brokenDb = {
      prepare() {
        throw new Error("D1 is unavailable");
      },
    } as unknown as D1Database;
    const res = await call("GET", "/api/v1/health", { env: { DB: brokenDb } });
    expect(res.status).toBe(503);
    expect(res.json.status).toBe("degraded");
    expect(res.json.bindings.d1).toMatchObject({ status: "error", error: expect.stringContaining("unavailable") });
    expect(res.json.bindings.r2.status).toBe("ok");
  });
});
