/**
 * Scatter groups onto one shared x column, the table uPlot draws from: points sorted by x (equal x
 * repeats), one y column per group holding that group's y at its own rows and null elsewhere, and the
 * label of each row's point for the hover readout.
 */

export interface PlotPoint {
  x: number;
  y: number;
  /** Names the point in the hover readout, e.g. "Trial 12". */
  label: string;
}

export interface AlignedPoints {
  x: number[];
  columns: (number | null)[][];
  labels: string[];
}

export function alignPoints(groups: readonly (readonly PlotPoint[])[]): AlignedPoints {
  const rows = groups.flatMap((points, group) => points.map((p, order) => ({ ...p, group, order })));
  // Stable on ties so that a group's own order (e.g. trial number) survives among equal x.
  rows.sort((a, b) => a.x - b.x || a.group - b.group || a.order - b.order);
  const columns = groups.map(() => rows.map((): number | null => null));
  rows.forEach((r, i) => (columns[r.group][i] = r.y));
  return { x: rows.map((r) => r.x), columns, labels: rows.map((r) => r.label) };
}

/** One drawn group of a study chart: its column of y values on the shared x, and how to draw it. */
export interface PlotSeries {
  label: string;
  color: string;
  y: (number | null)[];
  style: "points" | "line" | "step" | "line+points";
  width?: number;
  pointSize?: number;
  dash?: number[];
  /** Left out of the hover readout and the key (e.g. one of many learning curves). */
  quiet?: boolean;
}
