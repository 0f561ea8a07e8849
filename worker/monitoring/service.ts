/**
 * Monitoring logic: monitors of a registered model, saving drift summaries (each one a point of the
 * monitor's series), evaluating alert rules on every saved summary, delivering alert webhooks with
 * retries, the Prometheus view of the latest state, and scheduled checks of new dataset versions.
 *
 * Webhooks call out: a firing or resolving rule POSTs JSON to the rule's URL from the Worker. The
 * URL may not point back at this Worker's own origin, so an alert cannot trigger requests to itself.
 */
import { Cron } from "croner";
import { ApiError, invalid, notFound, alreadyExists } from "../http/errors";
import { columnDrift, datasetDrift, DriftTestError, inferColumnType, STATTESTS, type RawValue, type StattestName } from "../lib/drift";
import {
  evaluateRule,
  formatSeries,
  nextAttemptAt,
  parseSeries,
  SeriesSelectorError,
  seriesValue,
  WEBHOOK_MAX_ATTEMPTS,
  type AlertOperator,
  type SeriesSelector,
} from "../lib/monitoring/alerts";
import type { MetricFamily } from "../lib/monitoring/prometheus";
import { sampleIndices, takeRows, versionSeed } from "../lib/monitoring/sample";
import type { RegistryService } from "../registry/service";
import {
  PIPELINES_UNAVAILABLE,
  type AlertEvent,
  type AlertRule,
  type ColumnResult,
  type ColumnSettings,
  type DatasetReader,
  DatasetUnreadable,
  type Descriptor,
  type Monitor,
  type MonitorReport,
  type PipelineTrigger,
  type ReportInput,
  type SeriesPoint,
  type VersionColumns,
} from "./model";
import type { MonitoringStore, RulePatch } from "./store";

/** Rows per side a scheduled check computes drift on; larger versions are sampled. */
export const SCHEDULED_SAMPLE_ROWS = 50_000;
const WEBHOOK_TIMEOUT_MS = 10_000;
/** How long the first try (run in waitUntil) owns a delivery before the cron job may retry it. */
const FIRST_TRY_LEASE_MS = 60_000;
const MAX_SERIES_POINTS = 10_000;

export interface MonitorInput {
  name: string;
  description?: string | null;
  modelName: string;
  modelAlias?: string | null;
  modelVersion?: number | null;
  referenceDatasetVersion?: string | null;
  currentDataset?: string | null;
  columnSettings?: ColumnSettings;
  driftShare?: number;
  schedule?: string | null;
  paused?: boolean;
}

export interface RuleInput {
  name?: string;
  series: string;
  operator: AlertOperator;
  threshold: number;
  forChecks?: number;
  webhookUrl?: string | null;
  pipelineId?: string | null;
  enabled?: boolean;
}

export interface MonitorSummary {
  monitor: Monitor;
  latest: MonitorReport | null;
  firingRules: number;
}

export interface MonitoringDeps {
  registry: Pick<RegistryService, "getModel" | "getVersion">;
  /** The pipelines pillar's run trigger; null until it exists. */
  pipelines: PipelineTrigger | null;
  /** The datasets pillar's reader; null leaves scheduled checks skipped (as in tests of the service alone). */
  datasets: DatasetReader | null;
  fetch?: typeof fetch;
  now?: () => number;
}

export function validateSchedule(schedule: string): void {
  try {
    new Cron(schedule, { paused: true });
  } catch (err) {
    throw invalid(`Invalid schedule '${schedule}': ${err instanceof Error ? err.message : String(err)}`);
  }
}

function validateColumnSettings(settings: ColumnSettings): void {
  for (const [column, o] of Object.entries(settings.columns ?? {})) {
    if (o.method !== undefined && !(o.method in STATTESTS)) {
      throw invalid(`column_settings.columns.${column}.method: unknown method '${o.method}' (known: ${Object.keys(STATTESTS).join(", ")})`);
    }
  }
}

