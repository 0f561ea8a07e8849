/**
 * State of the drift report page: the two picked files, per-column settings, the run's phase and
 * progress, and the per-column outcomes. The work itself happens in the drift worker pool; this
 * class only orchestrates it and keeps what the page shows.
 */
import { DEFAULT_DRIFT_SHARE, STATTESTS, TEXT_STATTESTS, type StattestName, type TextStattestName } from "../../../../worker/lib/drift";
import { readColumnNames, readRemoteColumnNames } from "$lib/drift/read-table";
import { datasetSourceApi, resolveVersionRef, versionTable, versionUsable, type DatasetChoice, type VersionChoice } from "$lib/drift/dataset-source";
import { monitoringApi, saveMonitorReport } from "$lib/api/monitoring";
import { monitorReportBody, planReport, sortOutcomes, summarize, type ColumnSetting, type FileDescriptor, type ReportSummary } from "$lib/drift/report";
import { reportHtml } from "$lib/drift/report-html";
import type { ColumnOutcome, TableSource } from "$lib/workers/drift/api";
import { DriftCancelledError, DriftPool } from "$lib/workers/drift/client";

export type RunPhase = "idle" | "reading" | "computing" | "done" | "cancelled" | "error";

export const METHOD_CHOICES = [...Object.values(STATTESTS), ...Object.values(TEXT_STATTESTS)].map((s) => ({ value: s.name, label: `${s.name} — ${s.displayName}` }));

export interface ColumnSettingInput {
  method: StattestName | TextStattestName | "";
  threshold: string;
}

export type Side = "reference" | "current";

/** Where one side's data comes from: a local file, or a Tern dataset version streamed into the workers. */
export interface SideSource {
  mode: "file" | "dataset";
  dataset: string;
  version: VersionChoice | null;
}

export class DriftReportState {
  reference = $state<File | null>(null);
  current = $state<File | null>(null);
  sources = $state<Record<Side, SideSource>>({ reference: { mode: "file", dataset: "", version: null }, current: { mode: "file", dataset: "", version: null } });
  /** Datasets that can be picked, and the versions of each one loaded so far. */
  datasets = $state<DatasetChoice[]>([]);
  versions = $state<Record<string, VersionChoice[]>>({});
  /** The monitor the page was opened from, if any. */
  fromMonitor = $state<{ id: string; name: string } | null>(null);
  /** Columns the monitor leaves out of its checks; a report opened from it leaves them out too. */
  ignored = $state<string[]>([]);
  /** Opened from one of the monitor's saved reports: its two versions are preselected. */
  fromReport = $state(false);
  /** Columns named in the headers of the picked files, for the settings table. */
  columnNames = $state<string[]>([]);
  settings = $state<Record<string, ColumnSettingInput>>({});
  driftShare = $state(DEFAULT_DRIFT_SHARE);
  phase = $state<RunPhase>("idle");
  progress = $state(0);
  done = $state(0);
  total = $state(0);
  error = $state<string | null>(null);
  outcomes = $state.raw<ColumnOutcome[]>([]);
  selected = $state<string | null>(null);
  /** Names of the files the shown report was computed from. */
  reportFiles = $state<{ reference: FileDescriptor; current: FileDescriptor } | null>(null);
  /** Monitors a summary can be saved to; empty hides the save panel. */
  monitors = $state<{ id: string; name: string }[]>([]);
  saveTarget = $state("");
  saveMessage = $state<{ ok: boolean; text: string } | null>(null);
  elapsedMs = $state(0);

  readonly sorted = $derived(sortOutcomes(this.outcomes));
  readonly summary = $derived<ReportSummary | null>(this.outcomes.length ? summarize(this.outcomes, this.driftShare) : null);
  readonly running = $derived(this.phase === "reading" || this.phase === "computing");
  readonly ready = $derived(this.source("reference") !== null && this.source("current") !== null);

  private pool: DriftPool | null = null;
  private runId = 0;

  private getPool(): DriftPool {
    this.pool ??= new DriftPool();
    return this.pool;
  }

  /** What a side will be read from, or null when nothing usable is picked. */
  source(side: Side): TableSource | null {
    const s = this.sources[side];
    if (s.mode === "file") return this[side];
    return s.version && !versionUsable(s.version) ? versionTable(s.version) : null;
  }

  async pick(side: Side, file: File | null): Promise<void> {
    this[side] = file;
    await this.refreshColumnNames();
  }

