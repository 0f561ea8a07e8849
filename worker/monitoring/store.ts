/**
 * D1 access for monitoring. Saving a report writes the summary, its per-column series rows, the
 * rules' new evaluation state and any alert events in one batch, so a report is either fully
 * recorded with its alerts or not at all.
 */
import { and, asc, desc, eq, gte, inArray, isNull, lte, sql, type SQL } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { Db } from "../db/client";
import { alertEvents, alertRules, monitorColumnScores, monitorReports, monitors } from "../db/schema";
import type { AlertEvent, AlertRule, ColumnResult, ColumnSettings, Descriptor, Monitor, MonitorReport } from "./model";

type MonitorRow = typeof monitors.$inferSelect;
type ReportRow = typeof monitorReports.$inferSelect;
type RuleRow = typeof alertRules.$inferSelect;
type EventRow = typeof alertEvents.$inferSelect;

/** 7 bound parameters per column row: 14 rows stay under D1's 100 per statement. */
const COLUMN_ROWS_PER_INSERT = 14;
/** Reports of checks Tern ran on dataset versions itself (cron, or a pipeline's drift_check task). */
const CHECK_SOURCES = ["schedule", "pipeline"];

const parseJson = <T>(s: string | null): T | null => (s === null ? null : (JSON.parse(s) as T));

const toMonitor = (r: MonitorRow): Monitor => ({ ...r, columnSettings: JSON.parse(r.columnSettings) as ColumnSettings });

const toReport = (r: ReportRow): MonitorReport => ({
  id: r.id,
  monitorId: r.monitorId,
  time: r.time,
  datasetDrift: r.datasetDrift,
  driftShare: r.driftShare,
  numberOfColumns: r.numberOfColumns,
  numberOfDriftedColumns: r.numberOfDriftedColumns,
  columns: JSON.parse(r.columns) as ColumnResult[],
  performance: parseJson<Record<string, number>>(r.performance),
  reference: parseJson<Descriptor>(r.reference),
  current: parseJson<Descriptor>(r.current),
  sampleSize: r.sampleSize,
  source: r.source,
});

const toRule = (r: RuleRow): AlertRule => r;
const toEvent = (r: EventRow): AlertEvent => r;

export type MonitorPatch = Partial<Omit<Monitor, "id" | "createdAt">>;
export type RulePatch = Partial<Omit<AlertRule, "id" | "monitorId" | "createdAt">>;

const monitorRow = (m: MonitorPatch) => {
  const { columnSettings, ...rest } = m;
  return columnSettings === undefined ? rest : { ...rest, columnSettings: JSON.stringify(columnSettings) };
};

export class MonitoringStore {
  constructor(private readonly db: Db) {}

  /** Inserts unless the name is taken; returns whether it was inserted. */
  async insertMonitor(m: Monitor): Promise<boolean> {
    const res = await this.db
      .insert(monitors)
      .values({ ...m, columnSettings: JSON.stringify(m.columnSettings) })
      .onConflictDoNothing()
      .run();
    return res.meta.changes > 0;
  }

  async getMonitor(id: string): Promise<Monitor | null> {
    const r = await this.db.select().from(monitors).where(eq(monitors.id, id)).get();
    return r ? toMonitor(r) : null;
  }

  async getMonitorByName(name: string): Promise<Monitor | null> {
    const r = await this.db.select().from(monitors).where(eq(monitors.name, name)).get();
    return r ? toMonitor(r) : null;
  }

  async monitorNameTaken(name: string, exceptId?: string): Promise<boolean> {
    const r = await this.db.select({ id: monitors.id }).from(monitors).where(eq(monitors.name, name)).get();
    return !!r && r.id !== exceptId;
  }

  async listMonitors(offset: number, limit: number): Promise<Monitor[]> {
    const rows = await this.db.select().from(monitors).orderBy(asc(monitors.name)).limit(limit).offset(offset).all();
    return rows.map(toMonitor);
  }