/** Webhooks must be http(s) and must not call this Worker's own origin (loop protection). */
export function validateWebhookUrl(url: string, selfOrigin: string | null): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalid(`webhook_url: '${url}' is not a URL`);
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") throw invalid("webhook_url: must be an http or https URL");
  if (parsed.username || parsed.password) throw invalid("webhook_url: must not carry credentials; put a secret in the path or query instead");
  if (selfOrigin && parsed.host.toLowerCase() === new URL(selfOrigin).host.toLowerCase()) {
    throw invalid("webhook_url: must not point at this Tern itself (an alert could otherwise call itself in a loop)");
  }
}

export class MonitoringService {
  private readonly now: () => number;

  constructor(
    private readonly store: MonitoringStore,
    private readonly deps: MonitoringDeps,
  ) {
    this.now = deps.now ?? Date.now;
  }

  // ---- monitors ----------------------------------------------------------------------------

  private async checkModel(name: string, version: number | null | undefined): Promise<void> {
    try {
      await this.deps.registry.getModel(name);
      if (version !== null && version !== undefined) await this.deps.registry.getVersion(name, String(version));
    } catch (err) {
      if (err instanceof ApiError && (err.code === "RESOURCE_DOES_NOT_EXIST" || err.code === "INVALID_PARAMETER_VALUE")) {
        throw invalid(version == null ? `No registered model '${name}'` : `No version ${version} of registered model '${name}'`);
      }
      throw err;
    }
  }

  async createMonitor(input: MonitorInput): Promise<Monitor> {
    if (input.modelAlias && input.modelVersion != null) throw invalid("Give the model's alias or its version, not both");
    if (input.schedule) validateSchedule(input.schedule);
    if (input.columnSettings) validateColumnSettings(input.columnSettings);
    await this.checkModel(input.modelName, input.modelVersion);
    const now = this.now();
    const monitor: Monitor = {
      id: crypto.randomUUID().replace(/-/g, ""),
      name: input.name,
      description: input.description ?? null,
      modelName: input.modelName,
      modelAlias: input.modelAlias ?? null,
      modelVersion: input.modelVersion ?? null,
      referenceDatasetVersion: input.referenceDatasetVersion ?? null,
      currentDataset: input.currentDataset ?? null,
      columnSettings: input.columnSettings ?? {},
      driftShare: input.driftShare ?? 0.5,
      schedule: input.schedule ?? null,
      paused: input.paused ?? false,
      lastCheckedVersion: null,
      lastCheckedAt: null,
      createdAt: now,
      updatedAt: now,
    };
    if (!(await this.store.insertMonitor(monitor))) throw alreadyExists(`A monitor named '${input.name}' already exists`);
    return monitor;
  }

  async getMonitor(id: string): Promise<Monitor> {
    const m = await this.store.getMonitor(id);
    if (!m) throw notFound(`No monitor '${id}'`);
    return m;
  }