  /** Column names for the settings table: file headers, a version's schema, or a remote CSV's first line. */
  private async refreshColumnNames(): Promise<void> {
    const names = new Set<string>();
    for (const side of ["reference", "current"] as const) {
      const s = this.sources[side];
      try {
        if (s.mode === "file") {
          const f = this[side];
          if (f) for (const n of await readColumnNames(f)) names.add(n);
        } else if (s.version && !versionUsable(s.version)) {
          const fromSchema = s.version.schema?.map((f) => f.name) ?? [];
          for (const n of fromSchema.length ? fromSchema : await readRemoteColumnNames(versionTable(s.version))) names.add(n);
        }
      } catch {
        // The full read reports unreadable files; the settings table just stays shorter.
      }
    }
    this.columnNames = [...names].filter((n) => !this.ignored.includes(n));
    for (const n of this.columnNames) this.settings[n] ??= { method: "", threshold: "" };
  }

  setMode(side: Side, mode: "file" | "dataset"): void {
    this.sources[side].mode = mode;
    if (mode === "dataset" && this.datasets.length === 0) void this.loadDatasets();
    void this.refreshColumnNames();
  }

  async loadDatasets(): Promise<void> {
    try {
      this.datasets = await datasetSourceApi.listDatasets();
    } catch (err) {
      this.error = `Could not list datasets: ${err instanceof Error ? err.message : String(err)}`;
    }
  }

  /** Pick a dataset for a side; its newest usable version is selected. */
  async pickDataset(side: Side, name: string): Promise<void> {
    this.sources[side].dataset = name;
    this.sources[side].version = null;
    if (!name) return;
    try {
      const versions = (this.versions[name] ??= await datasetSourceApi.listVersions(name));
      if (this.sources[side].dataset === name) this.sources[side].version = versions.find((v) => !versionUsable(v)) ?? versions[0] ?? null;
    } catch (err) {
      this.error = `Could not list the versions of ${name}: ${err instanceof Error ? err.message : String(err)}`;
    }
    await this.refreshColumnNames();
  }

  async pickVersion(side: Side, id: string): Promise<void> {
    const s = this.sources[side];
    s.version = (this.versions[s.dataset] ?? []).find((v) => v.id === id) ?? null;
    await this.refreshColumnNames();
  }

  /** Put a version on a side, loading its dataset's versions for the picker. */
  private async useVersion(side: Side, v: VersionChoice): Promise<void> {
    if (this.datasets.length === 0) await this.loadDatasets();
    this.versions[v.dataset] ??= await datasetSourceApi.listVersions(v.dataset);
    this.sources[side] = { mode: "dataset", dataset: v.dataset, version: (this.versions[v.dataset] ?? []).find((x) => x.id === v.id) ?? v };
  }

  /**
   * Opened from a monitor: its reference version preselected as the reference, the newest version of
   * its current-data dataset (if it has one) as the current data, its column settings, ignored columns
   * and drift share applied, and the summary saved to it. Opened from one of its saved reports, the
   * versions that report compared (ids or name@N) are preselected instead.
   */
  async openMonitor(id: string, versions: { reference?: string | null; current?: string | null } = {}): Promise<void> {
    try {
      const m = await monitoringApi.getMonitor(id);
      this.fromMonitor = { id: m.id, name: m.name };
      this.saveTarget = m.id;
      this.driftShare = m.drift_share;
      this.ignored = m.column_settings.ignore ?? [];
      this.fromReport = Boolean(versions.reference || versions.current);
      const reference = versions.reference || m.reference_dataset_version;
      if (reference) await this.useVersion("reference", await resolveVersionRef(reference));
      if (versions.current) await this.useVersion("current", await resolveVersionRef(versions.current));
      else if (m.current_dataset) {
        try {
          await this.useVersion("current", await datasetSourceApi.getVersion(m.current_dataset, "latest"));
        } catch {
          // No version yet: the user picks the current data.
        }
      }
      await this.refreshColumnNames();
      for (const [column, setting] of Object.entries(m.column_settings.columns ?? {})) {
        this.settings[column] = { method: (setting.method ?? "") as ColumnSettingInput["method"], threshold: setting.threshold !== undefined ? String(setting.threshold) : "" };
      }
    } catch (err) {
      this.error = `Could not load the monitor's reference: ${err instanceof Error ? err.message : String(err)}`;
    }
  }

  /** The overrides that are actually set, validated. */
  private columnSettings(): Record<string, ColumnSetting> | string {
    const out: Record<string, ColumnSetting> = {};
    for (const [name, s] of Object.entries(this.settings)) {
      const setting: ColumnSetting = {};
      if (s.method) setting.method = s.method;
      if (s.threshold.trim() !== "") {
        const t = Number(s.threshold);
        if (!Number.isFinite(t) || t < 0) return `The threshold for '${name}' must be a non-negative number.`;
        setting.threshold = t;
      }
      if (setting.method || setting.threshold !== undefined) out[name] = setting;
    }
    return out;
  }

