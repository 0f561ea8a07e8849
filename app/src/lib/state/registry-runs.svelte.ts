/**
 * The runs that model versions were registered from: each run id looked up once (runs/get) for the
 * experiment its page lives under and its name. A run that is gone stays a bare id, not an error.
 */
import { SvelteMap } from "svelte/reactivity";
import { api, ApiClientError } from "$lib/api/client";

export interface SourceRun {
  runId: string;
  experimentId: string;
  runName: string;
}

export const runHref = (run: SourceRun) => `/experiments/${encodeURIComponent(run.experimentId)}/runs/${encodeURIComponent(run.runId)}`;

export class SourceRuns {
  /** null: looked up and not found (deleted for good, or never logged here). */
  #runs = new SvelteMap<string, SourceRun | null>();
  #pending = new Map<string, Promise<void>>();

  get(runId: string | undefined): SourceRun | null | undefined {
    return runId ? this.#runs.get(runId) : undefined;
  }

  resolve(runIds: (string | undefined)[]): Promise<void> {
    const wanted = [...new Set(runIds.filter((id): id is string => !!id))];
    return Promise.all(wanted.map((id) => this.#lookup(id))).then(() => undefined);
  }

  #lookup(runId: string): Promise<void> {
    if (this.#runs.has(runId)) return Promise.resolve();
    let pending = this.#pending.get(runId);
    if (!pending) {
      pending = api.mlflow.runs
        .get(runId)
        .then(({ run }) => {
          this.#runs.set(runId, { runId, experimentId: run.info.experiment_id, runName: run.info.run_name });
        })
        .catch((err: unknown) => {
          // Only a missing run is settled; any other failure may pass, so it is asked again next time.
          if (err instanceof ApiClientError && err.status === 404) this.#runs.set(runId, null);
        })
        .finally(() => this.#pending.delete(runId));
      this.#pending.set(runId, pending);
    }
    return pending;
  }
}
