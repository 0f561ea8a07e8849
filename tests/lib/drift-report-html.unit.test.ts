/**
 * The standalone HTML export: every piece of user text escaped (file names, column names, category
 * values, error messages), no external reference of any kind, and the summary, table and charts
 * all present.
 */
import { describe, expect, it } from "vitest";
import { escapeHtml, detailSvg, sparklineSvg } from "../../app/src/lib/drift/charts-svg";
import { reportHtml } from "../../app/src/lib/drift/report-html";
import { computeColumn, type ColumnOutcome } from "../../app/src/lib/workers/drift/api";

const EVIL = `<script>alert("x")</script>&'"`;

function outcomes(): ColumnOutcome[] {
  const num = computeColumn({
    column: `num ${EVIL}`,
    columnType: "num",
    reference: { storage: "number", values: Float64Array.from({ length: 200 }, (_, i) => i / 10), integer: false },
    current: { storage: "number", values: Float64Array.from({ length: 150 }, (_, i) => i / 5), integer: false },
  });
  const cat = computeColumn({
    column: "city",
    columnType: "cat",
    reference: { storage: "category", codes: Int32Array.from({ length: 60 }, (_, i) => i % 3), dictionary: ["a", "b", EVIL] },
    current: { storage: "category", codes: Int32Array.from({ length: 60 }, (_, i) => i % 2), dictionary: ["a", "b", EVIL] },
  });
  const bad: ColumnOutcome = {
    column: "broken",
    columnType: "num",
    error: { code: "EMPTY_COLUMN", message: `An empty column '${EVIL}' was provided` },
    extra: [],
    referenceRows: 0,
    currentRows: 0,
    timings: { prepare: 0, main: 0, charts: 0 },
  };
  return [num, cat, bad];
}

describe("escapeHtml", () => {
  it("escapes the five HTML-significant characters", () => {
    expect(escapeHtml(EVIL)).toBe("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;&quot;");
    expect(escapeHtml("plain text é")).toBe("plain text é");
  });
});

describe("reportHtml", () => {
  const html = reportHtml({ referenceName: `ref${EVIL}.csv`, currentName: "cur.csv", generatedAt: "2026-01-01T00:00:00Z", outcomes: outcomes(), driftShare: 0.5 });

  it("never lets user text through unescaped", () => {
    expect(html).not.toContain("<script");
    expect(html).not.toContain(EVIL);
    expect(html).toContain(escapeHtml(`ref${EVIL}.csv`));
    expect(html).toContain(escapeHtml(`num ${EVIL}`));
    // The category label and the error message too.
    expect(html.split(escapeHtml(EVIL)).length).toBeGreaterThanOrEqual(5);
  });

  it("refers to nothing outside itself", () => {
    expect(html).not.toMatch(/\b(src|href)\s*=/i);
    expect(html).not.toMatch(/url\(|@import/i);
    expect(html).toContain("default-src 'none'");
    // Only the SVG namespace URI appears, which is an identifier, not a request.
    const urls = html.match(/https?:\/\/[^\s"']+/g) ?? [];
    expect(new Set(urls)).toEqual(new Set(["http://www.w3.org/2000/svg"]));
  });

  it("holds the summary, the table, sparklines and the detail charts", () => {
    expect(html).toMatch(/Drift is detected for \d+(\.\d+)?% of columns \(\d of 2\)\./);
    expect(html).toContain("Columns in error");
    // Two charted columns; the column in error has no data to draw.
    expect((html.match(/class="drift-sparkline"/g) ?? []).length).toBe(4);
    expect((html.match(/class="drift-detail"/g) ?? []).length).toBe(2);
    expect(html).toContain("Error (EMPTY_COLUMN)");
  });

  it("draws bars proportional to the data", () => {
    const [num, cat] = outcomes();
    const spark = sparklineSvg(num.charts!, "reference");
    expect((spark.match(/<rect /g) ?? []).length).toBe(10);
    const detail = detailSvg(cat.charts!);
    // Three categories × two sides + two legend swatches.
    expect((detail.match(/<rect /g) ?? []).length).toBe(8);
  });
});

describe("text columns in the export", () => {
  it("shows the classifier's verdict, the words of each side, typical rows and descriptors, all escaped", () => {
    const refTexts = Array.from({ length: 120 }, (_, i) => `apple pear plum ${["kiwi", "lime", "fig"][i % 3]} row${i}`);
    const curTexts = Array.from({ length: 120 }, (_, i) => `hammer <b>drill</b> saw ${["vise", "awl", "rasp"][i % 3]} row${i} ${EVIL}`);
    const enc = (texts: string[]) => ({ storage: "category" as const, codes: Int32Array.from(texts.keys()), dictionary: texts });
    const text = computeColumn({ column: "review", columnType: "text", reference: enc(refTexts), current: enc(curTexts) });
    expect(text.result).toMatchObject({ method: "perc_text_content_drift", drifted: true });
    const html = reportHtml({ referenceName: "r.csv", currentName: "c.csv", generatedAt: "2026-01-01T00:00:00Z", outcomes: [text], driftShare: 0.5 });
    expect(html).toContain("Percentile text content drift");
    expect(html).toContain('data-testid="text-detail"');
    expect(html).toContain("Words typical of current");
    expect(html).toMatch(/<ul class="drift-words current">.*<li>(hammer|drill|saw|vise|awl|rasp)<\/li>/s);
    expect(html).toContain("Text length (characters)");
    expect(html).toContain('data-descriptor="length"');
    // Typical rows are user text: escaped, never markup.
    expect(html).toContain("&lt;b&gt;drill&lt;/b&gt;");
    expect(html).not.toContain("<b>drill</b>");
    expect(html).not.toContain("<script>");
  });
});