  async updateMonitor(id: string, patch: Partial<MonitorInput>): Promise<Monitor> {
    const current = await this.getMonitor(id);
    const alias = patch.modelAlias !== undefined ? patch.modelAlias : current.modelAlias;
    const version = patch.modelVersion !== undefined ? patch.modelVersion : current.modelVersion;
    if (alias && version != null) throw invalid("Give the model's alias or its version, not both");
    if (patch.schedule) validateSchedule(patch.schedule);
    if (patch.columnSettings) validateColumnSettings(patch.columnSettings);
    if (patch.modelName !== undefined || patch.modelVersion !== undefined) await this.checkModel(patch.modelName ?? current.modelName, version);
    if (patch.name !== undefined && (await this.store.monitorNameTaken(patch.name, id))) throw alreadyExists(`A monitor named '${patch.name}' already exists`);
    const defined = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined));
    await this.store.updateMonitor(id, { ...defined, updatedAt: this.now() });
    return this.getMonitor(id);
  }

  async deleteMonitor(id: string): Promise<void> {
    if (!(await this.store.deleteMonitor(id))) throw notFound(`No monitor '${id}'`);
  }

  async listMonitors(offset: number, limit: number): Promise<{ items: MonitorSummary[]; more: boolean }> {
    const page = await this.store.listMonitors(offset, limit + 1);
    const items = page.slice(0, limit);
    const latest = await this.store.latestReports(items.map((m) => m.id));
    const firing = new Map<string, number>();
    for (const r of await this.store.allRules()) if (r.enabled && r.state === "firing") firing.set(r.monitorId, (firing.get(r.monitorId) ?? 0) + 1);
    return {
      items: items.map((monitor) => ({ monitor, latest: latest.get(monitor.id) ?? null, firingRules: firing.get(monitor.id) ?? 0 })),
      more: page.length > limit,
    };
  }

  // ---- reports and series ------------------------------------------------------------------

  /** Saves a summary as the monitor's next point and evaluates its alert rules in the same write. */
  async saveReport(monitorId: string, input: ReportInput): Promise<{ report: MonitorReport; events: AlertEvent[] }> {
    const monitor = await this.getMonitor(monitorId);
    const s = input.summary;
    if (s.numberOfDriftedColumns > s.numberOfColumns) throw invalid("summary.number_of_drifted_columns exceeds summary.number_of_columns");
    const names = new Set<string>();
    for (const c of s.columns) {
      if (names.has(c.column)) throw invalid(`summary.columns: column '${c.column}' appears twice`);
      names.add(c.column);
    }
    const time = input.time ?? this.now();
    const report: MonitorReport = {
      ...s,
      id: crypto.randomUUID().replace(/-/g, ""),
      monitorId: monitor.id,
      time,
      reference: input.reference,
      current: input.current,
      sampleSize: input.sampleSize,
      source: input.source,
    };
    const rules = (await this.store.listRules(monitor.id)).filter((r) => r.enabled);
    const updates: { rule: AlertRule; next: RulePatch }[] = [];
    const events: AlertEvent[] = [];
    for (const rule of rules) {
      const value = seriesValue(parseSeries(rule.series), report);
      const step = evaluateRule(rule, rule, value);
      const next: RulePatch = { state: step.state, consecutive: step.consecutive, updatedAt: time };
      if (value !== null) Object.assign(next, { lastValue: value, lastEvaluatedAt: time });
      updates.push({ rule, next });
      if (step.transition) {
        events.push({
          id: crypto.randomUUID().replace(/-/g, ""),
          ruleId: rule.id,
          monitorId: monitor.id,
          reportId: report.id,
          kind: step.transition,
          time,
          value,
          deliveryStatus: rule.webhookUrl ? "pending" : "none",
          attempts: 0,
          // The first try runs right after the save; the cron job takes over only if that one never records.
          nextAttemptAt: rule.webhookUrl ? time + FIRST_TRY_LEASE_MS : null,
          lastAttemptAt: null,
          lastError: null,
          pipelineRunId: null,
          pipelineNote: rule.pipelineId && step.transition === "fired" && !this.deps.pipelines ? PIPELINES_UNAVAILABLE : null,
        });
      }
    }
    await this.store.saveReport(report, updates, events);
    return { report, events };
  }

  async listReports(monitorId: string, offset: number, limit: number): Promise<{ items: MonitorReport[]; more: boolean }> {
    await this.getMonitor(monitorId);
    const rows = await this.store.listReports(monitorId, offset, limit + 1);
    return { items: rows.slice(0, limit), more: rows.length > limit };
  }

  /** A series' points in time order, oldest first; summaries without a value for it are left out. */
  async series(monitorId: string, name: string, from: number | null, to: number | null): Promise<{ series: string; points: SeriesPoint[] }> {
    await this.getMonitor(monitorId);
    let selector: SeriesSelector;
    try {
      selector = parseSeries(name);
    } catch (err) {
      if (err instanceof SeriesSelectorError) throw invalid(err.message);
      throw err;
    }
    if (selector.kind === "column_score") {
      const rows = await this.store.columnSeries(monitorId, selector.column, from, to, MAX_SERIES_POINTS);
      const points = rows.filter((r) => r.score !== null).map((r) => ({ time: r.time, value: r.score as number, reportId: r.reportId }));
      return { series: formatSeries(selector), points };
    }
    const reports = await this.store.reportsInRange(monitorId, from, to, MAX_SERIES_POINTS);
    const points: SeriesPoint[] = [];
    for (const r of reports) {
      const value = seriesValue(selector, r);
      if (value !== null) points.push({ time: r.time, value, reportId: r.id });
    }
    return { series: formatSeries(selector), points };
  }

  // ---- alert rules and events --------------------------------------------------------------

  private checkRule(input: Partial<RuleInput>, selfOrigin: string | null): void {
    if (input.series !== undefined) {
      try {
        parseSeries(input.series);
      } catch (err) {
        if (err instanceof SeriesSelectorError) throw invalid(`series: ${err.message}`);
        throw err;
      }
    }
    if (input.webhookUrl) validateWebhookUrl(input.webhookUrl, selfOrigin);
  }

  async createRule(monitorId: string, input: RuleInput, selfOrigin: string | null): Promise<AlertRule> {
    await this.getMonitor(monitorId);
    this.checkRule(input, selfOrigin);
    const now = this.now();
    const rule: AlertRule = {
      id: crypto.randomUUID().replace(/-/g, ""),
      monitorId,
      name: input.name ?? `${input.series} ${input.operator} ${input.threshold}`,
      series: input.series,
      operator: input.operator,
      threshold: input.threshold,
      forChecks: input.forChecks ?? 1,
      webhookUrl: input.webhookUrl ?? null,
      pipelineId: input.pipelineId ?? null,
      enabled: input.enabled ?? true,
      consecutive: 0,
      state: "ok",
      lastValue: null,
      lastEvaluatedAt: null,
      createdAt: now,
      updatedAt: now,
    };
    await this.store.insertRule(rule);
    return rule;
  }

  async getRule(monitorId: string, ruleId: string): Promise<AlertRule> {
    const r = await this.store.getRule(monitorId, ruleId);
    if (!r) throw notFound(`No alert rule '${ruleId}' on monitor '${monitorId}'`);
    return r;
  }

  async listRules(monitorId: string): Promise<AlertRule[]> {
    await this.getMonitor(monitorId);
    return this.store.listRules(monitorId);
  }

  /** Changing what a rule watches restarts its evaluation; a firing rule that is changed or disabled resolves silently. */
  async updateRule(monitorId: string, ruleId: string, patch: Partial<RuleInput>, selfOrigin: string | null): Promise<AlertRule> {
    await this.getRule(monitorId, ruleId);
    this.checkRule(patch, selfOrigin);
    const defined: RulePatch = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined));
    const resets = ["series", "operator", "threshold", "forChecks", "enabled"].some((k) => k in defined);
    await this.store.updateRule(ruleId, { ...defined, ...(resets ? { state: "ok", consecutive: 0 } : {}), updatedAt: this.now() });
    return this.getRule(monitorId, ruleId);
  }

  async deleteRule(monitorId: string, ruleId: string): Promise<void> {
    if (!(await this.store.deleteRule(monitorId, ruleId))) throw notFound(`No alert rule '${ruleId}' on monitor '${monitorId}'`);
  }

  async listEvents(monitorId: string, offset: number, limit: number): Promise<{ items: AlertEvent[]; more: boolean }> {
    await this.getMonitor(monitorId);
    const rows = await this.store.listEvents(monitorId, offset, limit + 1);
    return { items: rows.slice(0, limit), more: rows.length > limit };
  }

  /** Rules firing now, across monitors. */
  async activeAlerts(): Promise<{ rule: AlertRule; monitor: Monitor }[]> {
    const firing = (await this.store.allRules()).filter((r) => r.enabled && r.state === "firing");
    const monitors = new Map((await this.store.allMonitors()).map((m) => [m.id, m]));
    return firing.filter((r) => monitors.has(r.monitorId)).map((rule) => ({ rule, monitor: monitors.get(rule.monitorId)! }));
  }

  // ---- webhook delivery ----------------------------------------------------------------------

  /** The first try of each new event's webhook and pipeline trigger (run in waitUntil after a save). */
  async deliverNew(events: AlertEvent[]): Promise<void> {
    await Promise.all(events.map((e) => this.dispatch(e)));
  }

  /** The cron side: retries every delivery whose next try is due. */
  async retryDue(at: number, limit = 50): Promise<number> {
    const due = await this.store.dueDeliveries(at, limit);
    let tried = 0;
    for (const e of due) {
      if (!(await this.store.claimDelivery(e.id, e.attempts, at + FIRST_TRY_LEASE_MS))) continue;
      await this.attempt(e, at);
      tried++;
    }
    return tried;
  }

  private async dispatch(event: AlertEvent): Promise<void> {
    if (event.kind === "fired" && this.deps.pipelines) await this.triggerPipeline(event);
    if (event.deliveryStatus === "pending") await this.attempt(event, this.now());
  }

  private async triggerPipeline(event: AlertEvent): Promise<void> {
    const rule = await this.store.getRule(event.monitorId, event.ruleId);
    if (!rule?.pipelineId || !this.deps.pipelines) return;
    try {
      const { runId } = await this.deps.pipelines(rule.pipelineId, { monitor_id: event.monitorId, rule_id: rule.id, event_id: event.id, value: event.value, report_id: event.reportId });
      await this.store.recordAttempt(event.id, event.attempts, { pipelineRunId: runId });
    } catch (err) {
      await this.store.recordAttempt(event.id, event.attempts, { pipelineNote: `pipeline trigger failed: ${err instanceof Error ? err.message : String(err)}` });
    }
  }

  private async payload(event: AlertEvent): Promise<{ url: string; body: unknown } | null> {
    const rule = await this.store.getRule(event.monitorId, event.ruleId);
    const monitor = await this.store.getMonitor(event.monitorId);
    if (!rule?.webhookUrl || !monitor) return null;
    return {
      url: rule.webhookUrl,
      body: {
        event_id: event.id,
        state: event.kind === "fired" ? "firing" : "resolved",
        time: new Date(event.time).toISOString(),
        value: event.value,
        monitor: { id: monitor.id, name: monitor.name, model: { name: monitor.modelName, alias: monitor.modelAlias, version: monitor.modelVersion } },
        rule: { id: rule.id, name: rule.name, series: rule.series, operator: rule.operator, threshold: rule.threshold, for_checks: rule.forChecks },
        report_id: event.reportId,
      },
    };
  }

  private async attempt(event: AlertEvent, at: number): Promise<void> {
    const target = await this.payload(event);
    const attempts = event.attempts + 1;
    if (!target) {
      await this.store.recordAttempt(event.id, event.attempts, { deliveryStatus: "failed", lastError: "the rule or its webhook URL no longer exists", nextAttemptAt: null });
      return;
    }
    let error: string | null = null;
    try {
      const res = await (this.deps.fetch ?? fetch)(target.url, {
        method: "POST",
        headers: { "Content-Type": "application/json", "User-Agent": "Tern-Alerts/1", "X-Tern-Event": event.id },
        body: JSON.stringify(target.body),
        signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
      });
      // The body is not needed; cancel it so the connection is released.
      await res.body?.cancel();
      if (!res.ok) error = `HTTP ${res.status}`;
    } catch (err) {
      error = err instanceof Error ? err.message : String(err);
    }
    if (error === null) {
      await this.store.recordAttempt(event.id, event.attempts, { deliveryStatus: "delivered", attempts, lastAttemptAt: at, lastError: null, nextAttemptAt: null });
      return;
    }
    const next = nextAttemptAt(attempts, at, WEBHOOK_MAX_ATTEMPTS);
    await this.store.recordAttempt(event.id, event.attempts, {
      deliveryStatus: next === null ? "failed" : "pending",
      attempts,
      lastAttemptAt: at,
      lastError: error.slice(0, 500),
      nextAttemptAt: next,
    });
  }

  // ---- Prometheus ----------------------------------------------------------------------------

  async metricFamilies(): Promise<MetricFamily[]> {
    const monitors = await this.store.allMonitors();
    const latest = await this.store.latestReports(monitors.map((m) => m.id));
    const counts = await this.store.reportCounts();
    const rules = await this.store.allRules();
    const byId = new Map(monitors.map((m) => [m.id, m]));
    const withReport = monitors.filter((m) => latest.has(m.id));
    const perMonitor = (value: (r: MonitorReport) => number) => withReport.map((m) => ({ labels: { monitor: m.name }, value: value(latest.get(m.id)!) }));
    const columns = withReport.flatMap((m) => latest.get(m.id)!.columns.map((c) => ({ m, c })));
    const performance = withReport.flatMap((m) => Object.entries(latest.get(m.id)!.performance ?? {}).map(([metric, value]) => ({ labels: { monitor: m.name, metric }, value })));
    const liveRules = rules.filter((r) => byId.has(r.monitorId));
    return [
      { name: "tern_monitor_drift_share", help: "Share of drifted columns in the monitor's latest report.", type: "gauge", samples: perMonitor((r) => r.driftShare) },
      { name: "tern_monitor_dataset_drift", help: "1 when the latest report detected dataset drift, else 0.", type: "gauge", samples: perMonitor((r) => (r.datasetDrift ? 1 : 0)) },
      { name: "tern_monitor_drifted_columns", help: "Number of drifted columns in the latest report.", type: "gauge", samples: perMonitor((r) => r.numberOfDriftedColumns) },
      { name: "tern_monitor_columns", help: "Number of columns checked in the latest report.", type: "gauge", samples: perMonitor((r) => r.numberOfColumns) },
      { name: "tern_monitor_last_report_timestamp_seconds", help: "Time of the latest report, in seconds since the epoch.", type: "gauge", samples: perMonitor((r) => r.time / 1000) },
      {
        name: "tern_monitor_column_drift_score",
        help: "Drift score of each column in the latest report (a p-value or a distance, per the method label).",
        type: "gauge",
        samples: columns.filter(({ c }) => c.score !== null).map(({ m, c }) => ({ labels: { monitor: m.name, column: c.column, method: c.method }, value: c.score as number })),
      },
      {
        name: "tern_monitor_column_drifted",
        help: "1 when the column drifted in the latest report, else 0.",
        type: "gauge",
        samples: columns.map(({ m, c }) => ({ labels: { monitor: m.name, column: c.column }, value: c.drifted ? 1 : 0 })),
      },
      { name: "tern_monitor_performance", help: "Model performance metrics of the latest report.", type: "gauge", samples: performance },
      {
        name: "tern_monitor_reports_total",
        help: "Reports saved to the monitor.",
        type: "counter",
        samples: monitors.map((m) => ({ labels: { monitor: m.name }, value: counts.get(m.id) ?? 0 })),
      },
      {
        name: "tern_monitor_alert_firing",
        // rule_id keeps two rules of the same name and series apart: Prometheus refuses duplicate series.
        help: "1 when the alert rule is firing, else 0 (disabled rules are 0).",
        type: "gauge",
        samples: liveRules.map((r) => ({ labels: { monitor: byId.get(r.monitorId)!.name, rule: r.name, rule_id: r.id, series: r.series }, value: r.enabled && r.state === "firing" ? 1 : 0 })),
      },
    ];
  }

  // ---- scheduled checks ----------------------------------------------------------------------

  /** A monitor by id or, failing that, by name (pipeline specs name monitors). */
  async findMonitor(ref: string): Promise<Monitor> {
    const m = (await this.store.getMonitor(ref)) ?? (await this.store.getMonitorByName(ref));
    if (!m) throw notFound(`No monitor '${ref}'`);
    return m;
  }

  /**
   * Checks one dataset version against the monitor's reference on demand (a pipeline's drift_check
   * task), the way a scheduled check does: same reader, sampling and column settings; the report is
   * saved with source "pipeline", alert rules are evaluated and their webhooks delivered. An unreadable
   * version or a missing reference is the caller's problem (400), not a skipped check.
   */
  async checkVersion(
    monitorRef: string,
    current: { dataset: string; versionId: string },
    origin: Record<string, string>,
    at = this.now(),
    source: "pipeline" | "manual" = "pipeline",
  ): Promise<{ monitor: Monitor; report: MonitorReport }> {
    const m = await this.findMonitor(monitorRef);
    const reader = this.deps.datasets;
    if (!reader) throw new ApiError("TEMPORARILY_UNAVAILABLE", "Dataset versions cannot be read here");
    if (!m.referenceDatasetVersion) throw invalid(`Monitor '${m.name}' has no reference dataset version to compare against`);
    let check: ReturnType<typeof computeCheck>;
    try {
      const [reference, cur] = await Promise.all([reader.readColumns(m.referenceDatasetVersion), reader.readColumns(current.versionId)]);
      check = computeCheck(reference, cur, m);
    } catch (err) {
      if (err instanceof DatasetUnreadable) throw invalid(`Cannot check drift: ${err.message}`);
      throw err;
    }
    if (!check) throw invalid(`Monitor '${m.name}': dataset version ${current.versionId} shares no column with the reference ${m.referenceDatasetVersion}`);
    const { report, events } = await this.saveReport(m.id, {
      summary: check.summary,
      reference: { dataset_version: m.referenceDatasetVersion, ...check.reference },
      current: { dataset: current.dataset, dataset_version: current.versionId, ...check.current, ...origin },
      sampleSize: check.sampleSize,
      source,
      time: at,
    });
    await this.deliverNew(events);
    return { monitor: m, report };
  }

  /**
   * "Check now": the newest version of the monitor's current-data dataset (or the version named) against
   * its reference, exactly as a scheduled check would, saved with source "manual". Does not move the
   * schedule's bookmark, so the next scheduled check still sees that version as new.
   */
  async checkNow(monitorRef: string, versionRef?: string | null): Promise<{ monitor: Monitor; report: MonitorReport }> {
    const m = await this.findMonitor(monitorRef);
    const reader = this.deps.datasets;
    if (!reader) throw new ApiError("TEMPORARILY_UNAVAILABLE", "Dataset versions cannot be read here");
    let versionId = versionRef ?? null;
    if (!versionId) {
      if (!m.currentDataset) throw invalid(`Monitor '${m.name}' has no current dataset; name the dataset_version to check`);
      try {
        versionId = await reader.latestVersion(m.currentDataset);
      } catch (err) {
        if (err instanceof DatasetUnreadable) throw invalid(`Cannot check drift: ${err.message}`);
        throw err;
      }
      if (!versionId) throw invalid(`Dataset '${m.currentDataset}' has no versions to check yet`);
    }
    return this.checkVersion(m.id, { dataset: m.currentDataset ?? "", versionId }, {}, this.now(), "manual");
  }

  /**
   * Checks every scheduled, unpaused monitor whose cron is due and whose current-data dataset has a
   * version it has not checked yet. Returns what was done per monitor.
   */
  async runScheduledChecks(at: number): Promise<{ monitorId: string; outcome: string }[]> {
    const out: { monitorId: string; outcome: string }[] = [];
    const monitors = await this.store.scheduledMonitors();
    if (monitors.length === 0) return out;
    const reader = this.deps.datasets;
    for (const m of monitors) {
      if (!isDue(m, at)) continue;
      // Cron may deliver one minute twice, concurrently: only the delivery that claims the tick checks.
      if (!(await this.store.claimScheduledCheck(m.id, m.lastCheckedAt, at))) {
        out.push({ monitorId: m.id, outcome: "skipped: claimed by another delivery" });
        continue;
      }
      if (!reader) {
        out.push({ monitorId: m.id, outcome: "skipped: datasets not available" });
        continue;
      }
      if (!m.currentDataset || !m.referenceDatasetVersion) {
        out.push({ monitorId: m.id, outcome: "skipped: no reference version or current dataset" });
        continue;
      }
      let latest: string | null = null;
      try {
        latest = await reader.latestVersion(m.currentDataset);
        if (!latest || latest === m.lastCheckedVersion) {
          out.push({ monitorId: m.id, outcome: "no new version" });
          continue;
        }
        const [reference, current] = await Promise.all([reader.readColumns(m.referenceDatasetVersion), reader.readColumns(latest)]);
        const check = computeCheck(reference, current, m);
        // The check is recorded as done in any case: a version that cannot be compared would fail again.
        await this.store.setMonitorChecked(m.id, latest, at);
        if (!check) {
          out.push({ monitorId: m.id, outcome: "skipped: no common columns" });
          continue;
        }
        const { events } = await this.saveReport(m.id, {
          summary: check.summary,
          reference: { dataset_version: m.referenceDatasetVersion, ...check.reference },
          current: { dataset: m.currentDataset, dataset_version: latest, ...check.current },
          sampleSize: check.sampleSize,
          source: "schedule",
          time: at,
        });
        await this.deliverNew(events);
        out.push({ monitorId: m.id, outcome: `checked ${latest}` });
      } catch (err) {
        if (err instanceof DatasetUnreadable) {
          // Reading it again on the next tick would be refused again; wait for the next version.
          if (latest) await this.store.setMonitorChecked(m.id, latest, at);
          out.push({ monitorId: m.id, outcome: `skipped: ${err.message}` });
          continue;
        }
        out.push({ monitorId: m.id, outcome: `failed: ${err instanceof Error ? err.message : String(err)}` });
      }
    }
    return out;
  }
}

