/** D1 access for pipelines: pipelines and their versions, runs, and the task-instance mirror. */
import { and, asc, desc, eq, inArray, isNull, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { pipelineRunLinks, pipelineRuns, pipelines, pipelineTaskInstances, pipelineVersions, systemState } from "../db/schema";

export type PipelineRow = typeof pipelines.$inferSelect;
export type PipelineVersionRow = typeof pipelineVersions.$inferSelect;
export type PipelineRunRow = typeof pipelineRuns.$inferSelect;
export type TaskInstanceRow = typeof pipelineTaskInstances.$inferSelect;
export type RunLinkRow = typeof pipelineRunLinks.$inferSelect;

/** D1 binds at most 100 parameters per statement. */
const MAX_PARAMS = 100;
const chunk = <T>(rows: T[], columns: number): T[][] => {
  const size = Math.max(1, Math.floor(MAX_PARAMS / columns));
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += size) out.push(rows.slice(i, i + size));
  return out;
};

export interface LastRun {
  pipelineId: string;
  runId: string;
  state: PipelineRunRow["state"];
  logicalDate: number;
}

const ORIGINS_KEY = "pipelines.self_origins";
const MAX_ORIGINS = 8;

export class PipelineStore {
  constructor(private readonly db: Db) {}

  /** Origins Tern has been reached at (http tasks may not call them), newest first. */
  async knownOrigins(): Promise<string[]> {
    const row = await this.db.select().from(systemState).where(eq(systemState.key, ORIGINS_KEY)).get();
    return row ? (JSON.parse(row.value) as string[]) : [];
  }

  async rememberOrigin(origin: string, at: number): Promise<string[]> {
    const known = await this.knownOrigins();
    if (known.includes(origin)) return known;
    const next = [origin, ...known].slice(0, MAX_ORIGINS);
    const value = JSON.stringify(next);
    await this.db.insert(systemState).values({ key: ORIGINS_KEY, value, updatedAt: at }).onConflictDoUpdate({ target: systemState.key, set: { value, updatedAt: at } });
    return next;
  }

  async insertPipeline(p: PipelineRow, v: PipelineVersionRow): Promise<void> {
    await this.db.batch([this.db.insert(pipelines).values(p), this.db.insert(pipelineVersions).values(v)]);
  }

  /** Adds version v.version if the pipeline is still at v.version - 1; false when someone got there first. */
  async addVersion(v: PipelineVersionRow): Promise<boolean> {
    const [, updated] = await this.db.batch([
      this.db.insert(pipelineVersions).values(v).onConflictDoNothing(),
      this.db
        .update(pipelines)
        .set({ latestVersion: v.version, updatedAt: v.createdAt })
        .where(and(eq(pipelines.pipelineId, v.pipelineId), eq(pipelines.latestVersion, v.version - 1)))
        .returning({ id: pipelines.pipelineId }),
    ]);
    return updated.length === 1;
  }

  async getPipeline(id: string): Promise<PipelineRow | undefined> {
    return this.db.select().from(pipelines).where(eq(pipelines.pipelineId, id)).get();
  }

  async getPipelineByName(name: string): Promise<PipelineRow | undefined> {
    return this.db.select().from(pipelines).where(eq(pipelines.name, name)).get();
  }

  async getVersion(id: string, version: number): Promise<PipelineVersionRow | undefined> {
    return this.db
      .select()
      .from(pipelineVersions)
      .where(and(eq(pipelineVersions.pipelineId, id), eq(pipelineVersions.version, version)))
      .get();
  }

  /** Every pipeline with its latest version's spec, by name. */
  async listWithLatest(): Promise<{ pipeline: PipelineRow; version: PipelineVersionRow }[]> {
    const rows = await this.db
      .select({ pipeline: pipelines, version: pipelineVersions })
      .from(pipelines)
      .innerJoin(pipelineVersions, and(eq(pipelineVersions.pipelineId, pipelines.pipelineId), eq(pipelineVersions.version, pipelines.latestVersion)))
      .orderBy(asc(pipelines.name))
      .all();
    return rows;
  }

  /** The newest `perPipeline` runs of each pipeline (by logical date). */
  async lastRuns(perPipeline: number): Promise<LastRun[]> {
    return this.db.all<LastRun>(sql`
      SELECT pipeline_id AS pipelineId, run_id AS runId, state, logical_date AS logicalDate FROM (
        SELECT pipeline_id, run_id, state, logical_date,
               ROW_NUMBER() OVER (PARTITION BY pipeline_id ORDER BY logical_date DESC) AS n
        FROM pipeline_runs)
      WHERE n <= ${perPipeline} ORDER BY pipelineId, logicalDate DESC`);
  }

