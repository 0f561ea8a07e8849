/**
 * A sequential colour scale for objective values (contour surfaces, trial lines in parallel
 * coordinates): a perceptually even ramp from dark blue through teal to yellow, so "better" reads
 * the same on white and on the dark theme. Pure: value in, CSS colour out.
 */

// Samples of the viridis ramp at 0, 0.25, 0.5, 0.75 and 1.
const STOPS: [number, number, number][] = [
  [68, 1, 84],
  [59, 82, 139],
  [33, 145, 140],
  [94, 201, 98],
  [253, 231, 37],
];

const hex = (n: number) => Math.round(n).toString(16).padStart(2, "0");

/** The colour at t in [0, 1] (clamped). */
export function rampColor(t: number): string {
  const c = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (STOPS.length - 1);
  const i = Math.min(Math.floor(c), STOPS.length - 2);
  const f = c - i;
  const [a, b] = [STOPS[i], STOPS[i + 1]];
  return `#${hex(a[0] + (b[0] - a[0]) * f)}${hex(a[1] + (b[1] - a[1]) * f)}${hex(a[2] + (b[2] - a[2]) * f)}`;
}

/** Maps values in [min, max] onto the ramp; the best end (by direction) is the bright yellow one. */
export function valueColorer(min: number, max: number, direction: "minimize" | "maximize"): (v: number) => string {
  const span = max - min;
  return (v) => {
    const t = span > 0 ? (v - min) / span : 0.5;
    return rampColor(direction === "minimize" ? 1 - t : t);
  };
}
