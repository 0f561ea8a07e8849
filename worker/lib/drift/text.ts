/**
 * Drift of a text column, the way Evidently decides it: a domain classifier. Reference rows are
 * labelled 0 and current rows 1, the pooled rows are shuffled and split in two halves, a linear
 * classifier is trained on TF-IDF features of one half and scored by ROC AUC on the other. When the
 * classifier cannot tell the two apart the AUC stays near 0.5. `abs_text_content_drift` flags drift
 * when the AUC exceeds its threshold (0.55); `perc_text_content_drift` when it exceeds the
 * threshold-th percentile (95th) of the AUCs of 1000 random classifiers on the same held-out labels.
 *
 * The pipeline follows Evidently's settings: TF-IDF with sublinear term frequency, terms in more than
 * half of the training rows dropped, English stop words removed, smooth idf and L2-normalised rows;
 * then stochastic gradient descent on the modified Huber loss with an L1 penalty (alpha 1e-4, at most
 * 50 epochs, the "optimal" learning-rate schedule, cumulative L1 truncation). It is written here, not
 * bound to scikit-learn, so the shuffles come from this module's seeded generator: results are
 * deterministic and identical in every runtime, close to but not bit-equal with Evidently's.
 *
 * Also: the words with the largest weights towards each side (what distinguishes the two), the most
 * typical held-out rows of each side, and text descriptors (length, words, non-letter share) tested
 * for drift as numeric columns. Runtime-free.
 */
import { rocAuc } from "./performance";
import { createRng, type Rng } from "./special";
import { DriftTestError, type RawValue, type TextStattestName } from "./types";

export interface TextStattestSpec {
  name: TextStattestName;
  displayName: string;
  defaultThreshold: number;
}

export const TEXT_STATTESTS: Readonly<Record<TextStattestName, TextStattestSpec>> = {
  perc_text_content_drift: { name: "perc_text_content_drift", displayName: "Percentile text content drift", defaultThreshold: 0.95 },
  abs_text_content_drift: { name: "abs_text_content_drift", displayName: "Absolute text content drift", defaultThreshold: 0.55 },
};

export const isTextStattest = (m: string): m is TextStattestName => m in TEXT_STATTESTS;

/** The seed of the split, of the training order and of the random-classifier baseline (Evidently uses 42). */
export const TEXT_DRIFT_SEED = 42;
export const TEXT_SGD_ALPHA = 1e-4;
export const TEXT_SGD_MAX_EPOCHS = 50;
export const TEXT_RANDOM_BASELINES = 1000;
/** Words listed per side, and typical rows per side. */
export const TEXT_TOP_WORDS = 25;
export const TEXT_TOP_EXAMPLES = 5;
/** Characters kept of each typical row shown in a report. */
export const TEXT_EXAMPLE_CHARS = 240;

/** The Glasgow IR group's English stop words as scikit-learn ships them (the forms a \w\w+ token can take). */
const STOP_WORDS = new Set(
  (
    "a about above across after afterwards again against all almost alone along already also although always am among amongst amount an and " +
    "another any anyhow anyone anything anyway anywhere are around as at back be became because become becomes becoming been before beforehand " +
    "behind being below beside besides between beyond bill both bottom but by call can cannot cant co con could cry de describe detail do done " +
    "down due during each eg eight either eleven else elsewhere empty enough etc even ever every everyone everything everywhere except few " +
    "fifteen fifty fill find fire first five for former formerly forty found four from front full further get give go had has have he hence " +
    "her here hereafter hereby herein hereupon hers herself him himself his how however hundred i ie if in inc indeed interest into is it its " +
    "itself keep last latter latterly least less ltd made many may me meanwhile might mill mine more moreover most mostly move much must my " +
    "myself name namely neither never nevertheless next nine no nobody none nor not nothing now nowhere of off often on once one only onto or " +
    "other others otherwise our ours ourselves out over own part per perhaps please put rather re same see seem seemed seeming seems serious " +
    "several she should show side since sincere six sixty so some somehow someone something sometime sometimes somewhere still such system " +
    "take ten than that the their them themselves then thence there thereafter thereby therefore therein thereupon these they thick thin third " +
    "this those though three through throughout thru thus to together too top toward towards twelve twenty two un under until up upon us very " +
    "via was we well were what whatever when whence whenever where whereafter whereas whereby wherein whereupon wherever whether which while " +
    "whither who whoever whole whom whose why will with within without would yet you your yours yourself yourselves"
  ).split(" "),
);

/** Runs of two or more word characters, lower-cased, stop words removed (scikit-learn's default analyzer). */
const TOKEN = /[\p{L}\p{N}_]{2,}/gu;