  /** The newest logical date the scheduler made a run for, per pipeline. */
  async lastScheduled(pipelineIds: string[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (const ids of chunk(pipelineIds, 1)) {
      const rows = await this.db
        .select({ id: pipelineRuns.pipelineId, last: sql<number>`max(${pipelineRuns.logicalDate})` })
        .from(pipelineRuns)
        .where(and(inArray(pipelineRuns.pipelineId, ids), eq(pipelineRuns.runType, "scheduled")))
        .groupBy(pipelineRuns.pipelineId)
        .all();
      for (const r of rows) if (r.last !== null) out.set(r.id, r.last);
    }
    return out;
  }

  async setPaused(id: string, paused: boolean, at: number): Promise<void> {
    await this.db.update(pipelines).set({ paused, updatedAt: at }).where(eq(pipelines.pipelineId, id));
  }

  async deletePipeline(id: string): Promise<void> {
    await this.db.batch([
      this.db.delete(pipelineRunLinks).where(inArray(pipelineRunLinks.runId, this.db.select({ id: pipelineRuns.runId }).from(pipelineRuns).where(eq(pipelineRuns.pipelineId, id)))),
      this.db.delete(pipelineTaskInstances).where(inArray(pipelineTaskInstances.runId, this.db.select({ id: pipelineRuns.runId }).from(pipelineRuns).where(eq(pipelineRuns.pipelineId, id)))),
      this.db.delete(pipelineRuns).where(eq(pipelineRuns.pipelineId, id)),
      this.db.delete(pipelineVersions).where(eq(pipelineVersions.pipelineId, id)),
      this.db.delete(pipelines).where(eq(pipelines.pipelineId, id)),
    ]);
  }

  /**
   * Inserts runs, skipping any whose (pipeline, logical date) already exists: the unique key makes a
   * cron tick delivered twice, or two overlapping ticks, create one run. Returns the ids it inserted.
   */
  async insertRuns(rows: PipelineRunRow[]): Promise<string[]> {
    if (!rows.length) return [];
    const statements = chunk(rows, 13).map((part) =>
      this.db.insert(pipelineRuns).values(part).onConflictDoNothing({ target: [pipelineRuns.pipelineId, pipelineRuns.logicalDate] }).returning({ runId: pipelineRuns.runId }),
    );
    const results = await this.db.batch(statements as [(typeof statements)[0], ...typeof statements]);
    return results.flat().map((r) => r.runId);
  }

  /**
   * Inserts a triggered run with the link to what triggered it, in one batch. Returns "inserted", or
   * "duplicate" when the pipeline already has a run for that trigger, or "date_taken" when only the
   * logical date collided (the caller moves it and tries again).
   */
  async insertTriggeredRun(row: PipelineRunRow & { triggerKey: string }, link: Omit<RunLinkRow, "runId" | "taskId" | "createdAt">): Promise<"inserted" | "duplicate" | "date_taken"> {
    const [inserted] = await this.db.batch([
      this.db.insert(pipelineRuns).values(row).onConflictDoNothing().returning({ runId: pipelineRuns.runId }),
      // Written only if the run row went in: the link names the run just inserted, or nothing.
      this.db
        .insert(pipelineRunLinks)
        .select(
          this.db
            .select({
              runId: pipelineRuns.runId,
              taskId: sql<string>`''`.as("task_id"),
              nodeKind: sql<string>`${link.nodeKind}`.as("node_kind"),
              nodeKey: sql<string>`${link.nodeKey}`.as("node_key"),
              edge: sql<string>`${link.edge}`.as("edge"),
              direction: sql<"input" | "output">`${link.direction}`.as("direction"),
              createdAt: pipelineRuns.createdAt,
            })
            .from(pipelineRuns)
            .where(eq(pipelineRuns.runId, row.runId)),
        )
        .onConflictDoNothing(),
    ]);
    if (inserted.length) return "inserted";
    const existing = await this.db
      .select({ id: pipelineRuns.runId })
      .from(pipelineRuns)
      .where(and(eq(pipelineRuns.pipelineId, row.pipelineId), eq(pipelineRuns.triggerKey, row.triggerKey)))
      .get();
    return existing ? "duplicate" : "date_taken";
  }

  /** Records what a run's task read or made; repeating a link is a no-op. */
  async addLinks(rows: RunLinkRow[]): Promise<void> {
    if (!rows.length) return;
    const statements = chunk(rows, 7).map((part) => this.db.insert(pipelineRunLinks).values(part).onConflictDoNothing());
    await this.db.batch(statements as [(typeof statements)[0], ...typeof statements]);
  }

  /** Whether a run of the pipeline made this object (a snapshot's version), so it must not trigger it. */
  async runOfPipelineMade(pipelineId: string, nodeKey: string): Promise<boolean> {
    const row = await this.db
      .select({ id: pipelineRunLinks.runId })
      .from(pipelineRunLinks)
      .innerJoin(pipelineRuns, eq(pipelineRuns.runId, pipelineRunLinks.runId))
      .where(and(eq(pipelineRuns.pipelineId, pipelineId), eq(pipelineRunLinks.nodeKey, nodeKey), eq(pipelineRunLinks.direction, "output")))
      .get();
    return !!row;
  }

  async linksOfRun(runId: string, limit: number): Promise<RunLinkRow[]> {
    return this.db.select().from(pipelineRunLinks).where(eq(pipelineRunLinks.runId, runId)).orderBy(asc(pipelineRunLinks.createdAt)).limit(limit).all();
  }

  async linksToNode(nodeKind: string, nodeKey: string, limit: number): Promise<RunLinkRow[]> {
    return this.db
      .select()
      .from(pipelineRunLinks)
      .where(and(eq(pipelineRunLinks.nodeKind, nodeKind), eq(pipelineRunLinks.nodeKey, nodeKey)))
      .orderBy(desc(pipelineRunLinks.createdAt))
      .limit(limit)
      .all();
  }

  async getRun(runId: string): Promise<PipelineRunRow | undefined> {
    return this.db.select().from(pipelineRuns).where(eq(pipelineRuns.runId, runId)).get();
  }

  async listRuns(pipelineId: string, limit: number, offset: number): Promise<PipelineRunRow[]> {
    return this.db
      .select()
      .from(pipelineRuns)
      .where(eq(pipelineRuns.pipelineId, pipelineId))
      .orderBy(desc(pipelineRuns.logicalDate), desc(pipelineRuns.runId))
      .limit(limit)
      .offset(offset)
      .all();
  }

  async runsInState(pipelineId: string, states: PipelineRunRow["state"][], limit: number): Promise<PipelineRunRow[]> {
    return this.db
      .select()
      .from(pipelineRuns)
      .where(and(eq(pipelineRuns.pipelineId, pipelineId), inArray(pipelineRuns.state, states)))
      .orderBy(asc(pipelineRuns.logicalDate))
      .limit(limit)
      .all();
  }

  /**
   * Takes a run slot: moves the run from queued (or `from`) to running only if, at that instant, the pipeline is not
   * paused and has fewer than `maxActiveRuns` running runs. One UPDATE with its checks as subqueries:
   * SQLite runs a statement atomically and D1 runs a database's statements one at a time, so concurrent
   * starters (cron tick, triggers, a finished run freeing its slot) can never take more slots than exist.
   * A slot is a D1 run row in state running; the run's object only mirrors it from then on.
   */
  async claimRunSlot(pipelineId: string, runId: string, maxActiveRuns: number, from: PipelineRunRow["state"][] = ["queued"]): Promise<boolean> {
    const rows = await this.db
      .update(pipelineRuns)
      .set({ state: "running" })
      .where(
        and(
          eq(pipelineRuns.runId, runId),
          eq(pipelineRuns.pipelineId, pipelineId),
          inArray(pipelineRuns.state, from),
          sql`(SELECT p.paused FROM pipelines AS p WHERE p.pipeline_id = ${pipelineId}) = 0`,
          sql`(SELECT count(*) FROM pipeline_runs AS r WHERE r.pipeline_id = ${pipelineId} AND r.state = 'running') < ${maxActiveRuns}`,
        ),
      )
      .returning({ runId: pipelineRuns.runId });
    return rows.length === 1;
  }

  /** Runs whose slot was taken but whose object has not reported a start yet (their starter may have died). */
  async claimedNotStarted(limit: number): Promise<PipelineRunRow[]> {
    return this.db
      .select()
      .from(pipelineRuns)
      .where(and(eq(pipelineRuns.state, "running"), isNull(pipelineRuns.startedAt)))
      .orderBy(asc(pipelineRuns.createdAt))
      .limit(limit)
      .all();
  }

  /** A finished run whose tasks were cleared waits for a slot again, as if new; false when it is no longer `from`. */
  async requeueRun(runId: string, from: PipelineRunRow["state"]): Promise<boolean> {
    const rows = await this.db
      .update(pipelineRuns)
      .set({ state: "queued", startedAt: null, endedAt: null })
      .where(and(eq(pipelineRuns.runId, runId), eq(pipelineRuns.state, from)))
      .returning({ runId: pipelineRuns.runId });
    return rows.length === 1;
  }

  /** Gives back a slot taken for a run whose restart then failed. */
  async releaseRunSlot(runId: string, to: PipelineRunRow["state"]): Promise<void> {
    await this.db.update(pipelineRuns).set({ state: to }).where(and(eq(pipelineRuns.runId, runId), eq(pipelineRuns.state, "running")));
  }

  /** A queued run becomes failed without ever starting; false when it is no longer queued (it started). */
  async failQueuedRun(runId: string, at: number): Promise<boolean> {
    const rows = await this.db
      .update(pipelineRuns)
      .set({ state: "failed", endedAt: at })
      .where(and(eq(pipelineRuns.runId, runId), eq(pipelineRuns.state, "queued")))
      .returning({ runId: pipelineRuns.runId });
    return rows.length === 1;
  }

  async countRuns(pipelineId: string, state: PipelineRunRow["state"]): Promise<number> {
    const row = await this.db
      .select({ n: sql<number>`count(*)` })
      .from(pipelineRuns)
      .where(and(eq(pipelineRuns.pipelineId, pipelineId), eq(pipelineRuns.state, state)))
      .get();
    return row?.n ?? 0;
  }

  /** Pipelines that have queued runs waiting for a slot. */
  async pipelinesWithQueuedRuns(): Promise<string[]> {
    const rows = await this.db.selectDistinct({ id: pipelineRuns.pipelineId }).from(pipelineRuns).where(eq(pipelineRuns.state, "queued")).all();
    return rows.map((r) => r.id);
  }

  /** The mirror write of a run: its row and its changed task instances, in one batch. */
  async mirror(runId: string, run: Partial<Pick<PipelineRunRow, "state" | "startedAt" | "endedAt">> | null, tasks: TaskInstanceRow[]): Promise<void> {
    const statements = [];
    if (run) statements.push(this.db.update(pipelineRuns).set(run).where(eq(pipelineRuns.runId, runId)));
    for (const part of chunk(tasks, 11)) {
      statements.push(
        this.db
          .insert(pipelineTaskInstances)
          .values(part)
          .onConflictDoUpdate({
            target: [pipelineTaskInstances.runId, pipelineTaskInstances.taskId],
            set: {
              state: sql`excluded.state`,
              tryNumber: sql`excluded.try_number`,
              queue: sql`excluded.queue`,
              queuedAt: sql`excluded.queued_at`,
              startedAt: sql`excluded.started_at`,
              endedAt: sql`excluded.ended_at`,
              output: sql`excluded.output`,
              error: sql`excluded.error`,
              updatedAt: sql`excluded.updated_at`,
            },
          }),
      );
    }
    if (!statements.length) return;
    await this.db.batch(statements as [(typeof statements)[0], ...typeof statements]);
  }

  async taskInstances(runIds: string[]): Promise<TaskInstanceRow[]> {
    const out: TaskInstanceRow[] = [];
    for (const ids of chunk(runIds, 1)) out.push(...(await this.db.select().from(pipelineTaskInstances).where(inArray(pipelineTaskInstances.runId, ids)).all()));
    return out;
  }

  /** Agent tasks waiting on a queue, oldest first. */
  async queuedAgentTasks(queue: string, limit: number): Promise<{ runId: string; taskId: string; tryNumber: number }[]> {
    return this.db
      .select({ runId: pipelineTaskInstances.runId, taskId: pipelineTaskInstances.taskId, tryNumber: pipelineTaskInstances.tryNumber })
      .from(pipelineTaskInstances)
      .where(and(eq(pipelineTaskInstances.queue, queue), eq(pipelineTaskInstances.state, "queued")))
      .orderBy(asc(pipelineTaskInstances.queuedAt))
      .limit(limit)
      .all();
  }
}
