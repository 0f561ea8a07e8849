/**
 * Metric histories → chart data: the x axis (step, time since the first point, or wall time),
 * one value per x, several runs aligned on one x axis, the EMA-smoothed line over the faded raw one,
 * and what a logarithmic y axis cannot draw. Pure, so the charts and the unit tests share it.
 */
import { emaSmooth } from "./smoothing";

export type XAxisMode = "step" | "relative" | "wall";

export const X_AXIS_MODES: readonly { value: XAxisMode; label: string }[] = [
  { value: "step", label: "Step" },
  { value: "relative", label: "Relative time" },
  { value: "wall", label: "Wall time" },
];

export interface MetricPoint {
  key: string;
  value: number;
  timestamp: number;
  step: number;
}

export interface XYSeries {
  x: number[];
  y: (number | null)[];
}

/** Protobuf JSON writes non-finite doubles as strings. */
export function parseMetricValue(value: number | string): number {
  if (typeof value === "number") return value;
  if (value === "Infinity") return Infinity;
  if (value === "-Infinity") return -Infinity;
  return Number.NaN;
}

/**
 * One series per metric history. Wall and relative time are in seconds (uPlot's time unit); relative
 * time counts from the history's first point. Points sharing an x keep the one logged last, as a
 * metric's latest value does; non-finite values become gaps because no axis can place them.
 */
export function toXY(points: readonly MetricPoint[], mode: XAxisMode): XYSeries {
  if (points.length === 0) return { x: [], y: [] };
  const origin = mode === "relative" ? points.reduce((min, p) => Math.min(min, p.timestamp), Infinity) : 0;
  const xOf = (p: MetricPoint) => (mode === "step" ? p.step : (p.timestamp - origin) / 1000);
  const ordered = points.map((p, i) => ({ p, i, x: xOf(p) })).sort((a, b) => a.x - b.x || a.p.timestamp - b.p.timestamp || a.i - b.i);
  const x: number[] = [];
  const y: (number | null)[] = [];
  for (const { p, x: px } of ordered) {
    const value = Number.isFinite(p.value) ? p.value : null;
    if (x.length > 0 && x[x.length - 1] === px) y[y.length - 1] = value;
    else {
      x.push(px);
      y.push(value);
    }
  }
  return { x, y };
}

/** Several series on the union of their x values, null where a series has no point. */
export function alignSeries(series: readonly XYSeries[]): { x: number[]; ys: (number | null)[][] } {
  const all = series.flatMap((s) => s.x).sort((a, b) => a - b);
  const x = all.filter((v, i) => i === 0 || v !== all[i - 1]);
  const ys = series.map((s) => {
    const out: (number | null)[] = new Array(x.length).fill(null);
    let j = 0;
    for (let i = 0; i < s.x.length; i++) {
      while (x[j] < s.x[i]) j++;
      out[j] = s.y[i];
    }
    return out;
  });
  return { x, ys };
}

/** A log axis has no place for zero or negative values: they become gaps. */
export function positiveOnly(ys: readonly (number | null)[]): (number | null)[] {
  return ys.map((v) => (v != null && v > 0 ? v : null));
}

export interface ChartLine {
  label: string;
  color: string;
  y: (number | null)[];
  /** The raw values drawn faint under their smoothed line. */
  faded: boolean;
}

export interface ChartData {
  x: number[];
  lines: ChartLine[];
}

export interface ChartInput {
  label: string;
  color: string;
  points: readonly MetricPoint[];
}

export interface ChartOptions {
  xMode: XAxisMode;
  smoothing: number;
  logY: boolean;
}

/** Every input becomes a line; with smoothing on, its raw values stay visible as a faint line beneath. */
export function buildChartData(inputs: readonly ChartInput[], options: ChartOptions): ChartData {
  const aligned = alignSeries(inputs.map((input) => toXY(input.points, options.xMode)));
  const scale = (ys: (number | null)[]) => (options.logY ? positiveOnly(ys) : ys);
  const lines: ChartLine[] = [];
  inputs.forEach((input, i) => {
    const raw = aligned.ys[i];
    if (options.smoothing > 0) {
      lines.push({ label: `${input.label} (raw)`, color: input.color, y: scale(raw), faded: true });
      lines.push({ label: input.label, color: input.color, y: scale(emaSmooth(raw, options.smoothing)), faded: false });
    } else {
      lines.push({ label: input.label, color: input.color, y: scale(raw), faded: false });
    }
  });
  return { x: aligned.x, lines };
}

/** The last drawable value of a line, for legends when the cursor is away. */
export function lastValue(ys: readonly (number | null)[]): number | null {
  for (let i = ys.length - 1; i >= 0; i--) {
    const v = ys[i];
    if (v != null) return v;
  }
  return null;
}
