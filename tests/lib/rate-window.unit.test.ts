import { describe, expect, it } from "vitest";
import { decide } from "../../worker/lib/rate-window";

const rule = { limit: 3, windowMs: 1000 };

describe("sliding-log rate window", () => {
  it("allows up to the limit and records each allowed event", () => {
    let log: number[] = [];
    const allowed = [];
    for (const t of [0, 10, 20, 30]) {
      const d = decide(log, t, rule);
      allowed.push(d.allowed);
      log = d.kept;
    }
    expect(allowed).toEqual([true, true, true, false]);
    expect(log).toEqual([0, 10, 20]);
  });

  it("says how long until the oldest counted event leaves the window", () => {
    const d = decide([0, 10, 20], 30, rule);
    expect(d.allowed).toBe(false);
    expect(d.retryAfterMs).toBe(970);
    expect(decide([0, 10, 20], 1000, rule).allowed).toBe(true);
  });

  it("forgets events outside the window and tolerates an unsorted log", () => {
    const d = decide([5000, 100, 4500, 4900], 5200, rule);
    expect(d.kept).toEqual([4500, 4900, 5000]);
    expect(d.allowed).toBe(false);
    expect(d.retryAfterMs).toBe(300);
  });

  it("refuses at once with a limit of zero", () => {
    const d = decide([], 0, { limit: 0, windowMs: 1000 });
    expect(d.allowed).toBe(false);
    expect(d.retryAfterMs).toBe(1000);
  });
});
