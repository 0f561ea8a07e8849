/**
 * Search-space distributions of a tuning study, with Optuna's semantics: the JSON shape the API accepts,
 * validation (including Optuna's "shrink `high` onto the step grid and warn" rule), membership, the
 * internal representation samplers store (numbers; a categorical value is its choice index), and the
 * transformed space samplers work in (log for log-scaled params, bounds widened by half a step for
 * grid params so every grid point owns an equal-width cell).
 */

export type CategoricalChoice = null | boolean | number | string;

export interface FloatDistribution {
  type: "float";
  low: number;
  high: number;
  log: boolean;
  /** Grid spacing, or null for a continuous range. */
  step: number | null;
}

export interface IntDistribution {
  type: "int";
  low: number;
  high: number;
  log: boolean;
  step: number;
}

export interface CategoricalDistribution {
  type: "categorical";
  choices: CategoricalChoice[];
}

export type Distribution = FloatDistribution | IntDistribution | CategoricalDistribution;
export type NumericDistribution = FloatDistribution | IntDistribution;
export type ParamValue = CategoricalChoice;

export type TrialState = "RUNNING" | "COMPLETE" | "PRUNED" | "FAIL" | "WAITING";
export const TRIAL_STATES: readonly TrialState[] = ["RUNNING", "COMPLETE", "PRUNED", "FAIL", "WAITING"];
export type StudyDirection = "minimize" | "maximize";

export class DistributionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DistributionError";
  }
}

