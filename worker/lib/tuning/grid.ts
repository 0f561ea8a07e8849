/**
 * The grid sampler, with Optuna's GridSampler semantics: the grid is the Cartesian product of the listed
 * values (parameters in name order, values in the given order); every trial is assigned one grid point,
 * picked uniformly at random among the points no trial has taken yet. A point is taken by a finished
 * (COMPLETE, PRUNED, FAIL) or RUNNING trial; once every point has been started, the points whose trials
 * have not finished are picked again (so the grid gets fully evaluated), and once every point has finished,
 * any point is picked at random and the trial is marked as exhausting the grid. The chosen point is kept in
 * the trial's system attributes (`grid_id`, `search_space`) so define-by-run suggestions read the same
 * point; trials without a `grid_id` (e.g. enqueued ones) count by their params. Asking for a parameter the
 * grid does not list, or a grid value outside the requested distribution, is an error.
 * Registers "grid". Pure: no runtime imports.
 */
import { type CategoricalChoice, type Distribution, type ParamValue, contains } from "./distributions";
import {
  type JsonValue,
  type SamplerContext,
  SamplerConfigError,
  type StudyTrial,
  registerSampler,
} from "./sampler";

export const GRID_ID_ATTR = "grid_id";
export const GRID_SEARCH_SPACE_ATTR = "search_space";
/** Set (true) on a trial sampled after every grid point had finished. */
export const GRID_EXHAUSTED_ATTR = "grid_exhausted";

export type GridSearchSpace = Readonly<Record<string, readonly CategoricalChoice[]>>;

function isChoice(v: unknown): v is CategoricalChoice {
  return v === null || typeof v === "boolean" || typeof v === "string" || (typeof v === "number" && Number.isFinite(v));
}

export function parseGridOptions(options: Readonly<Record<string, unknown>>): GridSearchSpace {
  for (const key of Object.keys(options)) {
    if (key !== "search_space") throw new SamplerConfigError(`Unknown option '${key}' for the grid sampler`);
  }
  const raw = options.search_space;
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new SamplerConfigError("sampler.search_space must be an object {name: [values...]} for the grid sampler");
  }
  const out: Record<string, CategoricalChoice[]> = {};
  for (const name of Object.keys(raw).sort()) {
    const values = (raw as Record<string, unknown>)[name];
    if (!Array.isArray(values) || values.length === 0) {
      throw new SamplerConfigError(`sampler.search_space.${name} must be a non-empty array of values`);
    }
    values.forEach((v, i) => {
      if (!isChoice(v)) {
        throw new SamplerConfigError(`sampler.search_space.${name}[${i}] must be null, a boolean, a finite number or a string`);
      }
    });
    out[name] = [...(values as CategoricalChoice[])];
  }
  if (Object.keys(out).length === 0) throw new SamplerConfigError("sampler.search_space must list at least one parameter");
  return out;
}

/** The grid as an indexable product: point id → params (last name varies fastest, like itertools.product). */
export class Grid {
  readonly names: string[];
  readonly size: number;

  constructor(readonly space: GridSearchSpace) {
    this.names = Object.keys(space).sort();
    this.size = this.names.reduce((n, name) => n * space[name].length, 1);
  }

  point(id: number): Record<string, CategoricalChoice> {
    const out: Record<string, CategoricalChoice> = {};
    let rest = id;
    for (let k = this.names.length - 1; k >= 0; k--) {
      const values = this.space[this.names[k]];
      out[this.names[k]] = values[rest % values.length];
      rest = Math.floor(rest / values.length);
    }
    return out;
  }

  /** The id of the point with exactly these params for the grid's names, or −1. */
  idOf(params: Readonly<Record<string, ParamValue>>): number {
    let id = 0;
    for (const name of this.names) {
      if (!Object.prototype.hasOwnProperty.call(params, name)) return -1;
      const idx = this.space[name].findIndex((v) => v === params[name]);
      if (idx < 0) return -1;
      id = id * this.space[name].length + idx;
    }
    return id;
  }

