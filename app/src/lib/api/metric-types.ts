/** Wire types of the metric endpoints, in a module without browser dependencies so pure code can share them. */

/** One downsampled series, columnar: per bucket its x extent, point count, min, max and last point. */
export interface DownsampledSeries {
  run_id: string;
  key: string;
  total: number;
  x0: number[];
  x1: number[];
  count: number[];
  min: (number | null)[];
  max: (number | null)[];
  last_x: number[];
  last: (number | null)[];
  last_timestamp: (number | null)[];
}