  async allMonitors(): Promise<Monitor[]> {
    return (await this.db.select().from(monitors).orderBy(asc(monitors.name)).all()).map(toMonitor);
  }

  async scheduledMonitors(): Promise<Monitor[]> {
    const rows = await this.db
      .select()
      .from(monitors)
      .where(and(sql`${monitors.schedule} IS NOT NULL`, eq(monitors.paused, false)))
      .all();
    return rows.map(toMonitor);
  }

  async updateMonitor(id: string, patch: MonitorPatch): Promise<void> {
    await this.db.update(monitors).set(monitorRow(patch)).where(eq(monitors.id, id));
  }

  async deleteMonitor(id: string): Promise<boolean> {
    const res = await this.db.delete(monitors).where(eq(monitors.id, id)).run();
    return res.meta.changes > 0;
  }

  /** The newest report of each given monitor. */
  async latestReports(monitorIds: string[]): Promise<Map<string, MonitorReport>> {
    const out = new Map<string, MonitorReport>();
    if (monitorIds.length === 0) return out;
    for (let i = 0; i < monitorIds.length; i += 90) {
      const ids = monitorIds.slice(i, i + 90);
      const rows = await this.db
        .select()
        .from(monitorReports)
        .where(
          and(
            inArray(monitorReports.monitorId, ids),
            sql`${monitorReports.id} = (SELECT r2.id FROM monitor_reports r2 WHERE r2.monitor_id = ${monitorReports.monitorId} ORDER BY r2.time DESC, r2.id DESC LIMIT 1)`,
          ),
        )
        .all();
      for (const r of rows) out.set(r.monitorId, toReport(r));
    }
    return out;
  }

  async reportCounts(): Promise<Map<string, number>> {
    const rows = await this.db
      .select({ monitorId: monitorReports.monitorId, n: sql<number>`count(*)` })
      .from(monitorReports)
      .groupBy(monitorReports.monitorId)
      .all();
    return new Map(rows.map((r) => [r.monitorId, Number(r.n)]));
  }

