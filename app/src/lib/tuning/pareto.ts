/**
 * The Pareto-front scatter of a multi-objective study: two chosen objectives of every COMPLETE trial,
 * split into the front (the trials the API names as best), the rest, and the infeasible trials (a
 * constraint above zero, as Optuna counts feasibility). The front comes sorted along the x objective
 * so it can be drawn as a line.
 */
import type { Trial } from "../api/tuning-types";
import type { PlotPoint } from "./aligned";
import { objectiveValue } from "./params";

export type ParetoPoint = PlotPoint & { number: number };

export interface ParetoPlot {
  front: ParetoPoint[];
  dominated: ParetoPoint[];
  infeasible: ParetoPoint[];
}

export const isFeasible = (t: Trial): boolean => !t.constraints || t.constraints.every((c) => c <= 0);

export function paretoPlot(trials: readonly Trial[], frontNumbers: Iterable<number>, objectives: readonly [number, number]): ParetoPlot {
  const front = new Set(frontNumbers);
  const plot: ParetoPlot = { front: [], dominated: [], infeasible: [] };
  for (const t of trials) {
    const x = objectiveValue(t, objectives[0]);
    const y = objectiveValue(t, objectives[1]);
    if (x == null || y == null) continue;
    const point = { x, y, number: t.number, label: `Trial ${t.number}` };
    if (!isFeasible(t)) plot.infeasible.push(point);
    else if (front.has(t.number)) plot.front.push(point);
    else plot.dominated.push(point);
  }
  const byX = (a: ParetoPoint, b: ParetoPoint) => a.x - b.x || a.y - b.y || a.number - b.number;
  plot.front.sort(byX);
  plot.dominated.sort(byX);
  plot.infeasible.sort(byX);
  return plot;
}
