/**
 * Pruner configuration: the JSON a study is created with, `{ "type": ..., ...options }`, using
 * Optuna's option names and defaults. `parsePrunerConfig` validates it once (Optuna's own constructor
 * checks plus type checks JSON needs) and returns a complete config the pruners trust.
 */
import type { HyperbandOptions } from "./hyperband";
import type { PatientOptions } from "./patient";
import type { PercentileOptions } from "./percentile";
import type { SuccessiveHalvingOptions } from "./successive-halving";
import type { ThresholdOptions } from "./threshold";
import type { WilcoxonOptions } from "./wilcoxon";

export type PrunerConfig =
  | { type: "nop" }
  | ({ type: "median" } & Omit<PercentileOptions, "percentile">)
  | ({ type: "percentile" } & PercentileOptions)
  | ({ type: "successive_halving" } & SuccessiveHalvingOptions)
  | ({ type: "hyperband" } & HyperbandOptions)
  | ({ type: "threshold" } & ThresholdOptions)
  | ({ type: "patient"; wrapped_pruner: PrunerConfig | null } & PatientOptions)
  | ({ type: "wilcoxon" } & WilcoxonOptions);

export type PrunerType = PrunerConfig["type"];

export class PrunerConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PrunerConfigError";
  }
}

/** Accepted spellings of each type: ours and Optuna's class name. */
const TYPE_ALIASES: Record<string, PrunerType> = {
  nop: "nop",
  NopPruner: "nop",
  median: "median",
  MedianPruner: "median",
  percentile: "percentile",
  PercentilePruner: "percentile",
  successive_halving: "successive_halving",
  SuccessiveHalvingPruner: "successive_halving",
  hyperband: "hyperband",
  HyperbandPruner: "hyperband",
  threshold: "threshold",
  ThresholdPruner: "threshold",
  patient: "patient",
  PatientPruner: "patient",
  wilcoxon: "wilcoxon",
  WilcoxonPruner: "wilcoxon",
};

const CLASS_NAMES: Record<PrunerType, string> = {
  nop: "NopPruner",
  median: "MedianPruner",
  percentile: "PercentilePruner",
  successive_halving: "SuccessiveHalvingPruner",
  hyperband: "HyperbandPruner",
  threshold: "ThresholdPruner",
  patient: "PatientPruner",
  wilcoxon: "WilcoxonPruner",
};

const ALLOWED_OPTIONS: Record<PrunerType, readonly string[]> = {
  nop: [],
  median: ["n_startup_trials", "n_warmup_steps", "interval_steps", "n_min_trials"],
  percentile: ["percentile", "n_startup_trials", "n_warmup_steps", "interval_steps", "n_min_trials"],
  successive_halving: ["min_resource", "reduction_factor", "min_early_stopping_rate", "bootstrap_count"],
  hyperband: ["min_resource", "max_resource", "reduction_factor", "bootstrap_count"],
  threshold: ["lower", "upper", "n_warmup_steps", "interval_steps"],
  patient: ["wrapped_pruner", "patience", "min_delta"],
  wilcoxon: ["p_threshold", "n_startup_steps"],
};

type Options = Record<string, unknown>;

class Reader {
  constructor(
    private readonly options: Options,
    private readonly where: string,
  ) {}

  private fail(message: string): never {
    throw new PrunerConfigError(`${this.where}: ${message}`);
  }

  integer(name: string, fallback: number, min: number): number {
    const v = this.options[name];
    if (v === undefined) return fallback;
    if (typeof v !== "number" || !Number.isInteger(v)) this.fail(`${name} must be an integer, got ${show(v)}`);
    if (v < min) this.fail(`${name} must be >= ${min}, got ${v}`);
    return v;
  }

  integerOrAuto(name: string, fallback: number | "auto", min: number): number | "auto" {
    const v = this.options[name];
    if (v === "auto") return "auto";
    if (v === undefined) return fallback;
    if (typeof v !== "number" || !Number.isInteger(v)) this.fail(`${name} must be an integer or "auto", got ${show(v)}`);
    if (v < min) this.fail(`${name} must be >= ${min} or "auto", got ${v}`);
    return v;
  }

  finite(name: string, fallback: number | null): number | null {
    const v = this.options[name];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== "number" || !Number.isFinite(v)) this.fail(`${name} must be a finite number, got ${show(v)}`);
    return v;
  }

  requiredFinite(name: string): number {
    if (this.options[name] === undefined) this.fail(`${name} is required`);
    return this.finite(name, null) as number;
  }
}

function show(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "number") return String(v);
  if (v === null) return "null";
  return Array.isArray(v) ? "an array" : typeof v;
}

