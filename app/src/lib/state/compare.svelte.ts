/**
 * Comparing runs side by side: the runs named in the URL, one colour each, their metric histories
 * overlaid per key, the param/metric/tag diff (which rows differ), and the metric the
 * parallel-coordinates plot ends on.
 */
import { api, ApiClientError, type MlflowExperiment, type MlflowRun } from "$lib/api/client";
import type { ChartInput } from "$lib/charts/metric-series";
import { runColor } from "$lib/charts/palette";
import { MetricHistories, type ChartState, type HistoryEntry } from "./metric-history.svelte";
import { errorMessage, metricsOf, paramsOf, SYSTEM_TAG_PREFIX, tagsOf } from "./run-fields";

export type DiffSection = "Params" | "Metrics" | "Tags";

export interface DiffRow {
  section: DiffSection;
  key: string;
  /** One per run, in the runs' order; null where the run has no such key. */
  values: (string | number | null)[];
  differs: boolean;
}

/** `?runs=a,b,c`, without blanks or repeats. */
export const parseRunIds = (param: string | null): string[] => [...new Set((param ?? "").split(",").map((s) => s.trim()).filter(Boolean))];

const sortedUnion = (lists: string[][]) => [...new Set(lists.flat())].sort((a, b) => a.localeCompare(b));

export class CompareState {
  readonly runIds: string[];
  readonly experimentId: string;
  experiment = $state.raw<MlflowExperiment | null>(null);
  runs = $state.raw<MlflowRun[]>([]);
  /** Ids from the URL that name no run. */
  missing = $state.raw<string[]>([]);
  loading = $state(true);
  error = $state<string | null>(null);
  onlyDifferences = $state(false);
  #parallelMetric = $state<string | null>(null);
  readonly histories = new MetricHistories();
  #charts = new Map<string, { runs: MlflowRun[]; entries: (HistoryEntry | undefined)[]; state: ChartState }>();

  constructor(experimentId: string, runIds: string[]) {
    this.experimentId = experimentId;
    this.runIds = runIds;
  }

  /** The experiment named in the URL, for the breadcrumb; the runs may come from any experiment. */
  async loadExperiment(): Promise<void> {
    try {
      this.experiment = (await api.mlflow.experiments.get(this.experimentId)).experiment;
    } catch {
      this.experiment = null;
    }
  }

  async load(): Promise<void> {
    this.loading = true;
    const results = await Promise.allSettled(this.runIds.map((id) => api.mlflow.runs.get(id)));
    const runs: MlflowRun[] = [];
    const missing: string[] = [];
    let failure: string | null = null;
    results.forEach((r, i) => {
      if (r.status === "fulfilled") runs.push(r.value.run);
      else if (r.reason instanceof ApiClientError && r.reason.status === 404) missing.push(this.runIds[i]);
      else failure ??= errorMessage(r.reason);
    });
    this.runs = runs;
    this.missing = missing;
    this.error = failure;
    this.loading = false;
  }

  loadHistories(): Promise<void> {
    return this.histories.load(this.runs.flatMap((run) => (run.data.metrics ?? []).map((m) => ({ runId: run.info.run_id, key: m.key }))));
  }

  colorOf(runId: string): string {
    return runColor(this.runs.findIndex((r) => r.info.run_id === runId));
  }

  /** The run's name, with its id's start added when two compared runs share a name. */
  labelOf(run: MlflowRun): string {
    const name = run.info.run_name || run.info.run_id.slice(0, 8);
    const shared = this.runs.filter((r) => (r.info.run_name || r.info.run_id.slice(0, 8)) === name).length > 1;
    return shared ? `${name} (${run.info.run_id.slice(0, 6)})` : name;
  }

  readonly metricKeys: string[] = $derived(sortedUnion(this.runs.map((r) => [...metricsOf(r).keys()])));
  readonly paramKeys: string[] = $derived(sortedUnion(this.runs.map((r) => [...paramsOf(r).keys()])));

  get parallelMetric(): string | null {
    const keys = this.metricKeys;
    return this.#parallelMetric && keys.includes(this.#parallelMetric) ? this.#parallelMetric : (keys[0] ?? null);
  }
  set parallelMetric(key: string | null) {
    this.#parallelMetric = key;
  }

  /**
   * Every run's line for one metric key, once all of them have loaded; the same object while those
   * histories are unchanged, so other keys' histories arriving redraw nothing here.
   */
  chart(key: string): ChartState {
    const runs = this.runs.filter((run) => metricsOf(run).has(key));
    const entries = runs.map((run) => this.histories.get(run.info.run_id, key));
    const cached = this.#charts.get(key);
    if (cached && cached.runs === this.runs && cached.entries.every((e, i) => e === entries[i])) return cached.state;
    const state = this.#chartOf(runs, entries);
    this.#charts.set(key, { runs: this.runs, entries, state });
    return state;
  }

  #chartOf(runs: MlflowRun[], entries: (HistoryEntry | undefined)[]): ChartState {
    const inputs: ChartInput[] = [];
    for (const [i, run] of runs.entries()) {
      const entry = entries[i];
      if (!entry || entry.status === "loading") return { status: "loading" };
      if (entry.status === "error") return { status: "error", message: entry.message };
      inputs.push({ label: this.labelOf(run), color: this.colorOf(run.info.run_id), points: entry.points });
    }
    return { status: "ready", inputs };
  }

  readonly diffRows: DiffRow[] = $derived.by(() => {
    const row = (section: DiffSection, key: string, values: (string | number | null)[]): DiffRow => ({
      section,
      key,
      values,
      differs: new Set(values.map((v) => (v == null ? "\u0000missing" : typeof v === "number" && Number.isNaN(v) ? "NaN" : String(v)))).size > 1,
    });
    const userTagKeys = sortedUnion(this.runs.map((r) => [...tagsOf(r).keys()].filter((k) => !k.startsWith(SYSTEM_TAG_PREFIX))));
    const rows = [
      ...this.paramKeys.map((k) => row("Params", k, this.runs.map((r) => paramsOf(r).get(k) ?? null))),
      ...this.metricKeys.map((k) => row("Metrics", k, this.runs.map((r) => metricsOf(r).get(k)?.value ?? null))),
      ...userTagKeys.map((k) => row("Tags", k, this.runs.map((r) => tagsOf(r).get(k) ?? null))),
    ];
    return this.onlyDifferences ? rows.filter((r) => r.differs) : rows;
  });
}
