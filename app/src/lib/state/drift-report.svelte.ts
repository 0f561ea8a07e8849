/**
 * State of the drift report page: the two picked files, per-column settings, the run's phase and
 * progress, and the per-column outcomes. The work itself happens in the drift worker pool; this
 * class only orchestrates it and keeps what the page shows.
 */
import { DEFAULT_DRIFT_SHARE, STATTESTS, TEXT_STATTESTS, type StattestName, type TextStattestName } from "../../../../worker/lib/drift";
import { readColumnNames } from "$lib/drift/read-table";
import { monitoringApi, saveMonitorReport } from "$lib/api/monitoring";
import { monitorReportBody, planReport, sortOutcomes, summarize, type ColumnSetting, type FileDescriptor, type ReportSummary } from "$lib/drift/report";
import { reportHtml } from "$lib/drift/report-html";
import type { ColumnOutcome } from "$lib/workers/drift/api";
import { DriftCancelledError, DriftPool } from "$lib/workers/drift/client";

export type RunPhase = "idle" | "reading" | "computing" | "done" | "cancelled" | "error";

export const METHOD_CHOICES = [...Object.values(STATTESTS), ...Object.values(TEXT_STATTESTS)].map((s) => ({ value: s.name, label: `${s.name} — ${s.displayName}` }));

export interface ColumnSettingInput {
  method: StattestName | TextStattestName | "";
  threshold: string;
}

export class DriftReportState {
  reference = $state<File | null>(null);
  current = $state<File | null>(null);
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

  private pool: DriftPool | null = null;
  private runId = 0;

  private getPool(): DriftPool {
    this.pool ??= new DriftPool();
    return this.pool;
  }

  async pick(side: "reference" | "current", file: File | null): Promise<void> {
    this[side] = file;
    const names = new Set<string>();
    for (const f of [this.reference, this.current]) {
      if (!f) continue;
      try {
        for (const n of await readColumnNames(f)) names.add(n);
      } catch {
        // The full read reports unreadable files; the settings table just stays shorter.
      }
    }
    this.columnNames = [...names];
    for (const n of this.columnNames) this.settings[n] ??= { method: "", threshold: "" };
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

  async run(): Promise<void> {
    if (!this.reference || !this.current || this.running) return;
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
    const refFile = this.reference;
    const curFile = this.current;
    try {
      const [ref, cur] = await pool.readTables(this.reference, this.current, (p) => {
        if (id === this.runId) this.progress = p.fraction;
      });
      const plan = planReport(ref, cur, { columns: settings });
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
      this.reportFiles = {
        reference: { name: refFile.name, rows: ref.rows, bytes: refFile.size },
        current: { name: curFile.name, rows: cur.rows, bytes: curFile.size },
      };
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

  cancel(): void {
    if (!this.running) return;
    this.runId++;
    this.pool?.cancel();
    this.phase = "cancelled";
    this.progress = 0;
  }

  exportHtml(): string {
    return reportHtml({
      referenceName: this.reportFiles?.reference.name ?? "reference",
      currentName: this.reportFiles?.current.name ?? "current",
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
