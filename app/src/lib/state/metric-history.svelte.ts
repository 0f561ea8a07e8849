/**
 * Metric histories for the charts: the one place that fetches them. A series of up to
 * HISTORY_PAGE_SIZE points is read whole (every point, exact); a longer one is drawn from the
 * server's downsampled buckets (min, max and last per bucket), so a million-point metric costs one
 * small request. Histories are loaded a few at a time and kept per run and key.
 */
import { api } from "$lib/api/client";
import { downsampledPoints } from "$lib/charts/downsampled";
import { parseMetricValue, type ChartInput, type MetricPoint } from "$lib/charts/metric-series";

/** The largest page metrics/get-history serves, and what MLflow's own clients ask for. */
export const HISTORY_PAGE_SIZE = 25_000;
/** Buckets asked for when downsampling: about two per horizontal pixel of a wide chart. */
export const DOWNSAMPLE_BUCKETS = 2000;
const CONCURRENCY = 4;

export async function fetchMetricHistory(runId: string, key: string): Promise<MetricPoint[]> {
  const { series } = await api.metrics.downsample({ run_id: runId, key, points: DOWNSAMPLE_BUCKETS });
  if (series[0] && series[0].total > HISTORY_PAGE_SIZE) return downsampledPoints(series[0]);
  const points: MetricPoint[] = [];
  let pageToken: string | undefined;
  do {
    const page = await api.mlflow.metrics.getHistory({ run_id: runId, metric_key: key, max_results: HISTORY_PAGE_SIZE, page_token: pageToken });
    for (const m of page.metrics ?? []) points.push({ key: m.key, value: parseMetricValue(m.value), timestamp: m.timestamp, step: m.step });
    pageToken = page.next_page_token || undefined;
  } while (pageToken);
  return points;
}

export type HistoryEntry = { status: "loading" } | { status: "ready"; points: MetricPoint[] } | { status: "error"; message: string };

/** What one chart can draw so far: its lines once every history it needs has arrived. */
export type ChartState = { status: "loading" } | { status: "error"; message: string } | { status: "ready"; inputs: ChartInput[] };

const entryKey = (runId: string, key: string) => `${runId}\u0000${key}`;

export class MetricHistories {
  // Raw state: histories can hold tens of thousands of points that must not become deep proxies.
  #entries = $state.raw<Record<string, HistoryEntry>>({});

  get(runId: string, key: string): HistoryEntry | undefined {
    return this.#entries[entryKey(runId, key)];
  }

  /** Loads the histories not yet loaded (or all of them with `refresh`), at most a few requests at a time. */
  async load(wanted: readonly { runId: string; key: string }[], refresh = false): Promise<void> {
    const todo = wanted.filter((w) => refresh || this.get(w.runId, w.key) === undefined || this.get(w.runId, w.key)?.status === "error");
    if (todo.length === 0) return;
    this.#set(todo.map((w) => [entryKey(w.runId, w.key), { status: "loading" }]));
    let next = 0;
    const worker = async () => {
      while (next < todo.length) {
        const { runId, key } = todo[next++];
        let entry: HistoryEntry;
        try {
          entry = { status: "ready", points: await fetchMetricHistory(runId, key) };
        } catch (err) {
          entry = { status: "error", message: err instanceof Error ? err.message : String(err) };
        }
        this.#set([[entryKey(runId, key), entry]]);
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, todo.length) }, worker));
  }

  #set(updates: [string, HistoryEntry][]): void {
    this.#entries = { ...this.#entries, ...Object.fromEntries(updates) };
  }
}
