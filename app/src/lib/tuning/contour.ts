/**
 * The contour plot of two params: the objective interpolated over a grid spanning both params'
 * observed ranges, and the trials as points on top. Interpolation is inverse-distance weighting
 * (power 2) in a space where each axis is scaled to [0, 1] (log10 first for log params, choice index
 * for categorical ones), so both params weigh alike whatever their units; it passes through every
 * observed point exactly and needs no triangulation, so it works for any scatter of trials.
 */
import type { Trial } from "../api/tuning-types";
import { objectiveValue, paramAxis, type ParamAxis } from "./params";

export interface ContourPoint {
  x: number;
  y: number;
  value: number;
  number: number;
}

export interface ContourData {
  xAxis: ParamAxis;
  yAxis: ParamAxis;
  /** Grid coordinates in the params' own units (ascending). */
  xs: number[];
  ys: number[];
  /** z[j][i] is the surface at (xs[i], ys[j]). */
  z: number[][];
  points: ContourPoint[];
  min: number;
  max: number;
}

const POWER = 2;

function gridAlong(axis: ParamAxis, coords: number[], resolution: number): number[] {
  if (axis.kind === "categorical") {
    // One column per choice between the lowest and highest one tried.
    const lo = Math.min(...coords);
    const hi = Math.max(...coords);
    return Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);
  }
  const t = axis.log ? Math.log10 : (v: number) => v;
  const inv = axis.log ? (v: number) => 10 ** v : (v: number) => v;
  const lo = t(Math.min(...coords));
  const hi = t(Math.max(...coords));
  if (lo === hi) return [inv(lo)];
  return Array.from({ length: resolution }, (_, i) => inv(lo + ((hi - lo) * i) / (resolution - 1)));
}

/** Maps an axis coordinate into [0, 1] over the observed span (0.5 when the span is a single value). */
function normaliser(axis: ParamAxis, coords: number[]): (v: number) => number {
  const t = axis.log ? Math.log10 : (v: number) => v;
  const lo = t(Math.min(...coords));
  const hi = t(Math.max(...coords));
  return hi === lo ? () => 0.5 : (v) => (t(v) - lo) / (hi - lo);
}

/** Inverse-distance-weighted value at (u, v) in normalised space; exact (averaged) at observed points. */
export function interpolateIdw(samples: readonly { u: number; v: number; value: number }[], u: number, v: number): number {
  let num = 0;
  let den = 0;
  let exactSum = 0;
  let exactCount = 0;
  for (const s of samples) {
    const d2 = (s.u - u) ** 2 + (s.v - v) ** 2;
    if (d2 < 1e-24) {
      exactSum += s.value;
      exactCount++;
      continue;
    }
    const w = 1 / d2 ** (POWER / 2);
    num += w * s.value;
    den += w;
  }
  return exactCount > 0 ? exactSum / exactCount : num / den;
}

/** The contour of `xName` × `yName`, or null when fewer than two COMPLETE trials have both params. */
export function contourGrid(trials: readonly Trial[], xName: string, yName: string, objective = 0, resolution = 40): ContourData | null {
  const xAxis = paramAxis(trials, xName);
  const yAxis = paramAxis(trials, yName);
  const points: ContourPoint[] = [];
  for (const t of trials) {
    const value = objectiveValue(t, objective);
    const x = xAxis.coord(t.params[xName]);
    const y = yAxis.coord(t.params[yName]);
    if (value != null && x != null && y != null) points.push({ x, y, value, number: t.number });
  }
  if (points.length < 2) return null;
  const xc = points.map((p) => p.x);
  const yc = points.map((p) => p.y);
  const nx = normaliser(xAxis, xc);
  const ny = normaliser(yAxis, yc);
  const samples = points.map((p) => ({ u: nx(p.x), v: ny(p.y), value: p.value }));
  const xs = gridAlong(xAxis, xc, resolution);
  const ys = gridAlong(yAxis, yc, resolution);
  const z = ys.map((y) => xs.map((x) => interpolateIdw(samples, nx(x), ny(y))));
  const values = points.map((p) => p.value);
  return { xAxis, yAxis, xs, ys, z, points, min: Math.min(...values), max: Math.max(...values) };
}

/**
 * The n + 1 edges of the cells centred on n ascending grid coordinates: midway between neighbours
 * (geometric midpoints on a log axis) and half a step beyond the ends, so the cells tile the plot.
 */
export function cellEdges(grid: readonly number[], log: boolean): number[] {
  const t = log ? Math.log10 : (v: number) => v;
  const inv = log ? (v: number) => 10 ** v : (v: number) => v;
  const g = grid.map(t);
  if (g.length === 0) return [];
  if (g.length === 1) return [inv(g[0] - 0.5), inv(g[0] + 0.5)];
  const edges = [g[0] - (g[1] - g[0]) / 2];
  for (let i = 1; i < g.length; i++) edges.push((g[i - 1] + g[i]) / 2);
  edges.push(g[g.length - 1] + (g[g.length - 1] - g[g.length - 2]) / 2);
  return edges.map(inv);
}
