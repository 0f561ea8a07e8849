/**
 * Slice plots: for one param, each COMPLETE trial's objective value against the value it tried
 * (categorical choices at their index), so one sees where along that param the good trials lie.
 */
import type { Trial } from "../api/tuning-types";
import type { PlotPoint } from "./aligned";
import { objectiveValue, paramAxis, type ParamAxis } from "./params";

export interface SliceData {
  axis: ParamAxis;
  points: (PlotPoint & { number: number })[];
}

export function sliceData(trials: readonly Trial[], name: string, objective = 0): SliceData {
  const axis = paramAxis(trials, name);
  const points: SliceData["points"] = [];
  for (const t of trials) {
    const y = objectiveValue(t, objective);
    const x = axis.coord(t.params[name]);
    if (y != null && x != null) points.push({ x, y, number: t.number, label: `Trial ${t.number}` });
  }
  return { axis, points: points.sort((a, b) => a.x - b.x || a.number - b.number) };
}
