import { describe, expect, it } from "vitest";
import { escapeLabelValue, formatExposition, formatValue } from "../../worker/lib/monitoring/prometheus";
import { sampleIndices } from "../../worker/lib/monitoring/sample";

describe("Prometheus exposition 0.0.4", () => {
  it("writes HELP and TYPE lines, then samples with labels", () => {
    const text = formatExposition([
      { name: "tern_monitor_drift_share", help: "Share of drifted columns", type: "gauge", samples: [{ labels: { monitor: "m1" }, value: 0.25 }] },
      { name: "tern_monitor_reports_total", help: "Reports", type: "counter", samples: [{ labels: {}, value: 3 }] },
      { name: "tern_empty", help: "No samples yet", type: "gauge", samples: [] },
    ]);
    expect(text).toBe(
      [
        "# HELP tern_monitor_drift_share Share of drifted columns",
        "# TYPE tern_monitor_drift_share gauge",
        'tern_monitor_drift_share{monitor="m1"} 0.25',
        "# HELP tern_monitor_reports_total Reports",
        "# TYPE tern_monitor_reports_total counter",
        "tern_monitor_reports_total 3",
        "# HELP tern_empty No samples yet",
        "# TYPE tern_empty gauge",
        "",
      ].join("\n"),
    );
  });

  it("escapes backslashes, quotes and newlines in label values, and backslashes and newlines in HELP", () => {
    expect(escapeLabelValue('a"b')).toBe('a\\"b');
    expect(escapeLabelValue("C:\\tmp")).toBe("C:\\\\tmp");
    expect(escapeLabelValue("two\nlines")).toBe("two\\nlines");
    expect(escapeLabelValue('\\"\n')).toBe('\\\\\\"\\n');
    const text = formatExposition([{ name: "x", help: 'path C:\\ "q"\nnext', type: "gauge", samples: [{ labels: { column: 'we"ird\\col\n' }, value: 1 }] }]);
    expect(text.split("\n")).toEqual(['# HELP x path C:\\\\ "q"\\nnext', "# TYPE x gauge", 'x{column="we\\"ird\\\\col\\n"} 1', ""]);
  });

  it("formats special values as Prometheus reads them", () => {
    expect([NaN, Infinity, -Infinity, 0, -0.5, 1e-300].map(formatValue)).toEqual(["NaN", "+Inf", "-Inf", "0", "-0.5", "1e-300"]);
  });

  it("refuses invalid metric and label names and duplicate families", () => {
    expect(() => formatExposition([{ name: "1bad", help: "", type: "gauge", samples: [] }])).toThrow(/metric name/);
    expect(() => formatExposition([{ name: "ok", help: "", type: "gauge", samples: [{ labels: { "bad-label": "v" }, value: 1 }] }])).toThrow(/label name/);
    const f = { name: "dup", help: "", type: "gauge" as const, samples: [] };
    expect(() => formatExposition([f, f])).toThrow(/twice/);
  });
});

describe("row sampling", () => {
  it("keeps every row when there are few, and k distinct sorted rows otherwise", () => {
    expect(sampleIndices(4, 10, 1)).toEqual([0, 1, 2, 3]);
    const s = sampleIndices(100_000, 1000, 42);
    expect(s).toHaveLength(1000);
    expect(new Set(s).size).toBe(1000);
    expect(s.every((v, i) => v >= 0 && v < 100_000 && (i === 0 || v > s[i - 1]))).toBe(true);
    expect(sampleIndices(100_000, 1000, 42)).toEqual(s);
    expect(sampleIndices(100_000, 1000, 43)).not.toEqual(s);
  });

  it("spreads the sample over the whole range", () => {
    const s = sampleIndices(10_000, 2000, 7);
    const lowHalf = s.filter((i) => i < 5000).length;
    // Binomial(2000, 0.5) (hypergeometric, tighter): 6 standard deviations is ±134.
    expect(Math.abs(lowHalf - 1000)).toBeLessThan(134);
  });
});
