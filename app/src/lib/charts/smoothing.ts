/**
 * Exponential-moving-average smoothing of a metric series, as TensorBoard and W&B draw it: a
 * debiased EMA (so the curve starts at the first value instead of rising from zero), gaps and
 * non-finite values passed through untouched, and a constant series left exactly as it is.
 * Pure, so the charts and the unit tests share it.
 */

/** The slider's range: 0 draws the raw values, values near 1 average over long windows. */
export const MAX_SMOOTHING = 0.99;

/**
 * `weight` is the EMA decay in [0, 1): each smoothed point is weight × the previous average plus
 * (1 − weight) × the new value, divided by 1 − weight^n to undo the bias of starting at zero.
 */
export function emaSmooth(values: readonly (number | null)[], weight: number): (number | null)[] {
  const w = Number.isFinite(weight) ? Math.min(Math.max(weight, 0), MAX_SMOOTHING) : 0;
  if (w === 0) return values.slice();
  const finite = values.filter((v): v is number => v != null && Number.isFinite(v));
  // Floating-point accumulation would wobble a flat line; a constant series has nothing to smooth.
  if (finite.length === 0 || finite.every((v) => v === finite[0])) return values.slice();
  let last = 0;
  let count = 0;
  return values.map((v) => {
    if (v == null || !Number.isFinite(v)) return v;
    last = last * w + (1 - w) * v;
    count += 1;
    return last / (1 - Math.pow(w, count));
  });
}