function isPlainObject(v: unknown): v is Options {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function parseObject(input: unknown, where: string): PrunerConfig {
  if (!isPlainObject(input)) throw new PrunerConfigError(`${where}: a pruner config must be an object with a "type"`);
  const rawType = input.type;
  if (typeof rawType !== "string" || !Object.prototype.hasOwnProperty.call(TYPE_ALIASES, rawType)) {
    throw new PrunerConfigError(
      `${where}: unknown pruner type ${show(rawType)}; expected one of ${Object.keys(CLASS_NAMES).join(", ")} ` +
        `(or Optuna's class names ${Object.values(CLASS_NAMES).join(", ")})`,
    );
  }
  const type = TYPE_ALIASES[rawType];
  const here = `${where === "pruner" ? "" : `${where}: `}${CLASS_NAMES[type]}`;
  const allowed = ALLOWED_OPTIONS[type];
  for (const key of Object.keys(input)) {
    if (key !== "type" && !allowed.includes(key)) {
      throw new PrunerConfigError(
        `${here}: unknown option "${key}"; allowed: ${allowed.length ? allowed.join(", ") : "none"}`,
      );
    }
  }
  const r = new Reader(input, here);
  const fail = (message: string): never => {
    throw new PrunerConfigError(`${here}: ${message}`);
  };

  switch (type) {
    case "nop":
      return { type };
    case "median":
    case "percentile": {
      const common = {
        n_startup_trials: r.integer("n_startup_trials", 5, 0),
        n_warmup_steps: r.integer("n_warmup_steps", 0, 0),
        interval_steps: r.integer("interval_steps", 1, 1),
        n_min_trials: r.integer("n_min_trials", 1, 1),
      };
      if (type === "median") return { type, ...common };
      const percentile = r.requiredFinite("percentile");
      if (percentile < 0 || percentile > 100) fail(`percentile must be between 0 and 100 inclusive, got ${percentile}`);
      return { type, percentile, ...common };
    }
    case "successive_halving": {
      const config = {
        type,
        min_resource: r.integerOrAuto("min_resource", "auto", 1),
        reduction_factor: r.integer("reduction_factor", 4, 2),
        min_early_stopping_rate: r.integer("min_early_stopping_rate", 0, 0),
        bootstrap_count: r.integer("bootstrap_count", 0, 0),
      };
      if (config.bootstrap_count > 0 && config.min_resource === "auto") {
        fail(`bootstrap_count > 0 needs an integer min_resource, not "auto"`);
      }
      return config;
    }
    case "hyperband": {
      const config = {
        type,
        min_resource: r.integer("min_resource", 1, 1),
        max_resource: r.integerOrAuto("max_resource", "auto", 1),
        reduction_factor: r.integer("reduction_factor", 3, 2),
        bootstrap_count: r.integer("bootstrap_count", 0, 0),
      };
      if (config.bootstrap_count > 0 && config.max_resource === "auto") {
        fail(`bootstrap_count > 0 needs an integer max_resource, not "auto"`);
      }
      if (config.max_resource !== "auto" && config.max_resource < config.min_resource) {
        fail(`max_resource (${config.max_resource}) must be >= min_resource (${config.min_resource})`);
      }
      return config;
    }
    case "threshold": {
      const lower = r.finite("lower", null);
      const upper = r.finite("upper", null);
      if (lower === null && upper === null) fail("either lower or upper must be given");
      if (lower !== null && upper !== null && lower > upper) fail(`lower (${lower}) must be <= upper (${upper})`);
      return {
        type,
        lower,
        upper,
        n_warmup_steps: r.integer("n_warmup_steps", 0, 0),
        interval_steps: r.integer("interval_steps", 1, 1),
      };
    }
    case "patient": {
      if (input.patience === undefined) fail("patience is required");
      const patience = r.integer("patience", 0, 0);
      const minDelta = r.finite("min_delta", 0) as number;
      if (minDelta < 0) fail(`min_delta must be >= 0, got ${minDelta}`);
      if (!Object.prototype.hasOwnProperty.call(input, "wrapped_pruner")) {
        fail("wrapped_pruner is required (null to prune on stagnation alone)");
      }
      const wrapped = input.wrapped_pruner === null ? null : parseObject(input.wrapped_pruner, `${here}.wrapped_pruner`);
      return { type, wrapped_pruner: wrapped, patience, min_delta: minDelta };
    }
    case "wilcoxon": {
      const pThreshold = r.finite("p_threshold", 0.1) as number;
      if (pThreshold < 0 || pThreshold > 1) fail(`p_threshold must be between 0 and 1, got ${pThreshold}`);
      return { type, p_threshold: pThreshold, n_startup_steps: r.integer("n_startup_steps", 0, 0) };
    }
  }
}

/**
 * Validate a pruner config (an object, or its JSON text) and fill in Optuna's defaults.
 * Throws PrunerConfigError naming the pruner and the offending option.
 */
export function parsePrunerConfig(json: unknown): PrunerConfig {
  let input = json;
  if (typeof json === "string") {
    try {
      input = JSON.parse(json);
    } catch {
      throw new PrunerConfigError("pruner: the config is not valid JSON");
    }
  }
  return parseObject(input, "pruner");
}