/** Due when the cron has a run after the last check (or the creation) and not after now. */
export function isDue(m: Pick<Monitor, "schedule" | "lastCheckedAt" | "createdAt">, at: number): boolean {
  if (!m.schedule) return false;
  const since = m.lastCheckedAt ?? m.createdAt;
  const next = new Cron(m.schedule, { paused: true }).nextRun(new Date(since));
  return next !== null && next.getTime() <= at;
}

/** How one side of a check was read, as report descriptors record it: rows in the version and the sample. */
function sideDescriptor(side: VersionColumns, used: number): Descriptor {
  // The version actually read, whichever way the monitor or the caller named it (id, name@N, name@latest).
  const d: Descriptor = { dataset_version: side.versionId, dataset: side.dataset, version: side.version, rows: side.rows, checked_rows: used };
  if (side.rowsEstimated) d.rows_estimated = true;
  if (side.sample) {
    d.sample_method = side.sample.method;
    d.sample_bytes = side.sample.bytesRead;
    if (side.sample.droppedRows) d.sample_dropped_rows = side.sample.droppedRows;
    if (side.sample.droppedWindows) d.sample_dropped_windows = side.sample.droppedWindows;
  }
  return d;
}

function rowCount(cols: Record<string, RawValue[]>): number {
  return Math.max(0, ...Object.values(cols).map((v) => v.length));
}