  /** What the saved summary records about a side: the file, or the dataset version it was read from. */
  private describe(side: Side, rows: number): FileDescriptor {
    const s = this.sources[side];
    if (s.mode === "dataset" && s.version) {
      const v = s.version;
      return { name: v.file_name ?? `${v.dataset} v${v.version}`, rows, bytes: v.size, dataset: v.dataset, version: v.version, dataset_version: v.id };
    }
    const f = this[side] as File;
    return { name: f.name, rows, bytes: f.size };
  }

  async run(): Promise<void> {
    const refSource = this.source("reference");
    const curSource = this.source("current");
    if (!refSource || !curSource || this.running) return;
    const settings = this.columnSettings();
    if (typeof settings === "string") {
      this.error = settings;
      return;
    }
    if (!(this.driftShare >= 0 && this.driftShare <= 1)) {
      this.error = "The drift share must be between 0 and 1.";
      return;
    }
    const id = ++this.runId;
    const started = performance.now();
    this.error = null;
    this.outcomes = [];
    this.selected = null;
    this.phase = "reading";
    this.progress = 0;
    const pool = this.getPool();
    try {
      const [ref, cur] = await pool.readTables(refSource, curSource, (p) => {
        if (id === this.runId) this.progress = p.fraction;
      });
      const plan = planReport(this.withoutIgnored(ref), this.withoutIgnored(cur), { columns: settings });
      this.phase = "computing";
      this.progress = 0;
      this.done = 0;
      this.total = plan.tasks.length;
      const computed = await pool.computeColumns(plan.tasks, (p) => {
        if (id !== this.runId) return;
        this.progress = p.fraction;
        this.done = p.done ?? 0;
      });
      if (id !== this.runId) return;
      this.outcomes = [...computed, ...plan.unmatched];
      this.reportFiles = { reference: this.describe("reference", ref.rows), current: this.describe("current", cur.rows) };
      this.saveMessage = null;
      this.phase = "done";
      this.elapsedMs = performance.now() - started;
    } catch (err) {
      if (id !== this.runId) return;
      if (err instanceof DriftCancelledError) {
        this.phase = "cancelled";
        return;
      }
      this.phase = "error";
      this.error = err instanceof Error ? err.message : String(err);
    }
  }

  private withoutIgnored<T extends { columns: { name: string }[] }>(table: T): T {
    return this.ignored.length ? { ...table, columns: table.columns.filter((c) => !this.ignored.includes(c.name)) } : table;
  }

  cancel(): void {
    if (!this.running) return;
    this.runId++;
    this.pool?.cancel();
    this.phase = "cancelled";
    this.progress = 0;
  }

  exportHtml(): string {
    // A dataset version is named with its dataset and number, so the export says where the data came from.
    const label = (d: FileDescriptor | undefined, fallback: string) => (!d ? fallback : d.dataset ? `${d.dataset} v${d.version} (${d.name})` : d.name);
    return reportHtml({
      referenceName: label(this.reportFiles?.reference, "reference"),
      currentName: label(this.reportFiles?.current, "current"),
      generatedAt: new Date().toISOString(),
      outcomes: this.outcomes,
      driftShare: this.driftShare,
    });
  }

  /** The monitors, if the server has any; any failure just leaves saving unavailable. */
  async loadMonitors(): Promise<void> {
    try {
      const { monitors } = await monitoringApi.listMonitors();
      this.monitors = monitors.map((m) => ({ id: m.monitor.id, name: m.monitor.name }));
      if (!this.monitors.some((m) => m.id === this.saveTarget)) this.saveTarget = this.monitors[0]?.id ?? "";
    } catch {
      this.monitors = [];
    }
  }

  /** Send the summary (scores and decisions only) to the chosen monitor. */
  async saveSummary(): Promise<void> {
    if (!this.saveTarget || !this.reportFiles || this.outcomes.length === 0) return;
    try {
      const body = monitorReportBody(this.outcomes, this.driftShare, this.reportFiles.reference, this.reportFiles.current);
      const { alerts } = await saveMonitorReport(this.saveTarget, body);
      const name = this.monitors.find((m) => m.id === this.saveTarget)?.name ?? this.saveTarget;
      this.saveMessage = { ok: true, text: `Saved to ${name}${alerts.length ? `; ${alerts.length} alert(s) fired` : ""}.` };
    } catch (err) {
      this.saveMessage = { ok: false, text: err instanceof Error ? err.message : String(err) };
    }
  }

  dispose(): void {
    this.pool?.dispose();
    this.pool = null;
  }
}
