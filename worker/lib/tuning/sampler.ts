/**
 * The sampler port: what a study (the StudyObject Durable Object) asks of any sampler, and the registry
 * that turns a study's JSON sampler config into one. Samplers are stateless between calls: everything
 * they know comes in the context (the study's trials, its directions and the persisted random stream),
 * and anything a sampler must remember about a trial it returns as system attributes, which the study
 * stores on that trial and hands back next time (as Optuna's samplers keep state in trial system_attrs).
 * Pure: no runtime imports.
 */
import { type Distribution, type ParamValue, type StudyDirection, parseDistribution } from "./distributions";
import type { Rng } from "./random";
import { sampleRandom } from "./random";
import {
  type RelativeSample,
  type TpeOptions,
  type TrialRecord,
  defaultGamma,
  hyperoptGamma,
  sampleSearchSpace,
  sampleTpeParam,
  sampleTpeRelativeAtStart,
  tpeMemo,
} from "./tpe";

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** A trial as a sampler sees it. `value` is the first objective for single-objective samplers. */
export interface StudyTrial extends TrialRecord {
  /** All objective values of a COMPLETE trial, one per study direction. */
  values?: readonly number[] | null;
  /** Constraint values (feasible when every value ≤ 0), as Optuna's constraints_func returns them. */
  constraints?: readonly number[] | null;
  /** What samplers stored on this trial earlier. */
  systemAttrs?: Readonly<Record<string, JsonValue>>;
}

export interface SamplerContext {
  /** Every trial of the study, in trial-number order (the one being sampled included, as RUNNING). */
  trials: readonly StudyTrial[];
  directions: readonly StudyDirection[];
  /** The study's persisted random stream; samplers draw from it and the study saves its state after. */
  rng: Rng;
  /** Number of the trial being sampled. */
  trialNumber: number;
  studyName: string;
}

export interface SampleResult {
  params: Record<string, ParamValue>;
  /** Merged into the trial's system attributes by the study. */
  systemAttrs?: Record<string, JsonValue>;
}

export interface Sampler {
  readonly type: string;
  /** Sample every parameter of `space` for a new trial (ask with a search space: one round trip). */
  sampleSearchSpace(ctx: SamplerContext, space: Readonly<Record<string, Distribution>>): SampleResult;
  /** Define-by-run: sample one more parameter for a running trial. */
  sampleOne(ctx: SamplerContext, name: string, distribution: Distribution): { value: ParamValue; systemAttrs?: Record<string, JsonValue> };
}

export class SamplerConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SamplerConfigError";
  }
}

/** A sampler factory: validates its options (throwing SamplerConfigError) and builds the sampler. */
export type SamplerFactory = (options: Readonly<Record<string, unknown>>, directions: readonly StudyDirection[]) => Sampler;

const factories = new Map<string, SamplerFactory>();

/** Samplers register themselves by type name ("random", "tpe", "grid", "cmaes", ...). */
export function registerSampler(type: string, factory: SamplerFactory): void {
  factories.set(type, factory);
}

export function samplerTypes(): string[] {
  return [...factories.keys()].sort();
}

/**
 * Build the sampler for a study's config `{type, seed?, ...options}`. The seed is the study's business
 * (it seeds the persisted Rng), so it is not passed to the factory.
 */
export function createSampler(config: unknown, directions: readonly StudyDirection[]): Sampler {
  if (typeof config !== "object" || config === null || Array.isArray(config)) {
    throw new SamplerConfigError("sampler must be an object like {\"type\": \"tpe\"}");
  }
  const { type, seed, ...options } = config as Record<string, unknown>;
  if (typeof type !== "string") throw new SamplerConfigError("sampler.type must be a string");
  const factory = factories.get(type);
  if (!factory) throw new SamplerConfigError(`Unknown sampler type '${type}'; known: ${samplerTypes().join(", ")}`);
  if (seed !== undefined && !(typeof seed === "number" && Number.isInteger(seed))) {
    throw new SamplerConfigError("sampler.seed must be an integer");
  }
  return factory(options, directions);
}

function onlyKeys(options: Readonly<Record<string, unknown>>, allowed: readonly string[], type: string): void {
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) throw new SamplerConfigError(`Unknown option '${key}' for the ${type} sampler`);
  }
}

registerSampler("random", (options) => {
  onlyKeys(options, [], "random");
  return {
    type: "random",
    sampleSearchSpace(ctx, space) {
      const params: Record<string, ParamValue> = {};
      for (const [name, d] of Object.entries(space)) params[name] = sampleRandom(d, ctx.rng);
      return { params };
    },
    sampleOne(ctx, _name, distribution) {
      return { value: sampleRandom(distribution, ctx.rng) };
    },
  };
});

const TPE_OPTIONS = [
  "n_startup_trials",
  "n_ei_candidates",
  "prior_weight",
  "consider_magic_clip",
  "consider_endpoints",
  "multivariate",
  "constant_liar",
  "gamma",
  "group",
] as const;

