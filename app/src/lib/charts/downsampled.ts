/**
 * Turns the server's downsampled buckets into points a line chart can draw: each bucket's minimum and
 * maximum (so spikes stay visible) and its last point, in x order. Points inside a bucket take the
 * bucket's last wall time, which is exact for single-point buckets and within one bucket otherwise.
 */
import type { DownsampledSeries } from "../api/metric-types";
import { bucketsToPolyline, type Bucket } from "../../../../worker/lib/downsample";
import type { MetricPoint } from "./metric-series";

export function downsampledPoints(series: DownsampledSeries): MetricPoint[] {
  const buckets: Bucket[] = series.count.map((count, i) => ({
    x0: series.x0[i],
    x1: series.x1[i],
    count,
    min: series.min[i] ?? NaN,
    max: series.max[i] ?? NaN,
    lastX: series.last_x[i],
    last: series.last[i] ?? NaN,
  }));
  const timeAt = new Map<number, number>();
  // x → wall time of the bucket that contains x.
  const bucketTime = (x: number) => {
    const i = series.x1.findIndex((x1) => x <= x1);
    return series.last_timestamp[i === -1 ? series.x1.length - 1 : i] ?? NaN;
  };
  return bucketsToPolyline(buckets).map((p) => {
    if (!timeAt.has(p.x)) timeAt.set(p.x, bucketTime(p.x));
    return { key: series.key, value: p.y, step: p.x, timestamp: timeAt.get(p.x)! };
  });
}