  sameSpace(stored: JsonValue | undefined): boolean {
    if (typeof stored !== "object" || stored === null || Array.isArray(stored)) return false;
    const keys = Object.keys(stored).sort();
    if (keys.length !== this.names.length || keys.some((k, i) => k !== this.names[i])) return false;
    return keys.every((k) => {
      const a = (stored as Record<string, JsonValue>)[k];
      const b = this.space[k];
      return Array.isArray(a) && a.length === b.length && a.every((v, i) => v === b[i]);
    });
  }

  /** The grid point a trial holds: its stored grid_id for this grid, else the point its params match. */
  trialPoint(t: StudyTrial): number {
    const attrs = t.systemAttrs ?? {};
    const stored = attrs[GRID_ID_ATTR];
    if (typeof stored === "number" && Number.isInteger(stored) && stored >= 0 && stored < this.size) {
      if (this.sameSpace(attrs[GRID_SEARCH_SPACE_ATTR])) return stored;
    }
    return this.idOf(t.params);
  }
}

/** Points to pick from for a new trial, and whether every point has already finished. */
export function gridCandidates(grid: Grid, trials: readonly StudyTrial[], exclude?: number): { ids: number[]; exhausted: boolean } {
  const finished = new Set<number>();
  const running = new Set<number>();
  for (const t of trials) {
    if (t.number === exclude) continue;
    const id = grid.trialPoint(t);
    if (id < 0) continue;
    if (t.state === "COMPLETE" || t.state === "PRUNED" || t.state === "FAIL") finished.add(id);
    else if (t.state === "RUNNING") running.add(id);
  }
  const all = Array.from({ length: grid.size }, (_, i) => i);
  let ids = all.filter((i) => !finished.has(i) && !running.has(i));
  if (ids.length === 0) ids = all.filter((i) => !finished.has(i));
  if (ids.length === 0) return { ids: all, exhausted: true };
  return { ids, exhausted: false };
}

function spaceAttr(grid: Grid): JsonValue {
  return Object.fromEntries(grid.names.map((n) => [n, [...grid.space[n]]]));
}

function valueFor(grid: Grid, id: number, name: string, d: Distribution): ParamValue {
  if (!grid.names.includes(name)) {
    throw new SamplerConfigError(`The parameter '${name}' is not in the grid sampler's search_space (${grid.names.join(", ")})`);
  }
  const value = grid.point(id)[name];
  if (!contains(d, value)) {
    throw new SamplerConfigError(`The grid value ${JSON.stringify(value)} of '${name}' is outside the requested distribution`);
  }
  return value;
}

function currentTrial(ctx: SamplerContext): StudyTrial | undefined {
  return ctx.trials.find((t) => t.number === ctx.trialNumber);
}

/** Pick the current trial's grid point (or reuse the one it already has) with the attrs to store. */
function assign(grid: Grid, ctx: SamplerContext): { id: number; systemAttrs?: Record<string, JsonValue> } {
  const current = currentTrial(ctx);
  let id = -1;
  if (current) {
    id = grid.trialPoint(current);
    if (id >= 0 && typeof (current.systemAttrs ?? {})[GRID_ID_ATTR] === "number") return { id };
  }
  // A trial whose params already name a grid point (an enqueued one) keeps that point.
  const { ids, exhausted } = gridCandidates(grid, ctx.trials, ctx.trialNumber);
  if (id < 0) id = ids[ctx.rng.int(ids.length)];
  const systemAttrs: Record<string, JsonValue> = { [GRID_ID_ATTR]: id, [GRID_SEARCH_SPACE_ATTR]: spaceAttr(grid) };
  if (exhausted) systemAttrs[GRID_EXHAUSTED_ATTR] = true;
  return { id, systemAttrs };
}

registerSampler("grid", (options) => {
  const grid = new Grid(parseGridOptions(options));
  return {
    type: "grid",
    sampleSearchSpace(ctx, space) {
      const { id, systemAttrs } = assign(grid, ctx);
      const params: Record<string, ParamValue> = {};
      for (const [name, d] of Object.entries(space)) params[name] = valueFor(grid, id, name, d);
      return systemAttrs ? { params, systemAttrs } : { params };
    },
    sampleOne(ctx, name, distribution) {
      const { id, systemAttrs } = assign(grid, ctx);
      const value = valueFor(grid, id, name, distribution);
      return systemAttrs ? { value, systemAttrs } : { value };
    },
  };
});
