/**
 * Parallel-coordinates layout: one vertical axis per dimension (params, then the chosen metric),
 * each numeric, logarithmic (positive values spanning three or more decades, such as learning rates)
 * or categorical, and every run as a polyline of positions in [0, 1] with gaps where it has no value.
 * Pure: the SVG component only maps these positions to pixels.
 */
import { formatNumber } from "./format";

export type AxisKind = "numeric" | "log" | "categorical";

export interface ParallelDimension {
  key: string;
  label: string;
}

export interface ParallelRun {
  id: string;
  label: string;
  color: string;
  /** Params arrive as strings; a dimension whose values all read as numbers is numeric. */
  values: Record<string, string | number | null | undefined>;
}

export interface ParallelAxis {
  key: string;
  label: string;
  kind: AxisKind;
  /** 0 is the bottom of the axis, 1 the top. */
  ticks: { label: string; pos: number }[];
}

export interface ParallelLine {
  id: string;
  label: string;
  color: string;
  /** One position per axis, null where the run has no value. */
  points: (number | null)[];
}

const asNumber = (v: string | number): number | null => {
  if (typeof v === "number") return Number.isFinite(v) ? v : null;
  const t = v.trim();
  if (t === "") return null;
  const n = Number(t);
  return Number.isFinite(n) ? n : null;
};

const present = (v: string | number | null | undefined): v is string | number => v != null && !(typeof v === "number" && Number.isNaN(v));

/** Round steps (1, 2 or 5 times a power of ten) giving about `count` intervals over the span. */
function niceStep(span: number, count: number): number {
  const raw = span / count;
  const magnitude = Math.pow(10, Math.floor(Math.log10(raw)));
  const norm = raw / magnitude;
  return (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * magnitude;
}

// Few distinct values (batch sizes, epochs, a handful of runs' metrics) are labelled as they are.
const MAX_LABELLED_VALUES = 6;

function numericAxis(dim: ParallelDimension, nums: number[]): { axis: ParallelAxis; pos: (n: number) => number } {
  const min = Math.min(...nums);
  const max = Math.max(...nums);
  if (min === max) return { axis: { ...dim, kind: "numeric", ticks: [{ label: formatNumber(min), pos: 0.5 }] }, pos: () => 0.5 };
  const log = min > 0 && max / min >= 1000;
  const t = log ? Math.log10 : (n: number) => n;
  const [lo, hi] = [t(min), t(max)];
  const pos = (n: number) => (t(n) - lo) / (hi - lo);
  const distinct = [...new Set(nums)].sort((a, b) => a - b);
  let values: number[];
  if (distinct.length <= MAX_LABELLED_VALUES) values = distinct;
  else if (log) {
    values = [];
    // Parsed, not Math.pow: 10 ** -4 is 0.00009999999999999999.
    for (let e = Math.ceil(lo); e <= Math.floor(hi); e++) values.push(Number(`1e${e}`));
  } else {
    const step = niceStep(max - min, 4);
    values = [];
    // Multiples of the step, computed from integers so that 0.1 + 0.2 never shows as 0.30000000000000004.
    for (let k = Math.ceil(min / step); k * step <= max; k++) values.push(Number((k * step).toPrecision(12)));
  }
  const ticks = values.map((v) => ({ label: formatNumber(v), pos: pos(v) }));
  return { axis: { ...dim, kind: log ? "log" : "numeric", ticks }, pos };
}

function categoricalAxis(dim: ParallelDimension, values: string[]): { axis: ParallelAxis; pos: (v: string) => number } {
  const categories = [...new Set(values)].sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
  const at = new Map(categories.map((c, i) => [c, categories.length === 1 ? 0.5 : i / (categories.length - 1)]));
  return { axis: { ...dim, kind: "categorical", ticks: categories.map((c) => ({ label: c, pos: at.get(c)! })) }, pos: (v) => at.get(v)! };
}

export function layoutParallel(dimensions: readonly ParallelDimension[], runs: readonly ParallelRun[]): { axes: ParallelAxis[]; lines: ParallelLine[] } {
  const columns = dimensions.map((dim) => {
    const values = runs.map((r) => r.values[dim.key]).filter(present);
    const nums = values.map(asNumber);
    if (values.length > 0 && nums.every((n) => n != null)) {
      const { axis, pos } = numericAxis(dim, nums as number[]);
      return { axis, place: (v: string | number) => pos(asNumber(v)!) };
    }
    const { axis, pos } = categoricalAxis(dim, values.map(String));
    return { axis, place: (v: string | number) => pos(String(v)) };
  });
  const lines = runs.map((r) => ({
    id: r.id,
    label: r.label,
    color: r.color,
    points: columns.map((c, i) => {
      const v = r.values[dimensions[i].key];
      return present(v) ? c.place(v) : null;
    }),
  }));
  return { axes: columns.map((c) => c.axis), lines };
}