function parseTpeOptions(options: Readonly<Record<string, unknown>>): Partial<TpeOptions> {
  onlyKeys(options, TPE_OPTIONS, "tpe");
  const out: Partial<TpeOptions> = {};
  const int = (key: string, min: number): number | undefined => {
    const v = options[key];
    if (v === undefined) return undefined;
    if (typeof v !== "number" || !Number.isInteger(v) || v < min) {
      throw new SamplerConfigError(`sampler.${key} must be an integer ≥ ${min}`);
    }
    return v;
  };
  const bool = (key: string): boolean | undefined => {
    const v = options[key];
    if (v === undefined) return undefined;
    if (typeof v !== "boolean") throw new SamplerConfigError(`sampler.${key} must be a boolean`);
    return v;
  };
  const nStartup = int("n_startup_trials", 0);
  if (nStartup !== undefined) out.nStartupTrials = nStartup;
  const nEi = int("n_ei_candidates", 1);
  if (nEi !== undefined) out.nEiCandidates = nEi;
  const prior = options.prior_weight;
  if (prior !== undefined) {
    if (typeof prior !== "number" || !(prior >= 0)) throw new SamplerConfigError("sampler.prior_weight must be a number ≥ 0");
    out.priorWeight = prior;
  }
  for (const [key, field] of [
    ["consider_magic_clip", "considerMagicClip"],
    ["consider_endpoints", "considerEndpoints"],
    ["multivariate", "multivariate"],
    ["constant_liar", "constantLiar"],
    ["group", "group"],
  ] as const) {
    const v = bool(key);
    if (v !== undefined) out[field] = v;
  }
  if (options.gamma !== undefined) {
    if (options.gamma === "default") out.gamma = defaultGamma;
    else if (options.gamma === "hyperopt") out.gamma = hyperoptGamma;
    else throw new SamplerConfigError("sampler.gamma must be \"default\" or \"hyperopt\"");
  }
  if (out.group && !out.multivariate) throw new SamplerConfigError("sampler.group requires sampler.multivariate = true");
  return out;
}

/** The trial being sampled, as the study passed it in. */
export function currentTrial(ctx: SamplerContext): StudyTrial | undefined {
  return ctx.trials.find((t) => t.number === ctx.trialNumber);
}

/** System attrs under which a sampler keeps the joint ("relative") sample drawn when a trial started. */
export const RELATIVE_PARAMS_ATTR = "relative_params";
export const RELATIVE_SPACE_ATTR = "relative_search_space";

export function relativeAttrs(relative: RelativeSample): Record<string, JsonValue> {
  if (Object.keys(relative.params).length === 0) return {};
  return {
    [RELATIVE_PARAMS_ATTR]: { ...relative.params },
    [RELATIVE_SPACE_ATTR]: JSON.parse(JSON.stringify(relative.space)) as JsonValue,
  };
}

/** The relative sample stored on the trial being sampled (empty when there is none or it is unreadable). */
export function storedRelative(ctx: SamplerContext): RelativeSample {
  const attrs = currentTrial(ctx)?.systemAttrs ?? {};
  const params = attrs[RELATIVE_PARAMS_ATTR];
  const space = attrs[RELATIVE_SPACE_ATTR];
  const out: RelativeSample = { params: {}, space: {} };
  if (typeof params !== "object" || params === null || Array.isArray(params)) return out;
  if (typeof space !== "object" || space === null || Array.isArray(space)) return out;
  for (const [name, value] of Object.entries(params)) {
    try {
      out.space[name] = parseDistribution(space[name]).distribution;
      out.params[name] = value as ParamValue;
    } catch {
      // A stored entry that no longer parses is ignored: the parameter is sampled independently.
    }
  }
  return out;
}

registerSampler("tpe", (options, directions) => {
  const tpeOptions = parseTpeOptions(options);
  if (directions.length === 0) throw new SamplerConfigError("The tpe sampler needs at least one direction");
  const input = (ctx: SamplerContext) => ({
    trials: ctx.trials,
    direction: directions,
    options: tpeOptions,
    rng: ctx.rng,
    trialNumber: ctx.trialNumber,
  });
  return {
    type: "tpe",
    sampleSearchSpace(ctx, space) {
      // The joint sample is drawn once, when the trial starts, and kept on it for define-by-run suggestions.
      // One memo for the whole call: every parameter of this trial shares the same good/bad split.
      const base = { ...input(ctx), memo: tpeMemo() };
      const existing = storedRelative(ctx);
      const relative = Object.keys(existing.params).length > 0 ? existing : sampleTpeRelativeAtStart(base);
      const params = sampleSearchSpace({ ...base, searchSpace: space, relative });
      const systemAttrs = relative === existing ? {} : relativeAttrs(relative);
      return Object.keys(systemAttrs).length > 0 ? { params, systemAttrs } : { params };
    },
    sampleOne(ctx, name, distribution) {
      return { value: sampleTpeParam({ ...input(ctx), paramName: name, distribution, relative: storedRelative(ctx) }) };
    },
  };
});
