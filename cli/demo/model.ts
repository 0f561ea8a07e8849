/**
 * The demo's market model, pure (no I/O): daily S&P 500 bars and monthly tech-stock prices in, feature
 * rows out (only data known at each day's close), and an L2-regularised logistic regression trained by
 * full-batch gradient descent that predicts whether the next trading day closes higher. Small on
 * purpose: a few lines of honest arithmetic whose epochs can be tracked, tuned and pruned.
 */

export interface Bar {
  date: string; // YYYY-MM-DD
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
}

export interface FeatureRow {
  date: string;
  values: number[];
  /** 1 when the next trading day closed higher; null when that day is not known yet. */
  target: 0 | 1 | null;
}

/** Lagged daily log returns first, so `lags` can keep a prefix of them. */
export const FEATURES = ["ret_1", "ret_2", "ret_3", "ret_4", "ret_5", "mom_20", "vol_20", "range_1", "volume_ratio", "tech_mom"] as const;
const MAX_LAGS = 5;
const WINDOW = 20;

function splitCsv(text: string): string[][] {
  return text
    .split(/\r?\n/)
    .filter((l) => l.trim() !== "")
    .map((l) => l.split(","));
}

/** sp500-2000.csv: date,open,high,low,close,adjclose,volume (daily, oldest first). */
export function parseDailyBars(text: string): Bar[] {
  const [header, ...rows] = splitCsv(text);
  const col = (name: string) => {
    const i = header.indexOf(name);
    if (i < 0) throw new Error(`daily bars: no column '${name}'`);
    return i;
  };
  const [d, o, h, l, c, v] = ["date", "open", "high", "low", "close", "volume"].map(col);
  return rows.map((r) => ({ date: r[d], open: Number(r[o]), high: Number(r[h]), low: Number(r[l]), close: Number(r[c]), volume: Number(r[v]) })).sort((a, b) => (a.date < b.date ? -1 : 1));
}

export function barsToCsv(bars: Bar[]): string {
  return `date,open,high,low,close,volume\n${bars.map((b) => `${b.date},${b.open},${b.high},${b.low},${b.close},${b.volume}`).join("\n")}\n`;
}

const MONTHS: Record<string, string> = { Jan: "01", Feb: "02", Mar: "03", Apr: "04", May: "05", Jun: "06", Jul: "07", Aug: "08", Sep: "09", Oct: "10", Nov: "11", Dec: "12" };

/**
 * stocks.csv (symbol,date,price; one price per month dated "Jan 1 2000") as the mean monthly log return
 * of the symbols over each month: month "YYYY-MM" → mean of log(price[month] / price[month before]).
 */
export function monthlyTechReturns(text: string): Map<string, number> {
  const [, ...rows] = splitCsv(text);
  const bySymbol = new Map<string, Map<string, number>>();
  for (const [symbol, date, price] of rows) {
    const [mon, , year] = date.split(" ");
    if (!MONTHS[mon]) throw new Error(`stocks: cannot read the date '${date}'`);
    const series = bySymbol.get(symbol) ?? new Map<string, number>();
    series.set(`${year}-${MONTHS[mon]}`, Number(price));
    bySymbol.set(symbol, series);
  }
  const sums = new Map<string, { sum: number; n: number }>();
  for (const series of bySymbol.values()) {
    for (const [month, price] of series) {
      const prev = series.get(shiftMonth(month, -1));
      if (prev === undefined || !(prev > 0) || !(price > 0)) continue;
      const s = sums.get(month) ?? { sum: 0, n: 0 };
      s.sum += Math.log(price / prev);
      s.n++;
      sums.set(month, s);
    }
  }
  return new Map([...sums].map(([m, s]) => [m, s.sum / s.n]));
}

/** "YYYY-MM" moved by n months. */
export function shiftMonth(month: string, n: number): string {
  const [y, m] = month.split("-").map(Number);
  const i = y * 12 + (m - 1) + n;
  return `${Math.floor(i / 12)}-${String((i % 12) + 1).padStart(2, "0")}`;
}

/**
 * Feature rows for the bars dated in [from, to] (inclusive, YYYY-MM-DD), each from data known at that
 * day's close: the last five daily log returns, 20-day momentum and volatility, the day's range, volume
 * against its 20-day mean, and the tech stocks' mean return of the month before last (so a monthly
 * price dated later in the month is never used early). The target is the next bar's direction when
 * that bar exists in `bars`.
 */
export function featureRows(bars: Bar[], tech: Map<string, number>, from: string, to: string): FeatureRow[] {
  const out: FeatureRow[] = [];
  const ret = (i: number) => Math.log(bars[i].close / bars[i - 1].close);
  for (let i = WINDOW + 1; i < bars.length; i++) {
    const b = bars[i];
    if (b.date < from || b.date > to) continue;
    const returns = Array.from({ length: WINDOW }, (_, k) => ret(i - k));
    const mean = returns.reduce((a, x) => a + x, 0) / WINDOW;
    const vol = Math.sqrt(returns.reduce((a, x) => a + (x - mean) ** 2, 0) / (WINDOW - 1));
    let volumeMean = 0;
    for (let k = 0; k < WINDOW; k++) volumeMean += bars[i - k].volume / WINDOW;
    const techMom = tech.get(shiftMonth(b.date.slice(0, 7), -1)) ?? 0;
    const values = [...returns.slice(0, MAX_LAGS), Math.log(b.close / bars[i - WINDOW].close), vol, (b.high - b.low) / b.close, b.volume / volumeMean, techMom];
    const next = bars[i + 1];
    out.push({ date: b.date, values, target: next ? (next.close > b.close ? 1 : 0) : null });
  }
  return out;
}

