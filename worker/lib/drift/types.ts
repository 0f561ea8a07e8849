/**
 * The vocabulary of the drift statistics: column types, stattest names with Evidently's display
 * names, default thresholds and decision operators, result shapes, and the one error type raised
 * when a test is undefined for the data it was given.
 */

export type ColumnType = "num" | "cat" | "text";

/** A non-missing categorical value. Distinct JS values are distinct categories ("1" is not 1). */
export type CategoryValue = string | number | boolean;

/** A raw cell as it arrives from a parsed file: null/undefined/NaN are missing, ±Infinity too. */
export type RawValue = CategoryValue | null | undefined;

export type StattestName =
  | "ks"
  | "chisquare"
  | "z"
  | "wasserstein"
  | "psi"
  | "kl_div"
  | "jensenshannon"
  | "hellinger"
  | "anderson"
  | "cramer_von_mises"
  | "mannw"
  | "ed"
  | "es"
  | "t_test"
  | "empirical_mmd"
  | "fisher_exact"
  | "g_test"
  | "TVD";

/** Methods Evidently's default selection can name for text columns (a trained classifier, not a statistic). */
export type TextStattestName = "perc_text_content_drift" | "abs_text_content_drift";

export interface StattestSpec {
  name: StattestName;
  displayName: string;
  /** Column types the test accepts when the user names it explicitly. */
  columnTypes: readonly ColumnType[];
  scoreKind: "p_value" | "distance";
  defaultThreshold: number;
  /** Comparison of the score against the threshold that means drift. */
  drift: "p<=t" | "p<t" | "d>=t" | "d>t";
}

export const STATTESTS: Readonly<Record<StattestName, StattestSpec>> = {
  ks: {
    name: "ks",
    displayName: "K-S p_value",
    columnTypes: ["num"],
    scoreKind: "p_value",
    defaultThreshold: 0.05,
    drift: "p<=t",
  },
  chisquare: {
    name: "chisquare",
    displayName: "chi-square p_value",
    columnTypes: ["cat"],
    scoreKind: "p_value",
    defaultThreshold: 0.05,
    drift: "p<t",
  },
  z: { name: "z", displayName: "Z-test p_value", columnTypes: ["cat"], scoreKind: "p_value", defaultThreshold: 0.05, drift: "p<t" },
  wasserstein: {
    name: "wasserstein",
    displayName: "Wasserstein distance (normed)",
    columnTypes: ["num"],
    scoreKind: "distance",
    defaultThreshold: 0.1,
    drift: "d>=t",
  },
  psi: { name: "psi", displayName: "PSI", columnTypes: ["cat", "num"], scoreKind: "distance", defaultThreshold: 0.1, drift: "d>=t" },
  kl_div: {
    name: "kl_div",
    displayName: "Kullback-Leibler divergence",
    columnTypes: ["cat", "num"],
    scoreKind: "distance",
    defaultThreshold: 0.1,
    drift: "d>=t",
  },
  jensenshannon: {
    name: "jensenshannon",
    displayName: "Jensen-Shannon distance",
    columnTypes: ["cat", "num"],
    scoreKind: "distance",
    defaultThreshold: 0.1,
    drift: "d>=t",
  },
  hellinger: {
    name: "hellinger",
    displayName: "Hellinger distance",
    columnTypes: ["cat", "num"],
    scoreKind: "distance",
    defaultThreshold: 0.1,
    drift: "d>=t",
  },
  anderson: { name: "anderson", displayName: "Anderson-Darling", columnTypes: ["num"], scoreKind: "p_value", defaultThreshold: 0.1, drift: "p<t" },
  cramer_von_mises: {
    name: "cramer_von_mises",
    displayName: "Cramer-von Mises",
    columnTypes: ["num"],
    scoreKind: "p_value",
    defaultThreshold: 0.1,
    drift: "p<=t",
  },
  mannw: { name: "mannw", displayName: "Mann-Whitney U-rank test", columnTypes: ["num"], scoreKind: "p_value", defaultThreshold: 0.05, drift: "p<t" },
  ed: { name: "ed", displayName: "Energy-distance", columnTypes: ["num"], scoreKind: "distance", defaultThreshold: 0.1, drift: "d>t" },
  es: { name: "es", displayName: "Epps-Singleton", columnTypes: ["num"], scoreKind: "p_value", defaultThreshold: 0.05, drift: "p<t" },
  t_test: { name: "t_test", displayName: "t_test", columnTypes: ["num"], scoreKind: "p_value", defaultThreshold: 0.05, drift: "p<t" },
  empirical_mmd: {
    name: "empirical_mmd",
    displayName: "empirical_mmd",
    columnTypes: ["num"],
    scoreKind: "p_value",
    defaultThreshold: 0.1,
    drift: "p<t",
  },
  fisher_exact: {
    name: "fisher_exact",
    displayName: "Fisher's Exact test",
    columnTypes: ["cat"],
    scoreKind: "p_value",
    defaultThreshold: 0.1,
    drift: "p<t",
  },
  g_test: { name: "g_test", displayName: "g_test", columnTypes: ["cat"], scoreKind: "p_value", defaultThreshold: 0.1, drift: "p<t" },
  TVD: { name: "TVD", displayName: "Total-Variation-Distance", columnTypes: ["cat"], scoreKind: "p_value", defaultThreshold: 0.1, drift: "p<t" },
};

export interface StattestResult {
  method: StattestName | TextStattestName;
  displayName: string;
  /** A text column's score is the domain classifier's ROC AUC (drift when above the cutoff). */
  scoreKind: "p_value" | "distance" | "roc_auc";
  /** What Evidently reports as the drift score: the p-value for tests, the distance otherwise. */
  score: number;
  /** Present for p-value tests (equal to score). */
  pValue?: number;
  /**
   * The test statistic where one exists: KS D, chi-square X², z, Anderson–Darling A² (normalised),
   * Cramér–von Mises T, Mann–Whitney U of the reference, Epps–Singleton W, Student t, MMD², the
   * Fisher odds ratio, G, and the TVD itself for the TVD permutation test.
   */
  statistic?: number;
  threshold: number;
  drifted: boolean;
}

export type DriftErrorCode =
  | "EMPTY_COLUMN"
  | "NOT_NUMERIC"
  | "WRONG_COLUMN_TYPE"
  | "SINGLE_CATEGORY"
  | "UNSUPPORTED_METHOD"
  | "NO_COLUMNS"
  | "INVALID_THRESHOLD"
  | "TOO_FEW_ROWS"
  | "CONSTANT_COLUMN"
  | "TOO_MANY_CATEGORIES"
  | "EMPTY_VOCABULARY";

/** Raised instead of returning a number when a test is undefined for its input. */
export class DriftTestError extends Error {
  override readonly name = "DriftTestError";
  constructor(
    readonly code: DriftErrorCode,
    message: string,
    readonly side?: "reference" | "current",
  ) {
    super(message);
  }
}

/** Apply a test's decision operator; a NaN score never means drift (every comparison is false). */
export function isDrift(spec: StattestSpec, score: number, threshold: number): boolean {
  switch (spec.drift) {
    case "p<=t":
      return score <= threshold;
    case "p<t":
      return score < threshold;
    case "d>=t":
      return score >= threshold;
    case "d>t":
      return score > threshold;
  }
}
