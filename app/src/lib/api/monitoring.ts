/**
 * The app's client of the monitoring API: monitors, their reports and series, alert rules and
 * alert events. Wire shapes mirror worker/monitoring/routes.ts.
 */
import type { MonitorReportInput } from "../drift/report";
import { request } from "./client";

export interface MonitorModelRef {
  name: string;
  alias: string | null;
  version: number | null;
}

export interface MonitorColumnSettings {
  columns?: Record<string, { method?: string; threshold?: number }>;
  ignore?: string[];
}

export interface Monitor {
  id: string;
  name: string;
  description: string | null;
  model: MonitorModelRef;
  reference_dataset_version: string | null;
  current_dataset: string | null;
  column_settings: MonitorColumnSettings;
  drift_share: number;
  schedule: string | null;
  paused: boolean;
  last_checked_version: string | null;
  last_checked_at: number | null;
  created_at: number;
  updated_at: number;
}

export interface MonitorListItem {
  monitor: Monitor;
  latest: { report_id: string; time: number; drift_share: number; dataset_drift: boolean } | null;
  firing_rules: number;
}

export interface MonitorColumnResult {
  column: string;
  type: "num" | "cat" | "text";
  method: string;
  threshold: number | null;
  score: number | null;
  drifted: boolean;
  statistic?: number | null;
  p_value?: number | null;
  error?: string | null;
}

export interface MonitorReport {
  id: string;
  monitor_id: string;
  time: number;
  summary: {
    dataset_drift: boolean;
    drift_share: number;
    number_of_columns: number;
    number_of_drifted_columns: number;
    columns: MonitorColumnResult[];
    performance: Record<string, number> | null;
  };
  reference: Record<string, unknown> | null;
  current: Record<string, unknown> | null;
  sample_size: number | null;
  source: string;
}

export interface SeriesPoint {
  time: number;
  value: number;
  report_id: string;
}

export type AlertOperator = ">" | ">=" | "<" | "<=";

export interface AlertRule {
  id: string;
  monitor_id: string;
  name: string;
  series: string;
  operator: AlertOperator;
  threshold: number;
  for_checks: number;
  webhook_url: string | null;
  pipeline_id: string | null;
  enabled: boolean;
  state: "ok" | "firing";
  consecutive: number;
  last_value: number | null;
  last_evaluated_at: number | null;
  created_at: number;
  updated_at: number;
}

export interface AlertRuleInput {
  name?: string;
  series: string;
  operator: AlertOperator;
  threshold: number;
  for_checks?: number;
  webhook_url?: string | null;
  pipeline_id?: string | null;
  enabled?: boolean;
}

export interface AlertEvent {
  id: string;
  rule_id: string;
  monitor_id: string;
  report_id: string | null;
  kind: "fired" | "resolved";
  time: number;
  value: number | null;
  delivery: { status: "none" | "pending" | "delivered" | "failed"; attempts: number; next_attempt_at: number | null; last_attempt_at: number | null; last_error: string | null };
  pipeline: { run_id: string | null; note: string | null };
}

export interface MonitorInput {
  name: string;
  description?: string | null;
  model: { name: string; alias?: string | null; version?: number | null };
  reference_dataset_version?: string | null;
  current_dataset?: string | null;
  column_settings?: MonitorColumnSettings;
  drift_share?: number;
  schedule?: string | null;
  paused?: boolean;
}

const V1 = "/api/v1";
const enc = encodeURIComponent;
const qs = (params: Record<string, string | number | undefined>) => {
  const s = new URLSearchParams(Object.entries(params).flatMap(([k, v]) => (v === undefined ? [] : [[k, String(v)]]))).toString();
  return s ? `?${s}` : "";
};

export const monitoringApi = {
  listMonitors: (pageToken?: string, maxResults = 100) =>
    request<{ monitors: MonitorListItem[]; next_page_token: string | null }>("GET", `${V1}/monitors${qs({ page_token: pageToken, max_results: maxResults })}`),
  createMonitor: (input: MonitorInput) => request<{ monitor: Monitor }>("POST", `${V1}/monitors`, input).then((r) => r.monitor),
  getMonitor: (id: string) => request<{ monitor: Monitor }>("GET", `${V1}/monitors/${enc(id)}`).then((r) => r.monitor),
  updateMonitor: (id: string, patch: Partial<MonitorInput>) => request<{ monitor: Monitor }>("PATCH", `${V1}/monitors/${enc(id)}`, patch).then((r) => r.monitor),
  deleteMonitor: (id: string) => request<{ deleted: true }>("DELETE", `${V1}/monitors/${enc(id)}`),
  listMonitorReports: (id: string, pageToken?: string, maxResults = 20) =>
    request<{ reports: MonitorReport[]; next_page_token: string | null }>("GET", `${V1}/monitors/${enc(id)}/reports${qs({ page_token: pageToken, max_results: maxResults })}`),
  /** Checks the newest version of the monitor's current dataset (or the one named) in the Worker now. */
  checkMonitor: (id: string, datasetVersion?: string) =>
    request<{ report: MonitorReport }>("POST", `${V1}/monitors/${enc(id)}/check`, datasetVersion ? { dataset_version: datasetVersion } : {}).then((r) => r.report),
  monitorSeries: (id: string, name: string, from?: number, to?: number) =>
    request<{ series: string; points: SeriesPoint[] }>("GET", `${V1}/monitors/${enc(id)}/series${qs({ name, from, to })}`).then((r) => r.points),
  listAlertRules: (id: string) => request<{ rules: AlertRule[] }>("GET", `${V1}/monitors/${enc(id)}/rules`).then((r) => r.rules),
  createAlertRule: (id: string, input: AlertRuleInput) => request<{ rule: AlertRule }>("POST", `${V1}/monitors/${enc(id)}/rules`, input).then((r) => r.rule),
  updateAlertRule: (id: string, ruleId: string, patch: Partial<AlertRuleInput>) =>
    request<{ rule: AlertRule }>("PATCH", `${V1}/monitors/${enc(id)}/rules/${enc(ruleId)}`, patch).then((r) => r.rule),
  deleteAlertRule: (id: string, ruleId: string) => request<{ deleted: true }>("DELETE", `${V1}/monitors/${enc(id)}/rules/${enc(ruleId)}`),
  listMonitorAlerts: (id: string, pageToken?: string, maxResults = 20) =>
    request<{ alerts: AlertEvent[]; next_page_token: string | null }>("GET", `${V1}/monitors/${enc(id)}/alerts${qs({ page_token: pageToken, max_results: maxResults })}`),
  activeAlerts: () => request<{ alerts: { monitor: { id: string; name: string }; rule: AlertRule }[] }>("GET", `${V1}/alerts`).then((r) => r.alerts),
};

/** Model reference as people write it: name@alias or name/version. */
export function formatModelRef(m: MonitorModelRef): string {
  if (m.alias) return `${m.name}@${m.alias}`;
  if (m.version != null) return `${m.name} v${m.version}`;
  return m.name;
}


/** Save a report computed in this browser to a monitor; its alert rules are evaluated on the server. */
export function saveMonitorReport(monitorId: string, body: MonitorReportInput) {
  return request<{ report: MonitorReport; alerts: AlertEvent[] }>("POST", `${V1}/monitors/${enc(monitorId)}/reports`, body);
}
