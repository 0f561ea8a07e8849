/**
 * One study's dashboard: the study, every trial, the best trials (the Pareto front when there are
 * several objectives) and the param importances of the chosen objective; the trial table's state
 * filter and sort; and live refresh, which polls while any trial is RUNNING and pauses while the tab
 * is hidden.
 */
import { tuningApi, type ParamImportance, type Study, type Trial, type TrialState } from "$lib/api/tuning";
import { trialRows, type TrialSortKey } from "$lib/tuning/trial-table";
import { LiveState } from "./live-state.svelte";
import { errorMessage } from "./run-fields";

/** How often a study with RUNNING trials is polled. */
export const LIVE_INTERVAL_MS = 2000;

export class StudyState extends LiveState {
  readonly id: string;
  study = $state.raw<Study | null>(null);
  trials = $state.raw<Trial[]>([]);
  /** Numbers of the best trial, or of the Pareto-front trials. */
  bestNumbers = $state.raw<number[]>([]);
  importances = $state.raw<ParamImportance[] | null>(null);
  importanceError = $state<string | null>(null);
  objective = $state(0);
  lastRefresh = $state<number | null>(null);
  /** The tab is hidden, so polling waits. */
  paused = $state(false);
  tableStates = $state.raw<Set<TrialState>>(new Set());
  tableSort = $state.raw<{ key: TrialSortKey; ascending: boolean }>({ key: { kind: "number" }, ascending: true });
  #importanceKey = "";

  constructor(id: string) {
    super(LIVE_INTERVAL_MS);
    this.id = id;
  }

  protected watching(): boolean {
    return this.running;
  }

  get running(): boolean {
    return this.trials.some((t) => t.state === "RUNNING");
  }

  get multiObjective(): boolean {
    return (this.study?.directions.length ?? 0) > 1;
  }

  get completeCount(): number {
    return this.trials.filter((t) => t.state === "COMPLETE").length;
  }

  get rows(): Trial[] {
    return trialRows(this.trials, this.tableStates, this.tableSort.key, this.tableSort.ascending);
  }

  protected async fetchAll(): Promise<void> {
    const [{ study }, trials, best] = await Promise.all([
      tuningApi.studies.get(this.id),
      tuningApi.trials.all(this.id),
      tuningApi.bestTrials(this.id).catch(() => ({ trials: [] as Trial[] })),
    ]);
    if (this.disposed) return;
    this.study = study;
    this.trials = trials;
    this.bestNumbers = best.trials.map((t) => t.number);
    this.lastRefresh = Date.now();
    if (this.objective >= study.directions.length) this.objective = 0;
    await this.#loadImportances();
  }

  /** Importances change only when COMPLETE trials do (or the objective); skip the call otherwise. */
  async #loadImportances(force = false): Promise<void> {
    const key = `${this.objective}:${this.trials.filter((t) => t.state === "COMPLETE").map((t) => t.number).join(",")}`;
    if (!force && key === this.#importanceKey) return;
    this.#importanceKey = key;
    if (this.completeCount === 0) {
      this.importances = [];
      this.importanceError = null;
      return;
    }
    try {
      const { importances } = await tuningApi.paramImportances(this.id, this.objective);
      if (key !== this.#importanceKey) return;
      this.importances = importances;
      this.importanceError = null;
    } catch (err) {
      if (key !== this.#importanceKey) return;
      this.importances = null;
      this.importanceError = errorMessage(err);
    }
  }

  setObjective(objective: number): void {
    this.objective = objective;
    void this.#loadImportances(true);
  }

  toggleState(state: TrialState): void {
    const next = new Set(this.tableStates);
    if (next.has(state)) next.delete(state);
    else next.add(state);
    this.tableStates = next;
  }

  sortBy(key: TrialSortKey, sameKey: boolean): void {
    this.tableSort = sameKey ? { key, ascending: !this.tableSort.ascending } : { key, ascending: key.kind !== "duration" };
  }

  /** Follows the tab's visibility: hidden pauses polling, visible refreshes at once and resumes. */
  setVisible(visible: boolean): void {
    this.paused = !visible;
    this.poller.setPaused(!visible);
    if (visible) void this.refresh();
  }

  /** Whether a poll is pending (live refresh is on). */
  get live(): boolean {
    return this.running && !this.paused;
  }
}
