/**
 * The D1 side of tuning: one searchable summary row per study (name, directions, settings, counts per
 * state, best trial), mirrored from the study's Durable Object after each change with one UPDATE that
 * only lands when it is newer than what the row holds.
 */
import { and, eq, lt, sql, type SQL } from "drizzle-orm";
import type { Db } from "../db/client";
import { stringPredicate } from "../db/predicates";
import { studies } from "../db/schema";
import type { Comparison } from "../lib/mlflow-search";
import type { StudyConfig, StudySummary } from "../lib/tuning/study-state";

export type StudyRow = typeof studies.$inferSelect;

export class UnsupportedStudyFilter extends Error {}

const FILTER_COLUMNS: Record<string, SQL> = {
  name: sql.raw("name"),
  creation_time: sql.raw("creation_time"),
  last_update_time: sql.raw("last_update_time"),
};

function settingsOf(config: StudyConfig): string {
  return JSON.stringify({
    sampler: config.sampler,
    pruner: config.pruner,
    heartbeat_interval: config.heartbeatInterval,
    grace_period: config.gracePeriod,
    failed_trial_max_retry: config.failedTrialMaxRetry,
  });
}

function summaryColumns(summary: StudySummary) {
  const c = summary.state_counts;
  return {
    nTrials: summary.n_trials,
    nRunning: c.RUNNING,
    nComplete: c.COMPLETE,
    nPruned: c.PRUNED,
    nFail: c.FAIL,
    nWaiting: c.WAITING,
    bestValue: summary.best_value,
    bestTrial: summary.best_trial ? JSON.stringify(summary.best_trial) : null,
    lastUpdateTime: summary.last_update_time,
    revision: summary.revision,
  };
}

export class StudyStore {
  constructor(private readonly db: Db) {}

  /** Inserts the row; false when the name is taken. */
  async insert(config: StudyConfig, summary: StudySummary): Promise<boolean> {
    const rows = await this.db
      .insert(studies)
      .values({
        studyId: config.studyId,
        name: config.name,
        directions: JSON.stringify(config.directions),
        settings: settingsOf(config),
        experimentId: config.experimentId,
        userAttrs: JSON.stringify(config.userAttrs),
        creationTime: config.creationTime,
        ...summaryColumns(summary),
      })
      .onConflictDoNothing()
      .returning({ studyId: studies.studyId });
    return rows.length === 1;
  }

  /** One UPDATE; a summary older than the stored one (a reply that lost a race) changes nothing. */
  async mirrorSummary(studyId: string, info: { config: StudyConfig; summary: StudySummary }): Promise<void> {
    await this.db
      .update(studies)
      .set({ ...summaryColumns(info.summary), userAttrs: JSON.stringify(info.config.userAttrs) })
      .where(and(eq(studies.studyId, studyId), lt(studies.revision, info.summary.revision)));
  }

  async byId(studyId: string): Promise<StudyRow | undefined> {
    return this.db.select().from(studies).where(eq(studies.studyId, studyId)).get();
  }

  async byName(name: string): Promise<StudyRow | undefined> {
    return this.db.select().from(studies).where(eq(studies.name, name)).get();
  }

  /** Newest first; `filter` compares name, creation_time or last_update_time. */
  async search(filter: Comparison[], offset: number, limit: number): Promise<StudyRow[]> {
    const where = filter.map((c) => {
      const column = c.entity === "attribute" ? FILTER_COLUMNS[c.key] : undefined;
      if (!column) throw new UnsupportedStudyFilter(`Studies can be filtered by name, creation_time and last_update_time, not '${c.key}'`);
      return stringPredicate(column, c);
    });
    const cond = where.length ? sql.join(where, sql` AND `) : sql`1 = 1`;
    return this.db.select().from(studies).where(cond).orderBy(sql`creation_time DESC`, sql`study_id ASC`).limit(limit).offset(offset).all();
  }

  async delete(studyId: string): Promise<void> {
    await this.db.delete(studies).where(eq(studies.studyId, studyId));
  }
}
