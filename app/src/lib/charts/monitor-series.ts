/** Monitor series (points in ms) as chart data on a wall-clock axis in seconds, one line per series. */
import { alignSeries, type ChartData } from "./metric-series";
import { runColor } from "./palette";

export interface NamedPoints {
  label: string;
  points: readonly { time: number; value: number }[];
}

export function monitorChartData(series: readonly NamedPoints[]): ChartData {
  const aligned = alignSeries(series.map((s) => ({ x: s.points.map((p) => p.time / 1000), y: s.points.map((p) => p.value) })));
  return { x: aligned.x, lines: series.map((s, i) => ({ label: s.label, color: runColor(i), y: aligned.ys[i], faded: false })) };
}
