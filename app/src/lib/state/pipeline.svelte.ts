/**
 * One pipeline's page: the pipeline (latest spec), its recent runs with every task instance for the
 * grid, the spec of any older version on demand, and live refresh while a shown run is unfinished.
 */
import { pipelinesApi, type Pipeline, type PipelineVersion, type RunDetail, type RunSummary } from "$lib/api/pipelines";
import { buildGrid, type GridModel } from "$lib/pipelines/grid";
import { isRunFinished } from "$lib/pipelines/states";
import { LiveState } from "./live-state.svelte";

/** Runs shown in the grid (the newest by logical date). */
export const GRID_RUNS = 25;
export const LIVE_INTERVAL_MS = 2000;

export class PipelineState extends LiveState {
  readonly id: string;
  pipeline = $state.raw<Pipeline | null>(null);
  runs = $state.raw<RunSummary[]>([]);
  details = $state.raw<ReadonlyMap<string, RunDetail>>(new Map());
  versions = $state.raw<ReadonlyMap<number, PipelineVersion>>(new Map());

  constructor(id: string) {
    super(LIVE_INTERVAL_MS);
    this.id = id;
  }

  protected watching(): boolean {
    return this.live;
  }

  get grid(): GridModel | null {
    return this.pipeline ? buildGrid(this.pipeline.spec, this.runs, this.details) : null;
  }

  get live(): boolean {
    return this.runs.some((r) => !isRunFinished(r.state));
  }

  /** How many of the shown runs ran each version. */
  get runsByVersion(): Map<number, number> {
    const m = new Map<number, number>();
    for (const r of this.runs) m.set(r.version, (m.get(r.version) ?? 0) + 1);
    return m;
  }

  protected async fetchAll(): Promise<void> {
    const [{ pipeline }, { runs }] = await Promise.all([pipelinesApi.get(this.id), pipelinesApi.runs(this.id, { max_results: GRID_RUNS })]);
    // A finished run's tasks do not change until it is cleared, which makes it unfinished again.
    const stale = runs.filter((r) => {
      const have = this.details.get(r.run_id);
      return !have || !isRunFinished(r.state) || have.state !== r.state;
    });
    const fetched = await Promise.all(stale.map((r) => pipelinesApi.run(r.run_id).catch(() => null)));
    if (this.disposed) return;
    const details = new Map<string, RunDetail>();
    for (const r of runs) {
      const d = this.details.get(r.run_id);
      if (d) details.set(r.run_id, d);
    }
    for (const d of fetched) if (d) details.set(d.run_id, d);
    this.pipeline = pipeline;
    this.runs = runs;
    this.details = details;
  }

  /** The spec a version had (the latest comes with the pipeline; older ones are read once). */
  async loadVersion(version: number): Promise<PipelineVersion> {
    const have = this.versions.get(version);
    if (have) return have;
    const v = await pipelinesApi.version(this.id, version);
    this.versions = new Map([...this.versions, [version, v]]);
    return v;
  }

}
