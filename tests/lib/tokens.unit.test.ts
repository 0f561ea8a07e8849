import { describe, expect, it } from "vitest";
import { constantTimeEqual, generateToken, parseToken, scopeSatisfies, sha256Hex } from "../../worker/lib/tokens";

describe("token format", () => {
  it("generates tern_<id>_<secret> tokens that parse back", () => {
    const t = generateToken();
    expect(t.token).toMatch(/^tern_[A-Za-z0-9]{12}_[A-Za-z0-9]{32}$/);
    expect(parseToken(t.token)).toEqual({ id: t.id, secret: t.secret });
  });

  it("never repeats in 10,000 tokens and uses the whole alphabet", () => {
    const seen = new Set<string>();
    const chars = new Set<string>();
    for (let i = 0; i < 10_000; i++) {
      const t = generateToken();
      seen.add(t.token);
      for (const c of t.secret) chars.add(c);
    }
    expect(seen.size).toBe(10_000);
    expect(chars.size).toBe(62);
  });

  it("rejects anything that is not exactly the format", () => {
    const t = generateToken().token;
    for (const bad of ["", "tern_", t + "x", t.slice(1), t.replace("tern_", "TERN_"), ` ${t}`, t.replace(/_/g, "-")]) {
      expect(parseToken(bad), bad).toBeNull();
    }
  });
});

describe("hashing and comparison", () => {
  it("hashes with SHA-256 as hex", async () => {
    expect(await sha256Hex("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });

  it("compares equal and unequal strings, including different lengths", async () => {
    expect(await constantTimeEqual("secret", "secret")).toBe(true);
    expect(await constantTimeEqual("secret", "secreT")).toBe(false);
    expect(await constantTimeEqual("secret", "secret-longer")).toBe(false);
    expect(await constantTimeEqual("", "")).toBe(true);
  });
});

describe("scopes", () => {
  it("orders admin above write above read", () => {
    expect(scopeSatisfies(["admin"], "read")).toBe(true);
    expect(scopeSatisfies(["admin"], "write")).toBe(true);
    expect(scopeSatisfies(["write"], "read")).toBe(true);
    expect(scopeSatisfies(["write"], "admin")).toBe(false);
    expect(scopeSatisfies(["read"], "write")).toBe(false);
    expect(scopeSatisfies([], "read")).toBe(false);
    expect(scopeSatisfies(["bogus"], "read")).toBe(false);
  });
});
