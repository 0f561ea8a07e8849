/**
 * Text drift (the domain classifier): tokenisation and TF-IDF checked by hand, the random-classifier
 * baseline against its known distribution, identical texts not drifting and disjoint vocabularies
 * drifting with the words that tell them apart, determinism, Evidently's default choice and type
 * inference for text, and the edge cases (empty strings, stop words only, all missing, too few rows).
 */
import { describe, expect, it } from "vitest";
import {
  columnDrift,
  driftReport,
  DriftTestError,
  fitTfIdf,
  inferColumnType,
  randomAucPercentile,
  textDescriptors,
  textDrift,
  tokenize,
} from "../../worker/lib/drift";
import { mulberry32 } from "../../worker/lib/random";

/** Sentences of 4-8 words drawn from a vocabulary. */
function sentences(n: number, vocabulary: string[], seed: number): string[] {
  const r = mulberry32(seed);
  return Array.from({ length: n }, () => Array.from({ length: 4 + Math.floor(r() * 5) }, () => vocabulary[Math.floor(r() * vocabulary.length)]).join(" "));
}

const FRUIT = ["apple", "banana", "cherry", "grape", "lemon", "mango", "melon", "peach", "pear", "plum", "kiwi", "lime"];
const TOOLS = ["hammer", "wrench", "pliers", "chisel", "drill", "saw", "level", "clamp", "file", "rasp", "vise", "awl"];

function expectDriftError(fn: () => unknown, code: string): DriftTestError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(DriftTestError);
    expect((e as DriftTestError).code).toBe(code);
    return e as DriftTestError;
  }
  throw new Error(`expected ${code}`);
}

describe("tokenize and TF-IDF", () => {
  it("keeps runs of two or more word characters, lower-cased, without English stop words", () => {
    expect(tokenize("The Quick brown fox; a 42 x_y I'm naïve")).toEqual(["quick", "brown", "fox", "42", "x_y", "naïve"]);
    expect(tokenize("")).toEqual([]);
    expect(tokenize("a b c of the and")).toEqual([]);
  });

  it("weights by (1 + ln tf) · (ln((1+n)/(1+df)) + 1), L2-normalised, and drops words in more than half of the rows", () => {
    // Three training rows: "red" is in 1 of 3, "blue" in 1, "green" in 2 (> 1.5 so dropped).
    const tf = fitTfIdf([["red", "red", "green"], ["blue", "green"], ["yellow"]]);
    expect(tf.vocabulary).toEqual(["blue", "red", "yellow"]);
    const idf1 = Math.log(4 / 2) + 1;
    expect(Array.from(tf.idf)).toEqual([idf1, idf1, idf1]);
    const row = tf.transform(["red", "red", "blue", "unknown"]);
    // blue: 1·idf, red: (1 + ln 2)·idf; normalised.
    const a = idf1;
    const b = (1 + Math.log(2)) * idf1;
    const norm = Math.hypot(a, b);
    expect(Array.from(row.idx)).toEqual([0, 1]);
    expect(row.val[0]).toBeCloseTo(a / norm, 15);
    expect(row.val[1]).toBeCloseTo(b / norm, 15);
    expect(tf.transform(["unknown"]).idx.length).toBe(0);
  });

  it("refuses texts that leave no words", () => {
    expectDriftError(() => fitTfIdf([["same"], ["same"]]), "EMPTY_VOCABULARY");
    expectDriftError(() => fitTfIdf([[], []]), "EMPTY_VOCABULARY");
  });
});

describe("random-classifier baseline", () => {
  it("matches the AUC distribution of random scores: mean 1/2 and sd sqrt((n+1)/(12·n0·n1))", () => {
    const n1 = 200;
    const n0 = 300;
    const sd = Math.sqrt((n0 + n1 + 1) / (12 * n0 * n1));
    // The 95th percentile of 1000 draws is near 0.5 + 1.645 sd; the 50th near 0.5.
    expect(randomAucPercentile(n1, n0, 95)).toBeCloseTo(0.5 + 1.645 * sd, 2);
    expect(randomAucPercentile(n1, n0, 50)).toBeCloseTo(0.5, 2);
    // Symmetric in which class is drawn, and deterministic.
    expect(randomAucPercentile(n0, n1, 95)).toBeCloseTo(0.5 + 1.645 * sd, 2);
    expect(randomAucPercentile(n1, n0, 95)).toBe(randomAucPercentile(n1, n0, 95));
  });
});

