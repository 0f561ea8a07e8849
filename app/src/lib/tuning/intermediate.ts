/**
 * Learning curves: every trial's reported intermediate values on one shared step axis (null where a
 * trial reported nothing at a step, or reported NaN), with pruned trials flagged so the chart can mark
 * where they were stopped.
 */
import type { Trial, TrialState } from "../api/tuning-types";

export interface LearningCurve {
  number: number;
  state: TrialState;
  /** One value per shared step. */
  y: (number | null)[];
  /** The last step with a value: where a pruned trial was stopped. */
  lastStep: number | null;
}

export interface LearningCurves {
  steps: number[];
  curves: LearningCurve[];
}

export function learningCurves(trials: readonly Trial[]): LearningCurves {
  const reporting = trials.filter((t) => t.intermediate_values?.length).sort((a, b) => a.number - b.number);
  const steps = [...new Set(reporting.flatMap((t) => t.intermediate_values.map((iv) => iv.step)))].sort((a, b) => a - b);
  const at = new Map(steps.map((s, i) => [s, i]));
  const curves = reporting.map((t) => {
    const y: (number | null)[] = steps.map(() => null);
    let lastStep: number | null = null;
    for (const iv of t.intermediate_values) {
      const v = iv.value != null && Number.isFinite(iv.value) ? iv.value : null;
      y[at.get(iv.step)!] = v;
      if (v != null && (lastStep == null || iv.step > lastStep)) lastStep = iv.step;
    }
    return { number: t.number, state: t.state, y, lastStep };
  });
  return { steps, curves };
}
