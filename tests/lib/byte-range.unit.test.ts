import { describe, expect, it } from "vitest";
import { contentRange, parseRange, rangeLength, unsatisfiedRange } from "../../worker/lib/byte-range";

describe("parseRange", () => {
  it("reads first-last, open-ended and suffix ranges, clamped to the size", () => {
    expect(parseRange("bytes=0-99", 1000)).toEqual({ start: 0, end: 99 });
    expect(parseRange("bytes=990-2000", 1000)).toEqual({ start: 990, end: 999 });
    expect(parseRange("bytes=500-", 1000)).toEqual({ start: 500, end: 999 });
    expect(parseRange("bytes=-10", 1000)).toEqual({ start: 990, end: 999 });
    expect(parseRange("bytes=-5000", 1000)).toEqual({ start: 0, end: 999 });
    expect(parseRange(" Bytes = 1 - 2 ", 10)).toEqual({ start: 1, end: 2 });
  });

  it("says unsatisfiable when the range starts past the end or asks for nothing", () => {
    expect(parseRange("bytes=1000-", 1000)).toBe("unsatisfiable");
    expect(parseRange("bytes=5000-6000", 1000)).toBe("unsatisfiable");
    expect(parseRange("bytes=-0", 1000)).toBe("unsatisfiable");
    expect(parseRange("bytes=0-", 0)).toBe("unsatisfiable");
    expect(parseRange("bytes=-1", 0)).toBe("unsatisfiable");
  });

  it("ignores absent, malformed, non-byte and multi-range headers", () => {
    for (const h of [undefined, null, "", "bytes=", "bytes=-", "bytes=5-1", "items=0-1", "bytes=0-1,5-6", "bytes=a-b", "0-1"]) {
      expect(parseRange(h, 100), String(h)).toBeNull();
    }
  });

  it("writes Content-Range values", () => {
    const r = { start: 10, end: 19 };
    expect(rangeLength(r)).toBe(10);
    expect(contentRange(r, 100)).toBe("bytes 10-19/100");
    expect(unsatisfiedRange(100)).toBe("bytes */100");
  });
});