describe("text drift (domain classifier)", () => {
  it("finds no drift when both sides are the same texts", () => {
    const texts = sentences(400, [...FRUIT, ...TOOLS], 1);
    for (const method of ["abs_text_content_drift", "perc_text_content_drift"] as const) {
      const r = textDrift(texts, [...texts], { method });
      expect(r.drifted, method).toBe(false);
      // Identical rows carry opposite labels: the classifier can do no better than chance.
      expect(Math.abs(r.score - 0.5)).toBeLessThan(0.06);
    }
  });

  it("finds drift when the vocabularies differ, and names the words of each side", () => {
    const ref = sentences(300, FRUIT, 2);
    const cur = sentences(300, TOOLS, 3);
    for (const method of ["abs_text_content_drift", "perc_text_content_drift"] as const) {
      const r = textDrift(ref, cur, { method });
      expect(r.drifted, method).toBe(true);
      expect(r.score).toBeGreaterThan(0.999);
      expect(r.cutoff).toBeLessThan(1);
      // L1 keeps the weights sparse: some words suffice, and each points to its own side.
      expect(r.words.current.length).toBeGreaterThanOrEqual(3);
      expect(r.words.reference.length).toBeGreaterThanOrEqual(3);
      expect(r.words.current.every((w) => TOOLS.includes(w))).toBe(true);
      expect(r.words.reference.every((w) => FRUIT.includes(w))).toBe(true);
      for (const s of r.examples.current) expect(cur).toContain(s);
      for (const s of r.examples.reference) expect(ref).toContain(s);
    }
    // abs compares with the threshold itself; perc with the random classifiers' percentile.
    expect(textDrift(ref, cur, { method: "abs_text_content_drift" }).cutoff).toBe(0.55);
    const perc = textDrift(ref, cur, { method: "perc_text_content_drift" });
    expect(perc.cutoff).toBeGreaterThan(0.5);
    expect(perc.cutoff).toBeLessThan(0.6);
  });

  it("detects a partial shift: new words in part of the current rows", () => {
    const ref = sentences(500, FRUIT, 4);
    const cur = [...sentences(350, FRUIT, 5), ...sentences(150, TOOLS, 6)];
    const r = textDrift(ref, cur);
    expect(r.drifted).toBe(true);
    expect(r.score).toBeGreaterThan(0.6);
    expect(r.score).toBeLessThan(1);
    expect(r.words.current.slice(0, 5).every((w) => TOOLS.includes(w))).toBe(true);
  });

  it("is deterministic, and the seed is what decides the split", () => {
    const ref = sentences(200, [...FRUIT, "pear"], 7);
    const cur = sentences(200, [...FRUIT, "vise"], 8);
    expect(textDrift(ref, cur)).toEqual(textDrift(ref, cur));
    expect(textDrift(ref, cur, { seed: 7 }).testRows).toBe(200);
    expect(textDrift(ref, cur, { seed: 7 }).trainRows).toBe(200);
  });

  it("applies the threshold: abs drifts when the AUC is above it", () => {
    const ref = sentences(300, FRUIT, 9);
    const cur = [...sentences(240, FRUIT, 10), ...sentences(60, TOOLS, 11)];
    const r = textDrift(ref, cur, { method: "abs_text_content_drift" });
    expect(textDrift(ref, cur, { method: "abs_text_content_drift", threshold: r.score - 1e-9 }).drifted).toBe(true);
    expect(textDrift(ref, cur, { method: "abs_text_content_drift", threshold: r.score }).drifted).toBe(false);
    expectDriftError(() => textDrift(ref, cur, { method: "perc_text_content_drift", threshold: 1.5 }), "INVALID_THRESHOLD");
    expectDriftError(() => textDrift(ref, cur, { threshold: NaN }), "INVALID_THRESHOLD");
  });

  it("handles empty strings as texts without words, and refuses all-empty and stop-word-only columns", () => {
    const ref = [...sentences(100, FRUIT, 12), ...Array(50).fill("")];
    const cur = [...sentences(100, TOOLS, 13), ...Array(50).fill("")];
    const r = textDrift(ref, cur);
    expect(r.drifted).toBe(true);
    // The empty rows are identical on both sides: the AUC is high but not perfect.
    expect(r.score).toBeLessThan(1);
    expectDriftError(() => textDrift(Array(20).fill(""), Array(20).fill("")), "EMPTY_VOCABULARY");
    expectDriftError(() => textDrift(Array(20).fill("the and of"), Array(20).fill("is it a")), "EMPTY_VOCABULARY");
  });

  it("refuses too few rows to split into two halves with both sides", () => {
    expectDriftError(() => textDrift(["apple pie"], ["hammer time"]), "TOO_FEW_ROWS");
  });
});

