/**
 * Model quality the way Evidently's ClassificationQuality and RegressionQuality report it, for one
 * dataset at a time (the report calls it for current and for reference). Classification: accuracy,
 * precision / recall / F1 (binary at the positive label; macro and weighted for multiclass), ROC
 * AUC with tied scores, log loss with clipped probabilities, the confusion matrix and binary
 * rates. Regression: mean error, MAE, RMSE, MAPE with Evidently's near-zero handling, R², the
 * largest absolute error and the error distribution. Rows missing a target or a prediction are
 * dropped and counted.
 */
import { histogramCounts, sturgesEdges } from "./binning";
import { compareCategories } from "./clean";
import { percentileSorted } from "./numeric-tests";
import { type CategoryValue, DriftTestError, type RawValue } from "./types";

const missing = (v: RawValue): boolean => v === null || v === undefined || (typeof v === "number" && !Number.isFinite(v));

export interface ClassificationInput {
  target: ArrayLike<RawValue>;
  prediction: ArrayLike<RawValue>;
  /**
   * Predicted probabilities. Binary: the probability of the positive label, one per row.
   * Multiclass: one column per label (keys are the labels as strings).
   */
  probabilities?: ArrayLike<number> | Readonly<Record<string, ArrayLike<number>>>;
  /** The positive label of a binary problem (Evidently's pos_label, 1 by default). */
  positiveLabel?: CategoryValue;
}

export interface LabelQuality {
  label: CategoryValue;
  precision: number;
  recall: number;
  f1: number;
  support: number;
  rocAuc?: number;
}

export interface ClassificationQuality {
  rows: number;
  droppedRows: number;
  labels: CategoryValue[];
  binary: boolean;
  accuracy: number;
  /** Binary: at the positive label. Multiclass: macro average (Evidently's choice). */
  precision: number;
  recall: number;
  f1: number;
  weighted?: { precision: number; recall: number; f1: number };
  perLabel: LabelQuality[];
  /** confusion[i][j]: rows whose target is labels[i] and prediction labels[j]. */
  confusionMatrix: number[][];
  rates?: { tpr: number; tnr: number; fpr: number; fnr: number };
  rocAuc?: number;
  logLoss?: number;
}

/** ratio with sklearn's zero_division=0 convention. */
const ratio = (a: number, b: number): number => (b === 0 ? 0 : a / b);

/**
 * Area under the ROC curve from scores and 0/1 truth: the Mann–Whitney form with midranks, so
 * tied scores count one half (equal to the trapezoid under sklearn's curve). Undefined with one
 * class only.
 */