export function tokenize(text: string): string[] {
  const out: string[] = [];
  for (const m of text.toLowerCase().matchAll(TOKEN)) if (!STOP_WORDS.has(m[0])) out.push(m[0]);
  return out;
}

/** Non-missing cells of a text column as strings; missing and non-finite cells dropped, an empty side refused. */
export function cleanText(values: readonly RawValue[], side: "reference" | "current", column = "column"): string[] {
  const out: string[] = [];
  for (const v of values) {
    if (v === null || v === undefined || (typeof v === "number" && !Number.isFinite(v))) continue;
    out.push(typeof v === "string" ? v : String(v));
  }
  if (out.length === 0) {
    throw new DriftTestError("EMPTY_COLUMN", `An empty column '${column}' was provided for drift calculation in the ${side} dataset.`, side);
  }
  return out;
}

/** A sparse row: term indices ascending and their weights. */
interface SparseRow {
  idx: Int32Array;
  val: Float64Array;
}

/** TF-IDF fitted on the training rows: the vocabulary (sorted), and each row's L2-normalised vector. */
export interface TfIdf {
  vocabulary: string[];
  idf: Float64Array;
  transform(tokens: readonly string[]): SparseRow;
}

export function fitTfIdf(trainTokens: readonly (readonly string[])[], maxDf = 0.5): TfIdf {
  const df = new Map<string, number>();
  for (const tokens of trainTokens) for (const t of new Set(tokens)) df.set(t, (df.get(t) ?? 0) + 1);
  const n = trainTokens.length;
  const maxCount = maxDf * n;
  const vocabulary = [...df.keys()].filter((t) => (df.get(t) as number) <= maxCount).sort();
  if (vocabulary.length === 0) {
    throw new DriftTestError(
      "EMPTY_VOCABULARY",
      df.size === 0
        ? "No words to compare: every text is empty or made only of stop words and single characters."
        : "No words to compare: every word occurs in more than half of the rows, so none tells the datasets apart.",
    );
  }
  const index = new Map(vocabulary.map((t, i) => [t, i]));
  const idf = new Float64Array(vocabulary.length);
  for (let i = 0; i < vocabulary.length; i++) idf[i] = Math.log((1 + n) / (1 + (df.get(vocabulary[i]) as number))) + 1;
  const transform = (tokens: readonly string[]): SparseRow => {
    const counts = new Map<number, number>();
    for (const t of tokens) {
      const i = index.get(t);
      if (i !== undefined) counts.set(i, (counts.get(i) ?? 0) + 1);
    }
    const idx = Int32Array.from([...counts.keys()].sort((a, b) => a - b));
    const val = new Float64Array(idx.length);
    let norm = 0;
    for (let k = 0; k < idx.length; k++) {
      val[k] = (1 + Math.log(counts.get(idx[k]) as number)) * idf[idx[k]];
      norm += val[k] * val[k];
    }
    norm = Math.sqrt(norm);
    if (norm > 0) for (let k = 0; k < val.length; k++) val[k] /= norm;
    return { idx, val };
  };
  return { vocabulary, idf, transform };
}

function shuffleInPlace(a: Int32Array | number[], rng: Rng): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
}

/** Modified Huber loss of margin z = y·p, and its derivative with respect to p. */
function huberLoss(p: number, y: number): number {
  const z = p * y;
  if (z >= 1) return 0;
  if (z >= -1) return (1 - z) * (1 - z);
  return -4 * z;
}
function huberDLoss(p: number, y: number): number {
  const z = p * y;
  if (z >= 1) return 0;
  if (z >= -1) return -2 * (1 - z) * y;
  return -4 * y;
}

/** A linear classifier: weights per term and the intercept. */
export interface LinearModel {
  weights: Float64Array;
  intercept: number;
  epochs: number;
}

/**
 * SGD on the modified Huber loss with an L1 penalty: learning rate 1/(alpha·(t0 + t)), the intercept
 * learning at 1/100 of the rate (sparse input), L1 applied as a cumulative truncation on the terms
 * of each row, stopping after five epochs without the summed loss improving by 1e-3 per row.
 */