  /**
   * One batch: the report, its per-column rows, the rules' new state and the events. A rule whose
   * state changed since it was read (another report evaluated it meanwhile) is left as that report
   * set it: its update carries the state it was computed from.
   */
  async saveReport(report: MonitorReport, ruleUpdates: { rule: AlertRule; next: RulePatch }[], events: AlertEvent[]): Promise<void> {
    const stmts: BatchItem<"sqlite">[] = [
      this.db.insert(monitorReports).values({
        id: report.id,
        monitorId: report.monitorId,
        time: report.time,
        datasetDrift: report.datasetDrift,
        driftShare: report.driftShare,
        numberOfColumns: report.numberOfColumns,
        numberOfDriftedColumns: report.numberOfDriftedColumns,
        columns: JSON.stringify(report.columns),
        performance: report.performance ? JSON.stringify(report.performance) : null,
        reference: report.reference ? JSON.stringify(report.reference) : null,
        current: report.current ? JSON.stringify(report.current) : null,
        sampleSize: report.sampleSize,
        source: report.source,
      }),
    ];
    const columnRows = report.columns.map((c) => ({
      reportId: report.id,
      monitorId: report.monitorId,
      column: c.column,
      time: report.time,
      method: c.method,
      score: c.score,
      drifted: c.drifted,
    }));
    for (let i = 0; i < columnRows.length; i += COLUMN_ROWS_PER_INSERT) {
      stmts.push(this.db.insert(monitorColumnScores).values(columnRows.slice(i, i + COLUMN_ROWS_PER_INSERT)));
    }
    for (const { rule, next } of ruleUpdates) {
      stmts.push(this.db.update(alertRules).set(next).where(and(eq(alertRules.id, rule.id), eq(alertRules.updatedAt, rule.updatedAt))));
    }
    for (const e of events) stmts.push(this.db.insert(alertEvents).values(e));
    await this.db.batch(stmts as [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]]);
  }

  /** Monitors whose scheduled checks read a dataset version, as the reference or as the current data. */
  async monitorsOfVersion(versionId: string, limit: number): Promise<{ monitorId: string; role: "reference" | "current" }[]> {
    const rows = await this.db
      .selectDistinct({
        monitorId: monitorReports.monitorId,
        role: sql<"reference" | "current">`CASE WHEN json_extract(${monitorReports.current}, '$.dataset_version') = ${versionId} THEN 'current' ELSE 'reference' END`,
      })
      .from(monitorReports)
      .where(
        and(
          inArray(monitorReports.source, CHECK_SOURCES),
          sql`(json_extract(${monitorReports.current}, '$.dataset_version') = ${versionId} OR json_extract(${monitorReports.reference}, '$.dataset_version') = ${versionId})`,
        ),
      )
      .limit(limit);
    return rows;
  }

  /** The dataset versions a monitor's scheduled checks read, by role. */
  async versionsOfMonitor(monitorId: string, limit: number): Promise<{ versionId: string; role: "reference" | "current" }[]> {
    const of = (role: "reference" | "current") =>
      this.db
        .selectDistinct({ versionId: sql<string>`json_extract(${role === "current" ? monitorReports.current : monitorReports.reference}, '$.dataset_version')` })
        .from(monitorReports)
        .where(and(eq(monitorReports.monitorId, monitorId), inArray(monitorReports.source, CHECK_SOURCES)))
        .limit(limit);
    const [refs, curs] = await Promise.all([of("reference"), of("current")]);
    return [
      ...refs.filter((r) => r.versionId).map((r) => ({ versionId: r.versionId, role: "reference" as const })),
      ...curs.filter((r) => r.versionId).map((r) => ({ versionId: r.versionId, role: "current" as const })),
    ];
  }

  async listReports(monitorId: string, offset: number, limit: number): Promise<MonitorReport[]> {
    const rows = await this.db
      .select()
      .from(monitorReports)
      .where(eq(monitorReports.monitorId, monitorId))
      .orderBy(desc(monitorReports.time), desc(monitorReports.id))
      .limit(limit)
      .offset(offset)
      .all();
    return rows.map(toReport);
  }

  /** Report-level rows in a time range, oldest first. */
  async reportsInRange(monitorId: string, from: number | null, to: number | null, limit: number): Promise<MonitorReport[]> {
    const conds: SQL[] = [eq(monitorReports.monitorId, monitorId)];
    if (from !== null) conds.push(gte(monitorReports.time, from));
    if (to !== null) conds.push(lte(monitorReports.time, to));
    const rows = await this.db
      .select()
      .from(monitorReports)
      .where(and(...conds))
      .orderBy(asc(monitorReports.time), asc(monitorReports.id))
      .limit(limit)
      .all();
    return rows.map(toReport);
  }

  /** A column's scores in a time range, oldest first. */
  async columnSeries(monitorId: string, column: string, from: number | null, to: number | null, limit: number) {
    const conds: SQL[] = [eq(monitorColumnScores.monitorId, monitorId), eq(monitorColumnScores.column, column)];
    if (from !== null) conds.push(gte(monitorColumnScores.time, from));
    if (to !== null) conds.push(lte(monitorColumnScores.time, to));
    return this.db
      .select()
      .from(monitorColumnScores)
      .where(and(...conds))
      .orderBy(asc(monitorColumnScores.time), asc(monitorColumnScores.reportId))
      .limit(limit)
      .all();
  }

  async insertRule(rule: AlertRule): Promise<void> {
    await this.db.insert(alertRules).values(rule);
  }

  async getRule(monitorId: string, ruleId: string): Promise<AlertRule | null> {
    const r = await this.db
      .select()
      .from(alertRules)
      .where(and(eq(alertRules.id, ruleId), eq(alertRules.monitorId, monitorId)))
      .get();
    return r ? toRule(r) : null;
  }

  async listRules(monitorId: string): Promise<AlertRule[]> {
    const rows = await this.db.select().from(alertRules).where(eq(alertRules.monitorId, monitorId)).orderBy(asc(alertRules.createdAt), asc(alertRules.id)).all();
    return rows.map(toRule);
  }

  async allRules(): Promise<AlertRule[]> {
    return (await this.db.select().from(alertRules).all()).map(toRule);
  }

  async updateRule(ruleId: string, patch: RulePatch): Promise<void> {
    await this.db.update(alertRules).set(patch).where(eq(alertRules.id, ruleId));
  }

  async deleteRule(monitorId: string, ruleId: string): Promise<boolean> {
    const res = await this.db
      .delete(alertRules)
      .where(and(eq(alertRules.id, ruleId), eq(alertRules.monitorId, monitorId)))
      .run();
    return res.meta.changes > 0;
  }

  async listEvents(monitorId: string, offset: number, limit: number): Promise<AlertEvent[]> {
    const rows = await this.db
      .select()
      .from(alertEvents)
      .where(eq(alertEvents.monitorId, monitorId))
      .orderBy(desc(alertEvents.time), desc(alertEvents.id))
      .limit(limit)
      .offset(offset)
      .all();
    return rows.map(toEvent);
  }

  async getEvents(ids: string[]): Promise<AlertEvent[]> {
    if (ids.length === 0) return [];
    const out: AlertEvent[] = [];
    for (let i = 0; i < ids.length; i += 90) out.push(...(await this.db.select().from(alertEvents).where(inArray(alertEvents.id, ids.slice(i, i + 90))).all()));
    return out;
  }

  /** Events whose webhook try is due. */
  async dueDeliveries(now: number, limit: number): Promise<AlertEvent[]> {
    return this.db
      .select()
      .from(alertEvents)
      .where(and(eq(alertEvents.deliveryStatus, "pending"), lte(alertEvents.nextAttemptAt, now)))
      .orderBy(asc(alertEvents.nextAttemptAt))
      .limit(limit)
      .all();
  }

  /**
   * Records one try, only if no other try was recorded since this one started (the attempt count is
   * the guard), so a retry racing the first try does not count twice. Returns whether it was recorded.
   */
  async recordAttempt(eventId: string, attemptsBefore: number, patch: Partial<AlertEvent>): Promise<boolean> {
    const res = await this.db
      .update(alertEvents)
      .set(patch)
      .where(and(eq(alertEvents.id, eventId), eq(alertEvents.attempts, attemptsBefore)))
      .run();
    return res.meta.changes > 0;
  }

  /** Claims a due try by pushing its due time forward; false when another caller claimed it first. */
  async claimDelivery(eventId: string, attemptsBefore: number, until: number): Promise<boolean> {
    const res = await this.db
      .update(alertEvents)
      .set({ nextAttemptAt: until })
      .where(and(eq(alertEvents.id, eventId), eq(alertEvents.attempts, attemptsBefore), eq(alertEvents.deliveryStatus, "pending")))
      .run();
    return res.meta.changes > 0;
  }

  async setMonitorChecked(id: string, version: string | null, at: number): Promise<void> {
    await this.db.update(monitors).set({ lastCheckedVersion: version, lastCheckedAt: at }).where(eq(monitors.id, id));
  }

  /**
   * Claims a scheduled tick: moves last_checked_at from what the caller read to `at`, only if nobody
   * moved it in between. True when this caller got the tick (two deliveries of one cron minute: one does).
   */
  async claimScheduledCheck(id: string, readLastCheckedAt: number | null, at: number): Promise<boolean> {
    const r = await this.db
      .update(monitors)
      .set({ lastCheckedAt: at })
      .where(and(eq(monitors.id, id), readLastCheckedAt === null ? isNull(monitors.lastCheckedAt) : eq(monitors.lastCheckedAt, readLastCheckedAt)))
      .run();
    return r.meta.changes === 1;
  }
}
