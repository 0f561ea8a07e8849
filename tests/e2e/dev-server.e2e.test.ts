import SwaggerParser from "@apidevtools/swagger-parser";
import { describe, expect, inject, it } from "vitest";

const baseUrl = inject("baseUrl");

describe("wrangler dev serves the whole product from one Worker", () => {
  it("publishes a valid OpenAPI 3 document", async () => {
    const doc = (await (await fetch(`${baseUrl}/api/v1/openapi.json`)).json()) as { openapi: string; info: { title: string; version: string }; paths: object };
    const validated = (await SwaggerParser.validate(structuredClone(doc) as never)) as { openapi?: string };
    expect(validated.openapi).toMatch(/^3\.0\./);
  });

  it("serves the app for any app path and the API under /api", async () => {
    const page = await fetch(`${baseUrl}/datasets/some/deep/link`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toContain("text/html");
    expect(await page.text()).toContain("<title>Tern</title>");
    const api = await fetch(`${baseUrl}/api/v1/unknown`);
    expect(api.status).toBe(404);
    expect(((await api.json()) as { error: { code: string } }).error.code).toBe("ENDPOINT_NOT_FOUND");
  });

  it("fires the cron trigger through wrangler's test-scheduled route", async () => {
    const res = await fetch(`${baseUrl}/__scheduled?cron=${encodeURIComponent("* * * * *")}`);
    expect(res.status).toBe(200);
    const health = (await (await fetch(`${baseUrl}/api/v1/health`)).json()) as { scheduler: { last_tick_cron: string | null } };
    expect(health.scheduler.last_tick_cron).toBe("* * * * *");
  });
});