export interface ParsedDistribution {
  distribution: Distribution;
  /** Non-fatal adjustments, e.g. `high` moved down onto the step grid (Optuna warns in the same case). */
  warnings: string[];
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function finiteNumber(obj: Record<string, unknown>, key: string): number {
  const v = obj[key];
  if (typeof v !== "number" || !Number.isFinite(v)) {
    throw new DistributionError(`\`${key}\` must be a finite number, got ${JSON.stringify(v) ?? String(v)}.`);
  }
  return v;
}

function safeInteger(obj: Record<string, unknown>, key: string): number {
  const v = finiteNumber(obj, key);
  if (!Number.isSafeInteger(v)) throw new DistributionError(`\`${key}\` must be an integer for an int distribution, got ${v}.`);
  return v;
}

function optionalBoolean(obj: Record<string, unknown>, key: string): boolean {
  const v = obj[key];
  if (v === undefined || v === null) return false;
  if (typeof v !== "boolean") throw new DistributionError(`\`${key}\` must be a boolean, got ${JSON.stringify(v)}.`);
  return v;
}

/**
 * A float's exact decimal value as written by the shortest round-trip representation, as an integer
 * mantissa and a power-of-ten exponent. Optuna does the grid adjustment with Python's Decimal(str(x)),
 * i.e. on these shortest decimal strings, so 0.1-steps land exactly on 0.3 rather than 0.30000000000000004.
 */
function toDecimal(x: number): { m: bigint; e: number } {
  const s = String(x);
  const match = /^(-?)(\d+)(?:\.(\d+))?(?:e([+-]?\d+))?$/.exec(s);
  if (!match) throw new DistributionError(`Cannot represent ${s} as a decimal.`);
  const [, sign, int, frac = "", exp = "0"] = match;
  const m = BigInt(`${sign}${int}${frac}`);
  return { m, e: Number(exp) - frac.length };
}

function alignDecimals(...xs: { m: bigint; e: number }[]): { ms: bigint[]; e: number } {
  const e = Math.min(...xs.map((x) => x.e));
  return { ms: xs.map((x) => x.m * 10n ** BigInt(x.e - e)), e };
}

function fromDecimal(m: bigint, e: number): number {
  return Number(`${m}e${e}`);
}

/** Largest low + k·step ≤ high (k an integer), computed in exact decimal arithmetic. */
function adjustFloatHigh(low: number, high: number, step: number): number {
  const {
    ms: [l, h, s],
    e,
  } = alignDecimals(toDecimal(low), toDecimal(high), toDecimal(step));
  const r = h - l; // ≥ 0 because low ≤ high was checked first
  if (r % s === 0n) return high;
  return fromDecimal((r / s) * s + l, e);
}

function parseFloatDistribution(obj: Record<string, unknown>, warnings: string[]): FloatDistribution {
  const low = finiteNumber(obj, "low");
  let high = finiteNumber(obj, "high");
  const log = optionalBoolean(obj, "log");
  const rawStep = obj.step;
  let step: number | null = null;
  if (rawStep !== undefined && rawStep !== null) step = finiteNumber(obj, "step");
  if (log && step !== null) throw new DistributionError("`step` is not supported when `log` is true.");
  if (low > high) throw new DistributionError(`\`low <= high\` must hold, but got low=${low}, high=${high}.`);
  if (log && low <= 0) throw new DistributionError(`\`low > 0\` must hold for log=true, but got low=${low}, high=${high}.`);
  if (step !== null) {
    if (step <= 0) throw new DistributionError(`\`step > 0\` must hold, but got step=${step}.`);
    const adjusted = adjustFloatHigh(low, high, step);
    if (adjusted !== high) {
      warnings.push(
        `The range [${low}, ${high}] is not divisible by step=${step}; it was replaced with [${low}, ${adjusted}].`,
      );
      high = adjusted;
    }
  }
  return { type: "float", low, high, log, step };
}

function parseIntDistribution(obj: Record<string, unknown>, warnings: string[]): IntDistribution {
  const low = safeInteger(obj, "low");
  let high = safeInteger(obj, "high");
  const log = optionalBoolean(obj, "log");
  const step = obj.step === undefined || obj.step === null ? 1 : safeInteger(obj, "step");
  if (log && step !== 1) throw new DistributionError("`step` must be 1 when `log` is true.");
  if (low > high) throw new DistributionError(`\`low <= high\` must hold, but got low=${low}, high=${high}.`);
  if (log && low < 1) throw new DistributionError(`\`low >= 1\` must hold for log=true, but got low=${low}, high=${high}.`);
  if (step <= 0) throw new DistributionError(`\`step > 0\` must hold, but got step=${step}.`);
  const r = high - low;
  if (r % step !== 0) {
    const adjusted = Math.floor(r / step) * step + low;
    warnings.push(
      `The range [${low}, ${high}] is not divisible by step=${step}; it was replaced with [${low}, ${adjusted}].`,
    );
    high = adjusted;
  }
  return { type: "int", low, high, log, step };
}

function isChoice(v: unknown): v is CategoricalChoice {
  return (
    v === null ||
    typeof v === "boolean" ||
    typeof v === "string" ||
    (typeof v === "number" && Number.isFinite(v))
  );
}

function parseCategoricalDistribution(obj: Record<string, unknown>): CategoricalDistribution {
  const choices = obj.choices;
  if (!Array.isArray(choices)) throw new DistributionError("`choices` must be an array.");
  if (choices.length === 0) throw new DistributionError("`choices` must contain one or more elements.");
  choices.forEach((c, i) => {
    if (!isChoice(c)) {
      throw new DistributionError(
        `choices[${i}] must be null, a boolean, a finite number or a string, got ${JSON.stringify(c) ?? String(c)}.`,
      );
    }
  });
  return { type: "categorical", choices: [...choices] as CategoricalChoice[] };
}

/** Parse and validate a distribution from its JSON form; throws DistributionError on invalid input. */
export function parseDistribution(json: unknown): ParsedDistribution {
  if (!isRecord(json)) throw new DistributionError("A distribution must be a JSON object.");
  const warnings: string[] = [];
  const allowed: Record<string, string[]> = {
    float: ["type", "low", "high", "log", "step"],
    int: ["type", "low", "high", "log", "step"],
    categorical: ["type", "choices"],
  };
  const type = json.type;
  if (typeof type !== "string" || !(type in allowed)) {
    throw new DistributionError(`\`type\` must be one of "float", "int", "categorical", got ${JSON.stringify(type)}.`);
  }
  const unknown = Object.keys(json).filter((k) => !allowed[type].includes(k));
  if (unknown.length > 0) throw new DistributionError(`Unknown field(s) for a ${type} distribution: ${unknown.join(", ")}.`);
  let distribution: Distribution;
  if (type === "float") distribution = parseFloatDistribution(json, warnings);
  else if (type === "int") distribution = parseIntDistribution(json, warnings);
  else distribution = parseCategoricalDistribution(json);
  return { distribution, warnings };
}

/** The canonical JSON form (defaults written out), which parseDistribution reads back unchanged. */
export function distributionToJson(d: Distribution): Record<string, unknown> {
  if (d.type === "categorical") return { type: "categorical", choices: [...d.choices] };
  return { type: d.type, low: d.low, high: d.high, log: d.log, step: d.step };
}

/** A distribution with a single possible value (Optuna's `single()`); samplers skip these. */
export function isSingle(d: Distribution): boolean {
  if (d.type === "categorical") return d.choices.length === 1;
  return d.low === d.high;
}

/** The one value of a single distribution. */
export function singleValue(d: Distribution): ParamValue {
  return d.type === "categorical" ? d.choices[0] : d.low;
}

/** Index of a categorical value by strict equality (so `true` and `1` stay distinct), or −1. */
export function choiceIndex(d: CategoricalDistribution, value: unknown): number {
  return d.choices.findIndex((c) => c === value);
}

/** Whether an external (user-facing) value belongs to the distribution. */
export function contains(d: Distribution, value: unknown): boolean {
  if (d.type === "categorical") return choiceIndex(d, value) >= 0;
  if (typeof value !== "number" || Number.isNaN(value)) return false;
  if (value < d.low || value > d.high) return false;
  if (d.type === "int") return Number.isInteger(value) && (value - d.low) % d.step === 0;
  if (d.step === null) return true;
  // Grid values are sums of floats, so membership allows the same 1e-8 slack in step units as Optuna.
  const k = (value - d.low) / d.step;
  return Math.abs(k - Math.round(k)) < 1e-8;
}

/** External value -> internal representation (numbers as numbers, categorical as choice index). */
export function toInternal(d: Distribution, value: unknown): number {
  if (d.type === "categorical") {
    const i = choiceIndex(d, value);
    if (i < 0) throw new DistributionError(`${JSON.stringify(value)} is not one of the choices ${JSON.stringify(d.choices)}.`);
    return i;
  }
  if (typeof value !== "number" || Number.isNaN(value)) {
    throw new DistributionError(`${JSON.stringify(value)} is not a valid value for a ${d.type} distribution.`);
  }
  if (d.log && value <= 0) throw new DistributionError(`${value} is not a valid value for a log distribution.`);
  return value;
}

/** Internal representation -> external value. */
export function toExternal(d: Distribution, internal: number): ParamValue {
  if (d.type === "categorical") {
    const i = Math.trunc(internal);
    if (!(i >= 0 && i < d.choices.length)) throw new DistributionError(`Choice index ${internal} is out of range.`);
    return d.choices[i];
  }
  return d.type === "int" ? Math.trunc(internal) : internal;
}

/**
 * Bounds of a numeric distribution in the sampler's transformed space: [ln low, ln high] for log floats,
 * [low − step/2, high + step/2] for grid params, [ln(low − ½), ln(high + ½)] for log ints.
 */
export function transformedBounds(d: NumericDistribution): { low: number; high: number } {
  const half = d.step === null ? 0 : d.step / 2;
  const low = d.low - half;
  const high = d.high + half;
  return d.log ? { low: Math.log(low), high: Math.log(high) } : { low, high };
}

/** Internal numeric value -> transformed space. */
export function toTransformed(d: NumericDistribution, internal: number): number {
  return d.log ? Math.log(internal) : internal;
}

/** Round half to even, as numpy's round does; exact halves only matter on grid cell borders. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Snap a value in the original space onto the grid of a stepped distribution and clip it into range. */
export function snapToGrid(d: NumericDistribution, value: number): number {
  const step = d.step as number;
  const snapped = d.low + roundHalfEven((value - d.low) / step) * step;
  return Math.min(d.high, Math.max(d.low, snapped));
}

function nextDown(x: number): number {
  if (x === 0) return -Number.MIN_VALUE;
  const buf = new DataView(new ArrayBuffer(8));
  buf.setFloat64(0, x);
  const bits = buf.getBigUint64(0);
  buf.setBigUint64(0, x > 0 ? bits - 1n : bits + 1n);
  return buf.getFloat64(0);
}

/**
 * Transformed-space value -> internal value: exp for log params, then snap to the grid for stepped and int
 * params; a continuous float stays strictly below `high` (Optuna's random sampler draws from [low, high)).
 */
export function fromTransformed(d: NumericDistribution, x: number): number {
  if (isSingle(d)) return d.low;
  const v = d.log ? Math.exp(x) : x;
  if (d.type === "int") {
    return d.log ? Math.min(d.high, Math.max(d.low, roundHalfEven(v))) : snapToGrid(d, v);
  }
  if (d.step !== null) return snapToGrid(d, v);
  return Math.max(d.low, Math.min(v, nextDown(d.high)));
}

/**
 * Whether a parameter may be re-suggested with `next` after `previous` (Optuna's compatibility rule):
 * same kind, same log flag, and for categoricals the same choices in the same order.
 */
export function compatible(previous: Distribution, next: Distribution): boolean {
  if (previous.type !== next.type) return false;
  if (previous.type === "categorical" && next.type === "categorical") {
    return previous.choices.length === next.choices.length && previous.choices.every((c, i) => c === next.choices[i]);
  }
  return (previous as NumericDistribution).log === (next as NumericDistribution).log;
}

/** Structural equality (used to intersect the search spaces of past trials). */
export function distributionsEqual(a: Distribution, b: Distribution): boolean {
  if (a.type === "categorical" || b.type === "categorical") return compatible(a, b);
  return a.type === b.type && a.low === b.low && a.high === b.high && a.log === b.log && a.step === b.step;
}