export function trainSgd(rows: readonly SparseRow[], labels: readonly number[], features: number, rng: Rng, alpha = TEXT_SGD_ALPHA, maxEpochs = TEXT_SGD_MAX_EPOCHS): LinearModel {
  const w = new Float64Array(features);
  const q = new Float64Array(features);
  let intercept = 0;
  let u = 0;
  // The "optimal" schedule's offset for this loss: typw = sqrt(1/sqrt(alpha)), eta0 = typw / max(1, dloss(-typw, 1)).
  const typw = Math.sqrt(1 / Math.sqrt(alpha));
  const eta0 = typw / Math.max(1, huberDLoss(-typw, 1));
  const t0 = 1 / (eta0 * alpha);
  const order = Int32Array.from(rows.keys());
  let t = 1;
  let best = Infinity;
  let stale = 0;
  let epochs = 0;
  const tol = 1e-3;
  for (let epoch = 0; epoch < maxEpochs; epoch++) {
    epochs++;
    shuffleInPlace(order, rng);
    let sumLoss = 0;
    for (let k = 0; k < order.length; k++) {
      const i = order[k];
      const { idx, val } = rows[i];
      const y = labels[i];
      const eta = 1 / (alpha * (t0 + t - 1));
      let p = intercept;
      for (let j = 0; j < idx.length; j++) p += w[idx[j]] * val[j];
      sumLoss += huberLoss(p, y);
      const update = -eta * huberDLoss(p, y);
      if (update !== 0) {
        for (let j = 0; j < idx.length; j++) w[idx[j]] += update * val[j];
        intercept += update * 0.01;
      }
      u += eta * alpha;
      for (let j = 0; j < idx.length; j++) {
        const f = idx[j];
        const z = w[f];
        if (z > 0) w[f] = Math.max(0, z - (u + q[f]));
        else if (z < 0) w[f] = Math.min(0, z + (u - q[f]));
        q[f] += w[f] - z;
      }
      t++;
    }
    if (sumLoss > best - tol * order.length) stale++;
    else stale = 0;
    if (sumLoss < best) best = sumLoss;
    if (stale >= 5) break;
  }
  return { weights: w, intercept, epochs };
}

/** P(current) under the modified Huber loss: (clip(decision, -1, 1) + 1) / 2. */
function probability(model: LinearModel, row: SparseRow): number {
  let p = model.intercept;
  for (let j = 0; j < row.idx.length; j++) p += model.weights[row.idx[j]] * row.val[j];
  return (Math.min(1, Math.max(-1, p)) + 1) / 2;
}