export function rocAuc(scores: ArrayLike<number>, positive: ArrayLike<boolean>): number {
  const n = scores.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a] - scores[b]);
  let nPos = 0;
  let rankSum = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j < n && scores[order[j]] === scores[order[i]]) j++;
    const midrank = (i + 1 + j) / 2;
    for (let k = i; k < j; k++) {
      if (positive[order[k]]) {
        nPos++;
        rankSum += midrank;
      }
    }
    i = j;
  }
  const nNeg = n - nPos;
  if (nPos === 0 || nNeg === 0) {
    throw new DriftTestError("SINGLE_CATEGORY", "ROC AUC is undefined when the target holds only one class.");
  }
  return (rankSum - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

/** Probabilities are clipped to [eps, 1 - eps] (float64 machine epsilon, sklearn's default). */
export const LOG_LOSS_EPS = 2 ** -52;

export function classificationQuality(input: ClassificationInput): ClassificationQuality {
  const { target, prediction } = input;
  if (target.length !== prediction.length) {
    throw new DriftTestError("WRONG_COLUMN_TYPE", "Target and prediction must have the same number of rows.");
  }
  const keep: number[] = [];
  for (let i = 0; i < target.length; i++) if (!missing(target[i]) && !missing(prediction[i])) keep.push(i);
  if (keep.length === 0) throw new DriftTestError("EMPTY_COLUMN", "No row has both a target and a prediction.");
  const labelSet = new Set<CategoryValue>();
  for (const i of keep) {
    labelSet.add(target[i] as CategoryValue);
    labelSet.add(prediction[i] as CategoryValue);
  }
  const labels = [...labelSet].sort(compareCategories);
  const index = new Map(labels.map((l, i) => [l, i]));
  const k = labels.length;
  const confusion = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  for (const i of keep) confusion[index.get(target[i] as CategoryValue) as number][index.get(prediction[i] as CategoryValue) as number]++;
  const n = keep.length;
  let correct = 0;
  for (let i = 0; i < k; i++) correct += confusion[i][i];
  const perLabel = labels.map((label, c): LabelQuality => {
    let predicted = 0;
    let actual = 0;
    for (let i = 0; i < k; i++) {
      predicted += confusion[i][c];
      actual += confusion[c][i];
    }
    const tp = confusion[c][c];
    const precision = ratio(tp, predicted);
    const recall = ratio(tp, actual);
    return { label, precision, recall, f1: ratio(2 * precision * recall, precision + recall), support: actual };
  });
  const binary = k <= 2;
  const out: ClassificationQuality = {
    rows: n,
    droppedRows: target.length - n,
    labels,
    binary,
    accuracy: correct / n,
    precision: 0,
    recall: 0,
    f1: 0,
    perLabel,
    confusionMatrix: confusion,
  };
  const truthOf = (label: CategoryValue): boolean[] => keep.map((i) => target[i] === label);
  if (binary) {
    const pos = input.positiveLabel ?? 1;
    const p = perLabel.find((l) => l.label === pos);
    const tp = p ? confusion[index.get(pos) as number][index.get(pos) as number] : 0;
    const actualPos = p?.support ?? 0;
    let predictedPos = 0;
    if (p) for (let i = 0; i < k; i++) predictedPos += confusion[i][index.get(pos) as number];
    const fn = actualPos - tp;
    const fp = predictedPos - tp;
    const tn = n - tp - fn - fp;
    out.precision = ratio(tp, predictedPos);
    out.recall = ratio(tp, actualPos);
    out.f1 = ratio(2 * out.precision * out.recall, out.precision + out.recall);
    out.rates = { tpr: ratio(tp, tp + fn), tnr: ratio(tn, tn + fp), fpr: ratio(fp, fp + tn), fnr: ratio(fn, fn + tp) };
    const probs = input.probabilities;
    if (probs && "length" in probs && typeof probs.length === "number") {
      const scores = keep.map((i) => (probs as ArrayLike<number>)[i]);
      const truth = truthOf(pos);
      if (truth.some((t) => t) && truth.some((t) => !t)) out.rocAuc = rocAuc(scores, truth);
      let ll = 0;
      for (let r = 0; r < scores.length; r++) {
        const q = Math.min(1 - LOG_LOSS_EPS, Math.max(LOG_LOSS_EPS, scores[r]));
        ll -= truth[r] ? Math.log(q) : Math.log1p(-q);
      }
      out.logLoss = ll / scores.length;
    }
  } else {
    out.precision = perLabel.reduce((s, l) => s + l.precision, 0) / k;
    out.recall = perLabel.reduce((s, l) => s + l.recall, 0) / k;
    out.f1 = perLabel.reduce((s, l) => s + l.f1, 0) / k;
    const w = (f: (l: LabelQuality) => number): number => perLabel.reduce((s, l) => s + f(l) * l.support, 0) / n;
    out.weighted = { precision: w((l) => l.precision), recall: w((l) => l.recall), f1: w((l) => l.f1) };
    const probs = input.probabilities;
    if (probs && !("length" in probs && typeof probs.length === "number")) {
      const cols = probs as Readonly<Record<string, ArrayLike<number>>>;
      const columnOf = (label: CategoryValue): ArrayLike<number> => {
        const col = cols[String(label)];
        if (!col) throw new DriftTestError("WRONG_COLUMN_TYPE", `No probability column for label '${String(label)}'.`);
        return col;
      };
      // One-vs-rest AUC per label present in the target, macro-averaged.
      const aucs: number[] = [];
      for (const l of perLabel) {
        const truth = truthOf(l.label);
        if (!truth.some((t) => t) || truth.every((t) => t)) continue;
        const col = columnOf(l.label);
        l.rocAuc = rocAuc(
          keep.map((i) => col[i]),
          truth,
        );
        aucs.push(l.rocAuc);
      }
      if (aucs.length > 0) out.rocAuc = aucs.reduce((s, a) => s + a, 0) / aucs.length;
      // Log loss: clip, renormalise each row, then the mean negative log of the true label's share.
      const columns = labels.map(columnOf);
      let ll = 0;
      for (const i of keep) {
        let sum = 0;
        for (const c of columns) sum += Math.min(1 - LOG_LOSS_EPS, Math.max(LOG_LOSS_EPS, c[i]));
        const q = Math.min(1 - LOG_LOSS_EPS, Math.max(LOG_LOSS_EPS, columns[index.get(target[i] as CategoryValue) as number][i]));
        ll -= Math.log(q / sum);
      }
      out.logLoss = ll / n;
    }
  }
  return out;
}

/** Turn probabilities into labels the way Evidently does: positive when p >= threshold (0.5). */
export function labelsFromProbabilities(
  probabilities: ArrayLike<number>,
  positive: CategoryValue,
  negative: CategoryValue,
  threshold = 0.5,
): CategoryValue[] {
  return Array.from({ length: probabilities.length }, (_, i) => (probabilities[i] >= threshold ? positive : negative));
}

// ---------------------------------------------------------------- regression

/** Evidently's default near-zero bound for MAPE: float64 machine epsilon. */
export const MAPE_EPSILON = 2 ** -52;

export type MapeZeroHandling = "replace" | "drop" | "none";

export interface RegressionOptions {
  /** Evidently: "replace" (by 1.0, i.e. 100%) for the current data, "drop" for the reference. */
  mapeZeroHandling?: MapeZeroHandling;
  mapeReplaceValue?: number;
  mapeEpsilon?: number;
  /** Quantiles of the error (prediction - target) to report. */
  quantiles?: readonly number[];
}

export interface RegressionQuality {
  rows: number;
  droppedRows: number;
  meanError: number;
  /** Sample std (ddof = 1) of the error. */
  errorStd: number;
  mae: number;
  absErrorStd: number;
  rmse: number;
  /** In percent. */
  mape: number;
  absErrorMax: number;
  r2: number;
  errorQuantiles: { q: number; value: number }[];
  /** Sturges histogram of the error. */
  errorHistogram: { edges: number[]; counts: number[] };
}

function meanStd(values: ArrayLike<number>): [number, number] {
  const n = values.length;
  let s = 0;
  for (let i = 0; i < n; i++) s += values[i];
  const mean = s / n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (values[i] - mean) ** 2;
  return [mean, n > 1 ? Math.sqrt(ss / (n - 1)) : NaN];
}

export function regressionQuality(target: ArrayLike<RawValue>, prediction: ArrayLike<RawValue>, options: RegressionOptions = {}): RegressionQuality {
  if (target.length !== prediction.length) {
    throw new DriftTestError("WRONG_COLUMN_TYPE", "Target and prediction must have the same number of rows.");
  }
  const y: number[] = [];
  const p: number[] = [];
  for (let i = 0; i < target.length; i++) {
    const t = target[i];
    const q = prediction[i];
    if (missing(t) || missing(q)) continue;
    if (typeof t !== "number" || typeof q !== "number") throw new DriftTestError("NOT_NUMERIC", "Regression target and prediction must be numeric.");
    y.push(t);
    p.push(q);
  }
  const n = y.length;
  if (n === 0) throw new DriftTestError("EMPTY_COLUMN", "No row has both a target and a prediction.");
  const err = Float64Array.from(p, (v, i) => v - y[i]);
  const abs = err.map(Math.abs);
  const [meanError, errorStd] = meanStd(err);
  const [mae, absErrorStd] = meanStd(abs);
  let sq = 0;
  let absMax = 0;
  for (let i = 0; i < n; i++) {
    sq += err[i] * err[i];
    if (abs[i] > absMax) absMax = abs[i];
  }
  // MAPE: |err| / max(target, eps) — max, not max(|target|): Evidently's formula. Rows with
  // |target| <= eps are replaced by the replace value (1.0 = 100%) or dropped.
  const eps = options.mapeEpsilon ?? MAPE_EPSILON;
  const handling = options.mapeZeroHandling ?? "replace";
  const replace = options.mapeReplaceValue ?? 1;
  let apeSum = 0;
  let apeCount = 0;
  for (let i = 0; i < n; i++) {
    const nearZero = !(Math.abs(y[i]) > eps);
    if (nearZero && handling === "drop") continue;
    apeSum += nearZero && handling === "replace" ? replace : abs[i] / Math.max(y[i], eps);
    apeCount++;
  }
  const [meanY] = meanStd(y);
  let ssTot = 0;
  for (let i = 0; i < n; i++) ssTot += (y[i] - meanY) ** 2;
  // sklearn's r2_score with force_finite: a constant target scores 1 if predicted exactly, else 0.
  const r2 = ssTot === 0 ? (sq === 0 ? 1 : 0) : 1 - sq / ssTot;
  const sorted = err.slice().sort();
  const qs = options.quantiles ?? [0, 0.05, 0.25, 0.5, 0.75, 0.95, 1];
  const edges = sturgesEdges(err);
  return {
    rows: n,
    droppedRows: target.length - n,
    meanError,
    errorStd,
    mae,
    absErrorStd,
    rmse: Math.sqrt(sq / n),
    mape: apeCount > 0 ? (100 * apeSum) / apeCount : NaN,
    absErrorMax: absMax,
    r2,
    errorQuantiles: qs.map((q) => ({ q, value: percentileSorted(sorted, q) })),
    errorHistogram: { edges, counts: histogramCounts(err, edges) },
  };
}