const round = (x: number) => Number(x.toPrecision(8));

export function featuresToCsv(rows: FeatureRow[], withTarget: boolean): string {
  const header = ["date", ...FEATURES, ...(withTarget ? ["target"] : [])].join(",");
  const lines = rows.map((r) => [r.date, ...r.values.map(round), ...(withTarget ? [r.target ?? ""] : [])].join(","));
  return `${header}\n${lines.join("\n")}\n`;
}

export function parseFeaturesCsv(text: string): FeatureRow[] {
  const [header, ...rows] = splitCsv(text);
  const idx = FEATURES.map((f) => header.indexOf(f));
  if (idx.some((i) => i < 0)) throw new Error(`features: expected the columns ${FEATURES.join(", ")}`);
  const t = header.indexOf("target");
  return rows.map((r) => ({ date: r[0], values: idx.map((i) => Number(r[i])), target: t >= 0 && r[t] !== "" ? (Number(r[t]) === 1 ? 1 : 0) : null }));
}

export interface HyperParams {
  /** Gradient-descent step size. */
  lr: number;
  /** L2 penalty on the weights (not the bias). */
  l2: number;
  epochs: number;
  /** How many lagged returns to use (1-5); the other features are always used. */
  lags: number;
}

export interface Model {
  kind: "logistic_regression";
  features: string[];
  mean: number[];
  std: number[];
  weights: number[];
  bias: number;
  hyperparams: HyperParams;
}

/** Which feature columns a lag count keeps. */
export function featureIndices(lags: number): number[] {
  const keep: number[] = [];
  FEATURES.forEach((f, i) => {
    if (!f.startsWith("ret_") || Number(f.slice(4)) <= lags) keep.push(i);
  });
  return keep;
}

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

function standardized(model: Pick<Model, "mean" | "std">, x: number[]): number[] {
  return x.map((v, j) => (v - model.mean[j]) / model.std[j]);
}

export function predictProba(model: Model, rows: FeatureRow[]): number[] {
  const idx = model.features.map((f) => FEATURES.indexOf(f as (typeof FEATURES)[number]));
  return rows.map((r) => {
    const x = standardized(
      model,
      idx.map((i) => r.values[i]),
    );
    return sigmoid(model.bias + x.reduce((a, v, j) => a + v * model.weights[j], 0));
  });
}

export interface Scores {
  logloss: number;
  accuracy: number;
  n: number;
}

export function score(model: Model, rows: FeatureRow[]): Scores {
  const labelled = rows.filter((r) => r.target !== null);
  const p = predictProba(model, labelled);
  let loss = 0;
  let hits = 0;
  labelled.forEach((r, i) => {
    const q = Math.min(1 - 1e-12, Math.max(1e-12, p[i]));
    loss -= r.target === 1 ? Math.log(q) : Math.log(1 - q);
    if ((p[i] >= 0.5 ? 1 : 0) === r.target) hits++;
  });
  return { logloss: labelled.length ? loss / labelled.length : NaN, accuracy: labelled.length ? hits / labelled.length : NaN, n: labelled.length };
}

export interface EpochReport {
  epoch: number;
  train: Scores;
  validation: Scores | null;
}

/**
 * Trains on the labelled rows; `onEpoch` sees each epoch's train and validation scores and may return
 * false to stop early (a pruned trial). Feature scaling comes from the training rows only.
 */
export async function train(rows: FeatureRow[], validation: FeatureRow[], hp: HyperParams, onEpoch?: (r: EpochReport) => Promise<boolean | void> | boolean | void): Promise<Model> {
  const data = rows.filter((r) => r.target !== null);
  if (data.length < 10) throw new Error(`too few labelled rows to train on (${data.length})`);
  const idx = featureIndices(hp.lags);
  const xs = data.map((r) => idx.map((i) => r.values[i]));
  const d = idx.length;
  const mean = Array.from({ length: d }, (_, j) => xs.reduce((a, x) => a + x[j], 0) / xs.length);
  const std = Array.from({ length: d }, (_, j) => Math.sqrt(xs.reduce((a, x) => a + (x[j] - mean[j]) ** 2, 0) / xs.length) || 1);
  const model: Model = { kind: "logistic_regression", features: idx.map((i) => FEATURES[i]), mean, std, weights: new Array(d).fill(0), bias: 0, hyperparams: hp };
  const zs = xs.map((x) => standardized(model, x));
  const ys = data.map((r) => r.target as number);
  for (let epoch = 1; epoch <= hp.epochs; epoch++) {
    const grad = new Array(d).fill(0);
    let gradBias = 0;
    zs.forEach((z, n) => {
      const err = sigmoid(model.bias + z.reduce((a, v, j) => a + v * model.weights[j], 0)) - ys[n];
      for (let j = 0; j < d; j++) grad[j] += (err * z[j]) / zs.length;
      gradBias += err / zs.length;
    });
    for (let j = 0; j < d; j++) model.weights[j] -= hp.lr * (grad[j] + hp.l2 * model.weights[j]);
    model.bias -= hp.lr * gradBias;
    if (onEpoch && (await onEpoch({ epoch, train: score(model, data), validation: validation.length ? score(model, validation) : null })) === false) break;
  }
  return model;
}

/** Time-ordered split: the last `share` of the labelled rows validate, the rest train. */
export function timeSplit(rows: FeatureRow[], share: number): { train: FeatureRow[]; validation: FeatureRow[] } {
  const labelled = rows.filter((r) => r.target !== null);
  const cut = Math.max(1, Math.floor(labelled.length * (1 - share)));
  return { train: labelled.slice(0, cut), validation: labelled.slice(cut) };
}
