import { describe, expect, it } from "vitest";
import { IDEMPOTENCY_TTL_MS, IN_FLIGHT_LEASE_MS, keyProblem, keyState, principalScope, requestFingerprint, storesResponse } from "../../worker/lib/idempotency";

const enc = (s: string) => new TextEncoder().encode(s);

describe("Idempotency-Key rules", () => {
  it("accepts 1-255 printable ASCII characters and names what is wrong otherwise", () => {
    expect(keyProblem("a")).toBeNull();
    expect(keyProblem("order 42/retry:#1 ~")).toBeNull();
    expect(keyProblem("k".repeat(255))).toBeNull();
    expect(keyProblem("")).toMatch(/empty/);
    expect(keyProblem("k".repeat(256))).toMatch(/longer than 255/);
    for (const bad of ["tab\there", "nul\u0000", "caf\u00e9", "del\u007f"]) expect(keyProblem(bad)).toMatch(/printable ASCII/);
  });

  it("gives each token its own namespace, and open mode and the bootstrap token one each", () => {
    expect(principalScope({ kind: "token", token_id: "abc" })).toBe("token:abc");
    expect(principalScope({ kind: "open", token_id: null })).toBe("open");
    expect(principalScope({ kind: "bootstrap", token_id: null })).toBe("bootstrap");
  });

  it("fingerprints method, path with query, and body bytes", async () => {
    const base = await requestFingerprint("POST", "/api/v1/x", enc('{"a":1}'));
    expect(await requestFingerprint("post", "/api/v1/x", enc('{"a":1}'))).toBe(base);
    expect(await requestFingerprint("PUT", "/api/v1/x", enc('{"a":1}'))).not.toBe(base);
    expect(await requestFingerprint("POST", "/api/v1/y", enc('{"a":1}'))).not.toBe(base);
    expect(await requestFingerprint("POST", "/api/v1/x?q=1", enc('{"a":1}'))).not.toBe(base);
    expect(await requestFingerprint("POST", "/api/v1/x", enc('{"a": 1}'))).not.toBe(base);
    expect(base).toMatch(/^[0-9a-f]{64}$/);
  });

  it("replays kept answers, waits for running requests, refuses other requests, and takes over stale or expired keys", () => {
    const t = 1_000_000;
    const done = { fingerprint: "f", status: 201, createdAt: t };
    const running = { ...done, status: null };
    expect(keyState(done, "f", t + 1)).toBe("replay");
    expect(keyState(done, "g", t + 1)).toBe("mismatch");
    expect(keyState(done, "g", t + IDEMPOTENCY_TTL_MS)).toBe("take_over");
    expect(keyState(running, "f", t + IN_FLIGHT_LEASE_MS - 1)).toBe("in_flight");
    expect(keyState(running, "g", t + 1)).toBe("mismatch");
    expect(keyState(running, "f", t + IN_FLIGHT_LEASE_MS)).toBe("take_over");
  });

  it("keeps answers below 500", () => {
    expect([200, 201, 404, 409, 499, 500, 503].map(storesResponse)).toEqual([true, true, true, true, true, false, false]);
  });
});
