import { OpenAPIHono } from "@hono/zod-openapi";
import { describe, expect, it } from "vitest";
import { ApiError, ERROR_STATUS, handleError } from "../../worker/http/errors";
import { call, errorCode } from "./helpers";

const mode = "open" as const;

describe("error vocabulary", () => {
  it("answers an unknown endpoint with ENDPOINT_NOT_FOUND in the error shape", async () => {
    const res = await call("GET", "/api/v1/no-such-thing", { mode });
    expect(res.status).toBe(404);
    expect(errorCode(res)).toBe("ENDPOINT_NOT_FOUND");
    expect(res.json.error.message).toContain("/api/v1/no-such-thing");
  });

  it("gives malformed JSON a 400 MALFORMED_REQUEST", async () => {
    const res = await call("POST", "/api/v1/tokens", { mode, raw: '{"name": "x", ', headers: { "Content-Type": "application/json" } });
    expect(res.status).toBe(400);
    expect(errorCode(res)).toBe("MALFORMED_REQUEST");
  });

  it("gives an empty JSON body a 400, not a 500", async () => {
    const res = await call("POST", "/api/v1/tokens", { mode, raw: "", headers: { "Content-Type": "application/json" } });
    expect(res.status).toBe(400);
    expect(["MALFORMED_REQUEST", "INVALID_PARAMETER_VALUE"]).toContain(errorCode(res));
  });

  it("gives a body that is not JSON a 415 UNSUPPORTED_MEDIA_TYPE", async () => {
    const res = await call("POST", "/api/v1/tokens", { mode, raw: "name=x", headers: { "Content-Type": "application/x-www-form-urlencoded" } });
    expect(res.status).toBe(415);
    expect(errorCode(res)).toBe("UNSUPPORTED_MEDIA_TYPE");
  });

  it("names the field when a value has the wrong type", async () => {
    const res = await call("POST", "/api/v1/tokens", { mode, body: { name: 42, scopes: ["read"] } });
    expect(res.status).toBe(400);
    expect(errorCode(res)).toBe("INVALID_PARAMETER_VALUE");
    expect(res.json.error.message).toContain("name");
  });

  it("rejects unknown fields and bad enum values with INVALID_PARAMETER_VALUE", async () => {
    const unknown = await call("POST", "/api/v1/tokens", { mode, body: { name: "a", scopes: ["read"], colour: 1 } });
    expect(unknown.status).toBe(400);
    expect(unknown.json.error.message).toContain("colour");
    const badScope = await call("POST", "/api/v1/tokens", { mode, body: { name: "a", scopes: ["root"] } });
    expect(badScope.status).toBe(400);
    expect(errorCode(badScope)).toBe("INVALID_PARAMETER_VALUE");
  });

  it("rejects JSON that is not an object", async () => {
    for (const raw of ["[]", "null", "42", '"text"']) {
      const res = await call("POST", "/api/v1/tokens", { mode, raw, headers: { "Content-Type": "application/json" } });
      expect(res.status, raw).toBe(400);
    }
  });

  it("gives an oversized body 413 PAYLOAD_TOO_LARGE and writes nothing", async () => {
    const res = await call("POST", "/api/v1/tokens", { mode, body: { name: "x".repeat(2 * 1024 * 1024), scopes: ["read"] } });
    expect(res.status).toBe(413);
    expect(errorCode(res)).toBe("PAYLOAD_TOO_LARGE");
    const list = await call("GET", "/api/v1/tokens", { mode });
    expect(list.json.tokens).toHaveLength(0);
  });

  it("puts a request id on every response and echoes a client's id", async () => {
    const ok = await call("GET", "/api/v1/health", { mode });
    expect(ok.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    const echoed = await call("GET", "/api/v1/nope", { mode, headers: { "X-Request-Id": "client-chosen-123" } });
    expect(echoed.headers.get("x-request-id")).toBe("client-chosen-123");
    expect(echoed.json.error.request_id).toBe("client-chosen-123");
  });

  it("turns unexpected errors into INTERNAL_ERROR without leaking their message", async () => {
    const app = new OpenAPIHono();
    app.get("/boom", () => {
      throw new Error("secret database detail");
    });
    app.get("/known", () => {
      throw new ApiError("RESOURCE_DOES_NOT_EXIST", "no such run");
    });
    app.onError(handleError);
    const boom = await app.request("/boom");
    expect(boom.status).toBe(500);
    const body = (await boom.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("INTERNAL_ERROR");
    expect(body.error.message).not.toContain("secret");
    const known = await app.request("/known");
    expect(known.status).toBe(404);
  });

  it("maps every code to exactly one 4xx/5xx status", () => {
    for (const [code, status] of Object.entries(ERROR_STATUS)) {
      expect(status, code).toBeGreaterThanOrEqual(400);
      expect(status, code).toBeLessThan(600);
    }
    expect(ERROR_STATUS.RESOURCE_ALREADY_EXISTS).toBe(409);
    expect(ERROR_STATUS.INTERNAL_ERROR).toBe(500);
  });

  it("answers CORS preflights for API clients", async () => {
    const res = await call("OPTIONS", "/api/v1/tokens", {
      mode: "token",
      headers: { Origin: "https://notebook.example", "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization,content-type" },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(res.headers.get("access-control-allow-headers")?.toLowerCase()).toContain("authorization");
  });
});
