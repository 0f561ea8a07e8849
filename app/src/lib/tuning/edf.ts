/**
 * The empirical distribution function of a study's objective values: for each value v, the share of
 * COMPLETE trials whose value is at most v. Drawn as a step that rises at every observed value.
 */
import type { Trial } from "../api/tuning-types";
import { objectiveValue } from "./params";

export interface EdfData {
  /** The distinct values, ascending. */
  x: number[];
  /** F(x): the fraction of values <= x, ending at 1. */
  y: number[];
}

export function empiricalDistribution(values: readonly number[]): EdfData {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  const x: number[] = [];
  const y: number[] = [];
  sorted.forEach((v, i) => {
    // Ties rise once, to the share of values up to and including the last copy.
    if (x.length && x[x.length - 1] === v) y[y.length - 1] = (i + 1) / sorted.length;
    else {
      x.push(v);
      y.push((i + 1) / sorted.length);
    }
  });
  return { x, y };
}

export const studyEdf = (trials: readonly Trial[], objective = 0): EdfData =>
  empiricalDistribution(trials.map((t) => objectiveValue(t, objective)).filter((v): v is number => v != null));
