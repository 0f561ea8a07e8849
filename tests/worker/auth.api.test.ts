import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ADMIN_TOKEN, call, createToken, errorCode } from "./helpers";

describe("open mode", () => {
  it("lets every call through as an admin", async () => {
    const who = await call("GET", "/api/v1/auth/whoami", { mode: "open" });
    expect(who.status).toBe(200);
    expect(who.json).toMatchObject({ kind: "open", scopes: ["admin"], auth_mode: "open" });
    const created = await call("POST", "/api/v1/tokens", { mode: "open", body: { name: "laptop", scopes: ["read"] } });
    expect(created.status).toBe(201);
  });
});

describe("token mode", () => {
  it("rejects a call without a token with 401 and a WWW-Authenticate header", async () => {
    const res = await call("GET", "/api/v1/tokens");
    expect(res.status).toBe(401);
    expect(errorCode(res)).toBe("UNAUTHENTICATED");
    expect(res.headers.get("www-authenticate")).toContain("Bearer");
  });

  it("rejects malformed, unknown and wrong tokens with 401", async () => {
    const { id } = await createToken(["read"]);
    for (const token of ["garbage", "tern_short_x", `tern_${id}_${"A".repeat(32)}`, `tern_ZZZZZZZZZZZZ_${"A".repeat(32)}`]) {
      const res = await call("GET", "/api/v1/auth/whoami", { token });
      expect(res.status, token).toBe(401);
    }
  });

  it("accepts the bootstrap admin token from the secret", async () => {
    const res = await call("GET", "/api/v1/auth/whoami", { token: ADMIN_TOKEN });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ kind: "bootstrap", scopes: ["admin"], auth_mode: "token" });
  });

  it("does not accept an empty bootstrap secret as a token", async () => {
    const res = await call("GET", "/api/v1/auth/whoami", { headers: { Authorization: "Bearer " }, env: { TERN_ADMIN_TOKEN: "" } });
    expect(res.status).toBe(401);
  });

  it("creates a token whose secret works, is shown once and stored only as a hash", async () => {
    const created = await call("POST", "/api/v1/tokens", { token: ADMIN_TOKEN, body: { name: "ci", scopes: ["read", "write"] } });
    expect(created.status).toBe(201);
    const secret: string = created.json.secret;
    expect(secret).toMatch(/^tern_[A-Za-z0-9]{12}_[A-Za-z0-9]{32}$/);
    expect(created.json.token).toMatchObject({ name: "ci", scopes: ["read", "write"], status: "active", created_by: "bootstrap" });

    const who = await call("GET", "/api/v1/auth/whoami", { token: secret });
    expect(who.json).toMatchObject({ kind: "token", token_id: created.json.token.id, scopes: ["read", "write"] });

    const rows = await env.DB.prepare("SELECT * FROM api_tokens").all();
    const dump = JSON.stringify(rows.results);
    expect(dump).not.toContain(secret.split("_")[2]);
    expect(rows.results[0].secret_hash).toMatch(/^[0-9a-f]{64}$/);

    const list = await call("GET", "/api/v1/tokens", { token: ADMIN_TOKEN });
    expect(JSON.stringify(list.json)).not.toContain(secret.split("_")[2]);
    expect(list.json.tokens[0].last_used_at).toBeTypeOf("number");
  });

  it("accepts the token as the password of HTTP Basic (as MLflow clients may send it)", async () => {
    const { secret } = await createToken(["read"]);
    const res = await call("GET", "/api/v1/auth/whoami", { headers: { Authorization: `Basic ${btoa(`mlflow:${secret}`)}` } });
    expect(res.status).toBe(200);
  });

  it("enforces scopes with 403: read cannot write, write cannot manage tokens", async () => {
    const read = await createToken(["read"]);
    const write = await createToken(["write"]);
    const admin = await createToken(["admin"]);

    const readWrites = await call("POST", "/api/v1/tokens", { token: read.secret, body: { name: "x", scopes: ["read"] } });
    expect(readWrites.status).toBe(403);
    expect(errorCode(readWrites)).toBe("PERMISSION_DENIED");
    expect((await call("GET", "/api/v1/tokens", { token: read.secret })).status).toBe(403);
    expect((await call("GET", "/api/v1/tokens", { token: write.secret })).status).toBe(403);
    expect((await call("DELETE", `/api/v1/tokens/${read.id}`, { token: write.secret })).status).toBe(403);
    expect((await call("GET", "/api/v1/auth/whoami", { token: write.secret })).status).toBe(200);
    expect((await call("GET", "/api/v1/tokens", { token: admin.secret })).status).toBe(200);
  });

  it("revokes a token: it stops working at once and stays listed as revoked", async () => {
    const t = await createToken(["read"], "to-revoke");
    const revoked = await call("DELETE", `/api/v1/tokens/${t.id}`, { token: ADMIN_TOKEN });
    expect(revoked.status).toBe(200);
    expect(revoked.json.token.status).toBe("revoked");
    expect((await call("GET", "/api/v1/auth/whoami", { token: t.secret })).status).toBe(401);
    const list = await call("GET", "/api/v1/tokens", { token: ADMIN_TOKEN });
    expect(list.json.tokens.find((x: { id: string }) => x.id === t.id).status).toBe("revoked");
    const missing = await call("DELETE", "/api/v1/tokens/nope", { token: ADMIN_TOKEN });
    expect(missing.status).toBe(404);
    expect(errorCode(missing)).toBe("RESOURCE_DOES_NOT_EXIST");
  });

  it("refuses expired tokens and expiry dates in the past", async () => {
    const past = await call("POST", "/api/v1/tokens", { token: ADMIN_TOKEN, body: { name: "old", scopes: ["read"], expires_at: Date.now() - 1000 } });
    expect(past.status).toBe(400);
    const t = await createToken(["read"], "short-lived", { expires_at: Date.now() + 60_000 });
    expect((await call("GET", "/api/v1/auth/whoami", { token: t.secret })).status).toBe(200);
    await env.DB.prepare("UPDATE api_tokens SET expires_at = ? WHERE id = ?").bind(Date.now() - 1, t.id).run();
    expect((await call("GET", "/api/v1/auth/whoami", { token: t.secret })).status).toBe(401);
    const list = await call("GET", "/api/v1/tokens", { token: ADMIN_TOKEN });
    expect(list.json.tokens.find((x: { id: string }) => x.id === t.id).status).toBe("expired");
  });

  it("keeps health and the OpenAPI document public", async () => {
    expect((await call("GET", "/api/v1/health")).status).toBe(200);
    expect((await call("GET", "/api/v1/openapi.json")).status).toBe(200);
  });

  it("rate-limits failed attempts per client address with 429 and Retry-After", async () => {
    const headers = { Authorization: "Bearer wrong", "CF-Connecting-IP": "203.0.113.9" };
    const statuses: number[] = [];
    for (let i = 0; i < 22; i++) statuses.push((await call("GET", "/api/v1/auth/whoami", { headers })).status);
    expect(statuses.slice(0, 20).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(20)).toEqual([429, 429]);
    const limited = await call("GET", "/api/v1/auth/whoami", { headers });
    expect(errorCode(limited)).toBe("REQUEST_LIMIT_EXCEEDED");
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    // Another address is not affected.
    const other = await call("GET", "/api/v1/auth/whoami", { headers: { ...headers, "CF-Connecting-IP": "203.0.113.10" } });
    expect(other.status).toBe(401);
  });
});
