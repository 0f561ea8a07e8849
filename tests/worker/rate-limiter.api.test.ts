import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { RateLimiterObject } from "../../worker/auth/rate-limiter-object";

const rule = { limit: 3, windowMs: 60_000 };

describe("RateLimiterObject", () => {
  it("allows up to the limit inside the window, then refuses with a retry time", async () => {
    const stub = env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName("198.51.100.1"));
    const t0 = 1_000_000;
    const results = [];
    for (let i = 0; i < 4; i++) results.push(await stub.hit(rule, t0 + i * 1000));
    expect(results.map((r) => r.allowed)).toEqual([true, true, true, false]);
    expect(results[3].retryAfterMs).toBe(60_000 - 3000);
    // Once the first event leaves the window, one more is allowed.
    expect((await stub.hit(rule, t0 + 60_001)).allowed).toBe(true);
  });

  it("keeps its log in SQLite storage and clears it with its alarm", async () => {
    const stub = env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName("198.51.100.2"));
    const now = Date.now();
    await stub.hit(rule, now);
    await stub.hit(rule, now);
    expect(await stub.count(rule.windowMs, now)).toBe(2);
    const stored = await runInDurableObject(stub, (_obj: RateLimiterObject, state) => state.storage.sql.exec("SELECT count(*) AS n FROM events").one().n);
    expect(stored).toBe(2);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await stub.count(rule.windowMs, now)).toBe(0);
  });

  it("answers the health ping", async () => {
    const stub = env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName("ping"));
    expect(await stub.ping()).toEqual({ ok: true, class: "RateLimiterObject" });
  });
});