describe("text columns in columnDrift and driftReport", () => {
  it("infers text from strings with more than half distinct values (Evidently's rule)", () => {
    expect(inferColumnType(sentences(50, FRUIT, 14))).toBe("text");
    expect(inferColumnType(["a", "b", "a", "b"])).toBe("cat");
  });

  it("uses perc_text_content_drift up to 1000 reference rows and abs_text_content_drift above", () => {
    const cur = sentences(200, TOOLS, 15);
    const small = columnDrift(sentences(1000, FRUIT, 16), cur, { columnType: "text" });
    expect(small).toMatchObject({ method: "perc_text_content_drift", displayName: "Percentile text content drift", scoreKind: "roc_auc", threshold: 0.95, drifted: true });
    const large = columnDrift(sentences(1001, FRUIT, 16), cur, { columnType: "text" });
    expect(large).toMatchObject({ method: "abs_text_content_drift", displayName: "Absolute text content drift", threshold: 0.55, drifted: true });
    expect(large.text?.words.current.length).toBeGreaterThan(0);
  });

  it("drops missing cells first and refuses an all-missing side", () => {
    const ref = [...sentences(100, FRUIT, 17), null, undefined, NaN];
    const r = columnDrift(ref, sentences(100, FRUIT, 18), { columnType: "text", method: "abs_text_content_drift" });
    expect(r.referenceRows).toBe(100);
    expect(r.drifted).toBe(false);
    expect(expectDriftError(() => columnDrift([null, null], ["x y"], { columnType: "text" }), "EMPTY_COLUMN").side).toBe("reference");
  });

  it("accepts only the text methods on a text column, and those only there", () => {
    expectDriftError(() => columnDrift(["aa bb"], ["cc dd"], { columnType: "text", method: "ks" }), "WRONG_COLUMN_TYPE");
    expectDriftError(() => columnDrift([1, 2], [3, 4], { columnType: "num", method: "abs_text_content_drift" }), "WRONG_COLUMN_TYPE");
  });

  it("tests the text descriptors as numeric columns", () => {
    expect(textDescriptors(["Hi there!", "", "a1 b2"])).toEqual({ length: [9, 0, 5], words: [2, 0, 2], non_letter_percent: [100 / 9, NaN, 40] });
    const ref = sentences(300, FRUIT, 19);
    const longer = ref.map((s) => `${s} ${s} ${s}`);
    const r = columnDrift(ref, longer, { columnType: "text" });
    const byName = Object.fromEntries((r.text?.descriptors ?? []).map((d) => [d.descriptor, d]));
    expect(byName.length).toMatchObject({ method: "ks", drifted: true });
    expect(byName.words).toMatchObject({ method: "ks", drifted: true });
    // Tripling each row keeps its share of non-letters.
    expect(byName.non_letter_percent.drifted).toBe(false);
  });

  it("reports a text column with its score, words and descriptors, and lists both text tests with --all-tests", () => {
    const r = driftReport({ reference: { t: sentences(200, FRUIT, 20) }, current: { t: sentences(200, TOOLS, 21) }, allTests: true });
    const col = r.columns[0];
    expect(col).toMatchObject({ type: "text", method: "perc_text_content_drift", drifted: true });
    expect(col.score).toBeGreaterThan(0.99);
    expect(col.text?.words.reference.length).toBeGreaterThan(0);
    expect(col.tests?.map((t) => t.method)).toEqual(["perc_text_content_drift", "abs_text_content_drift"]);
    expect(r.dataset?.datasetDrift).toBe(true);
  });
});