/**
 * Drift of a sample of each side with the monitor's column settings; null when no column is shared.
 * Each side is what the reader read (all rows, or a range-read sample of a large version); at most
 * SCHEDULED_SAMPLE_ROWS of its rows are then drawn at random.
 */
export function computeCheck(referenceRead: VersionColumns, currentRead: VersionColumns, m: Pick<Monitor, "columnSettings" | "driftShare">) {
  // Seeded by the two versions: checking the same pair again gives the same report.
  const seed = versionSeed(`${referenceRead.versionId}\n${currentRead.versionId}`);
  const reference = referenceRead.columns;
  const current = currentRead.columns;
  const ignore = new Set(m.columnSettings.ignore ?? []);
  const names = Object.keys(reference).filter((c) => c in current && !ignore.has(c));
  if (names.length === 0) return null;
  const refIdx = sampleIndices(rowCount(reference), SCHEDULED_SAMPLE_ROWS, seed);
  const curIdx = sampleIndices(rowCount(current), SCHEDULED_SAMPLE_ROWS, seed + 1);
  const columns: ColumnResult[] = names.map((column) => {
    const ref = takeRows(reference[column], refIdx);
    const cur = takeRows(current[column], curIdx);
    const override = m.columnSettings.columns?.[column] ?? {};
    const type = inferColumnType(ref);
    try {
      const r = columnDrift(ref, cur, { columnType: type, method: override.method as StattestName | undefined, threshold: override.threshold, column });
      return { column, type, method: r.method, threshold: r.threshold, score: r.score, drifted: r.drifted, statistic: r.statistic ?? null, p_value: r.pValue ?? null };
    } catch (err) {
      if (!(err instanceof DriftTestError)) throw err;
      return { column, type, method: override.method ?? "", threshold: override.threshold ?? null, score: null, drifted: false, error: err.message };
    }
  });
  const scored = columns.filter((c) => !c.error);
  const ds = scored.length ? datasetDrift(scored, m.driftShare) : { numberOfColumns: 0, numberOfDriftedColumns: 0, shareOfDriftedColumns: 0, datasetDrift: false };
  return {
    summary: {
      datasetDrift: ds.datasetDrift,
      driftShare: ds.shareOfDriftedColumns,
      numberOfColumns: ds.numberOfColumns,
      numberOfDriftedColumns: ds.numberOfDriftedColumns,
      columns,
      performance: null,
    },
    reference: sideDescriptor(referenceRead, refIdx.length),
    current: sideDescriptor(currentRead, curIdx.length),
    sampleSize: Math.max(refIdx.length, curIdx.length),
  };
}