/** numpy.percentile's default (linear interpolation between closest ranks) on sorted values. */
function percentileLinear(sorted: Float64Array, q: number): number {
  const pos = (q / 100) * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/**
 * The q-th percentile of the ROC AUC of `iterations` classifiers that score rows at random (no ties),
 * on held-out data with `positives` current and `negatives` reference rows. A random score ranks the
 * rows in a uniformly random order, so each draw places the positives at random ranks.
 */
export function randomAucPercentile(positives: number, negatives: number, q: number, iterations = TEXT_RANDOM_BASELINES, seed = TEXT_DRIFT_SEED): number {
  const n = positives + negatives;
  const rng = createRng(seed);
  const ranks = Int32Array.from({ length: n }, (_, i) => i + 1);
  const aucs = new Float64Array(iterations);
  // Draw the smaller class; the AUC of the other follows from the rank sum.
  const k = Math.min(positives, negatives);
  for (let it = 0; it < iterations; it++) {
    let sum = 0;
    for (let i = 0; i < k; i++) {
      const j = i + rng.int(n - i);
      const t = ranks[i];
      ranks[i] = ranks[j];
      ranks[j] = t;
      sum += ranks[i];
    }
    const u = sum - (k * (k + 1)) / 2;
    const auc = u / (positives * negatives);
    aucs[it] = k === positives ? auc : 1 - auc;
  }
  aucs.sort();
  return percentileLinear(aucs, q);
}

export interface TextDescriptorValues {
  /** Characters. */
  length: number[];
  /** Runs of word characters (of any length, stop words included). */
  words: number[];
  /** Percent of the characters that are neither letters nor whitespace. */
  non_letter_percent: number[];
}

export const TEXT_DESCRIPTORS = ["length", "words", "non_letter_percent"] as const;
export type TextDescriptorName = (typeof TEXT_DESCRIPTORS)[number];

/** Per-row text descriptors, numeric columns a report can test for drift like any other. */
export function textDescriptors(texts: readonly string[]): TextDescriptorValues {
  const out: TextDescriptorValues = { length: [], words: [], non_letter_percent: [] };
  for (const s of texts) {
    const chars = [...s];
    let other = 0;
    for (const c of chars) if (!/[\p{L}\s]/u.test(c)) other++;
    out.length.push(chars.length);
    out.words.push((s.match(/[\p{L}\p{N}_]+/gu) ?? []).length);
    // An empty text has no characters to count: its share is missing, not 0.
    out.non_letter_percent.push(chars.length ? (100 * other) / chars.length : NaN);
  }
  return out;
}

export interface TextDriftOptions {
  method?: TextStattestName;
  threshold?: number;
  seed?: number;
}

export interface TextDriftResult {
  method: TextStattestName;
  displayName: string;
  /** The domain classifier's ROC AUC on the held-out half. */
  score: number;
  threshold: number;
  drifted: boolean;
  /** What the AUC was compared with: the threshold itself, or the random classifiers' percentile. */
  cutoff: number;
  referenceRows: number;
  currentRows: number;
  /** Rows the classifier was trained on and scored on. */
  trainRows: number;
  testRows: number;
  vocabularySize: number;
  /** Words with the largest weights towards each side, strongest first. */
  words: { current: string[]; reference: string[] };
  /** Held-out rows the classifier found most typical of each side (truncated). */
  examples: { current: string[]; reference: string[] };
}

const truncate = (s: string): string => ([...s].length > TEXT_EXAMPLE_CHARS ? `${[...s].slice(0, TEXT_EXAMPLE_CHARS - 1).join("")}…` : s);

/** Text drift of two cleaned columns (see the module header). Throws DriftTestError where undefined. */
export function textDrift(reference: readonly string[], current: readonly string[], options: TextDriftOptions = {}): TextDriftResult {
  const method = options.method ?? "abs_text_content_drift";
  const spec = TEXT_STATTESTS[method];
  const threshold = options.threshold ?? spec.defaultThreshold;
  if (!Number.isFinite(threshold)) throw new DriftTestError("INVALID_THRESHOLD", `Threshold for ${method} must be a finite number.`);
  if (method === "perc_text_content_drift" && !(threshold >= 0 && threshold <= 1)) {
    throw new DriftTestError("INVALID_THRESHOLD", `Threshold for ${method} is a percentile level and must be within [0, 1].`);
  }
  const seed = options.seed ?? TEXT_DRIFT_SEED;
  const texts = [...reference, ...current];
  const labels = texts.map((_, i) => (i < reference.length ? -1 : 1));
  const n = texts.length;
  const order = Int32Array.from({ length: n }, (_, i) => i);
  const rng = createRng(seed);
  shuffleInPlace(order, rng);
  const nTest = Math.ceil(n / 2);
  const test = Array.from(order.subarray(0, nTest));
  const train = Array.from(order.subarray(nTest));
  const classes = (rows: number[]) => new Set(rows.map((i) => labels[i])).size;
  if (train.length === 0 || classes(train) < 2 || classes(test) < 2) {
    throw new DriftTestError(
      "TOO_FEW_ROWS",
      `Text drift needs reference and current rows in both halves of the split; ${reference.length} reference and ${current.length} current rows are too few.`,
    );
  }
  const tokens = texts.map(tokenize);
  const tfidf = fitTfIdf(train.map((i) => tokens[i]));
  const rows = new Map<number, SparseRow>();
  for (const i of [...train, ...test]) rows.set(i, tfidf.transform(tokens[i]));
  const model = trainSgd(
    train.map((i) => rows.get(i) as SparseRow),
    train.map((i) => labels[i]),
    tfidf.vocabulary.length,
    rng,
  );
  const proba = test.map((i) => probability(model, rows.get(i) as SparseRow));
  const isCurrent = test.map((i) => labels[i] === 1);
  const auc = rocAuc(proba, isCurrent);
  const positives = isCurrent.filter(Boolean).length;
  const cutoff = method === "abs_text_content_drift" ? threshold : randomAucPercentile(positives, test.length - positives, 100 * threshold, TEXT_RANDOM_BASELINES, seed);

  const ranked = (sign: 1 | -1) =>
    [...model.weights.keys()]
      .filter((f) => sign * model.weights[f] > 0)
      .sort((a, b) => sign * (model.weights[b] - model.weights[a]) || (tfidf.vocabulary[a] < tfidf.vocabulary[b] ? -1 : 1))
      .slice(0, TEXT_TOP_WORDS)
      .map((f) => tfidf.vocabulary[f]);
  const typical = (current: boolean) =>
    test
      .map((row, k) => ({ row, k, p: proba[k] }))
      .filter((r) => isCurrent[r.k] === current)
      .sort((a, b) => (current ? b.p - a.p : a.p - b.p) || a.row - b.row)
      .slice(0, TEXT_TOP_EXAMPLES)
      .map((r) => truncate(texts[r.row]));

  return {
    method,
    displayName: spec.displayName,
    score: auc,
    threshold,
    drifted: auc > cutoff,
    cutoff,
    referenceRows: reference.length,
    currentRows: current.length,
    trainRows: train.length,
    testRows: test.length,
    vocabularySize: tfidf.vocabulary.length,
    words: { current: ranked(1), reference: ranked(-1) },
    examples: { current: typical(true), reference: typical(false) },
  };
}
