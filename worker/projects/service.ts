/**
 * Project runs on agents, and reproductions. A run recorded by `tern run` carries everything needed to
 * run it again: git remote and commit (and the diff when the tree was dirty), entry point, params and
 * dataset versions. `submit` hands a SCHEDULED run to a pipeline agent: a one-task run of the pipeline
 * `tern-runs-<queue>`, whose agent task is `tern run --execute <run id>`. `reproduce` first records a
 * new SCHEDULED run in the same experiment with the original's code, params and data (tagged
 * tern.reproduction_of), then submits it. `compare` / `reproductions` judge the result.
 */
import { ApiError, invalid } from "../http/errors";
import { compareRuns, type RunComparison, type RunFacts } from "../lib/projects/compare";
import { parseVersionSource, sourceText } from "../lib/lineage";
import type { ArtifactService } from "../artifacts/service";
import type { PipelineService } from "../pipelines/service";
import type { Run } from "../tracking/model";
import type { TrackingService } from "../tracking/service";

export const TAG_REPRODUCTION_OF = "tern.reproduction_of";
export const TAG_PIPELINE_RUN = "tern.pipeline_run_id";
export const DEFAULT_QUEUE = "default";
const QUEUE = /^[A-Za-z0-9_.-]{1,64}$/;
/** The tags that describe what a run ran; a reproduction copies these and nothing else. */
const COPIED_TAG = /^(mlflow\.source\.|mlflow\.project\.|mlflow\.gitRepoURL$|mlflow\.gitBranchName$|tern\.project\.|tern\.git\.)/;
const MAX_ARTIFACTS_COMPARED = 1000;
/** Artifacts per comparison whose ETags differ at equal size and are hashed to settle it. */
const MAX_ARTIFACTS_HASHED = 50;
const MAX_REPRODUCTIONS = 100;

export interface Submitted {
  run_id: string;
  pipeline_id: string;
  pipeline_run_id: string;
  queue: string;
}

const tagsOf = (run: Run) => Object.fromEntries(run.data.tags.map((t) => [t.key, t.value]));

/** The pipeline spec whose one agent task runs a recorded run. */
export function executorSpec(queue: string) {
  return {
    description: `Runs recorded project runs (tern run --remote, reproductions) on agents of queue '${queue}'`,
    tasks: { run: { kind: "agent", queue, command: "tern run --execute {{ conf.run_id }}" } },
  };
}

export class ProjectRunService {
  constructor(
    private readonly tracking: TrackingService,
    private readonly pipelines: PipelineService,
    private readonly artifacts: ArtifactService,
  ) {}

  /** Why a run cannot be run again from its records, or null when it can. */
  private unrunnable(run: Run): string | null {
    const t = tagsOf(run);
    const id = run.info.runId;
    if (t["mlflow.source.type"] !== "PROJECT" || !t["mlflow.project.entryPoint"]) return `Run ${id} was not started from a project (no mlflow.project.entryPoint tag): only runs of \`tern run\` can be run again`;
    if (!t["mlflow.source.git.commit"]) return `Run ${id} has no recorded git commit (mlflow.source.git.commit): it did not run from a git repository`;
    if (!t["mlflow.source.git.repoURL"]) return `Run ${id} has no recorded git remote (mlflow.source.git.repoURL): an agent could not fetch its code`;
    return null;
  }

  private checkQueue(queue: string): void {
    if (!QUEUE.test(queue)) throw invalid(`queue: '${queue}' is not a queue name (1-64 letters, digits, '_', '.' or '-')`);
  }

  private async executorPipeline(queue: string, selfOrigin: string | null): Promise<string> {
    const name = `tern-runs-${queue}`;
    const existing = await this.pipelines.idByName(name);
    if (existing) return existing;
    try {
      return (await this.pipelines.create({ name, spec: executorSpec(queue) }, selfOrigin)).pipeline_id;
    } catch (err) {
      // Two first submissions at once: the other one created it.
      if (err instanceof ApiError && err.code === "RESOURCE_ALREADY_EXISTS") {
        const id = await this.pipelines.idByName(name);
        if (id) return id;
      }
      throw err;
    }
  }

  /** Hands a SCHEDULED project run to an agent of `queue`. */
  async submit(runId: string, queue: string, selfOrigin: string | null): Promise<Submitted> {
    this.checkQueue(queue);
    const run = await this.tracking.getRun(runId);
    if (run.info.lifecycleStage !== "active") throw new ApiError("INVALID_STATE", `Run ${runId} is deleted`);
    const why = this.unrunnable(run);
    if (why) throw invalid(why);
    if (run.info.status !== "SCHEDULED") throw new ApiError("INVALID_STATE", `Run ${runId} is ${run.info.status}: only a SCHEDULED run can be submitted (tern run --remote records one)`);
    if (tagsOf(run)[TAG_PIPELINE_RUN]) throw new ApiError("INVALID_STATE", `Run ${runId} was already submitted (pipeline run ${tagsOf(run)[TAG_PIPELINE_RUN]})`);
    const pipelineId = await this.executorPipeline(queue, selfOrigin);
    const { run_id: pipelineRunId } = await this.pipelines.trigger(pipelineId, { conf: { run_id: runId } }, selfOrigin);
    await this.tracking.logBatch(runId, { metrics: [], params: [], tags: [{ key: TAG_PIPELINE_RUN, value: pipelineRunId }] });
    return { run_id: runId, pipeline_id: pipelineId, pipeline_run_id: pipelineRunId, queue };
  }

  /** Records a reproduction of a finished project run and submits it. */
  async reproduce(runId: string, queue: string, selfOrigin: string | null): Promise<Submitted> {
    this.checkQueue(queue);
    const original = await this.tracking.getRun(runId);
    if (original.info.lifecycleStage !== "active") throw new ApiError("INVALID_STATE", `Run ${runId} is deleted`);
    const why = this.unrunnable(original);
    if (why) throw invalid(why);
    if (original.info.status === "RUNNING" || original.info.status === "SCHEDULED") throw new ApiError("INVALID_STATE", `Run ${runId} is ${original.info.status}: reproduce it once it has ended`);
    const t = tagsOf(original);
    if (t["tern.git.dirty"] === "true" && !t["tern.git.diff"]) throw new ApiError("INVALID_STATE", `Run ${runId} ran on a dirty work tree whose diff was not recorded: its code cannot be rebuilt`);

    const tags = original.data.tags.filter((x) => COPIED_TAG.test(x.key));
    tags.push({ key: TAG_REPRODUCTION_OF, value: runId });
    const created = await this.tracking.createRun({
      experimentId: original.info.experimentId,
      runName: `${original.info.runName}-reproduction`.slice(0, 250),
      startTime: Date.now(),
      tags,
    });
    const newId = created.info.runId;
    try {
      const params = original.data.params;
      for (let i = 0; i < params.length; i += 100) await this.tracking.logBatch(newId, { metrics: [], params: params.slice(i, i + 100), tags: [] });
      if (original.inputs.datasetInputs.length) await this.tracking.logInputs(newId, original.inputs.datasetInputs);
      if (t["tern.git.diff"]) await this.artifacts.copyRunArtifact(original.info.artifactUri, created.info.artifactUri, t["tern.git.diff"]);
      await this.tracking.updateRun(newId, { status: "SCHEDULED" });
      return await this.submit(newId, queue, selfOrigin);
    } catch (err) {
      // Leave no half-made reproduction behind.
      await this.tracking.deleteRun(newId).catch(() => {});
      throw err;
    }
  }

  private async facts(run: Run): Promise<RunFacts> {
    const tree = await this.artifacts.runTree(run.info.artifactUri, MAX_ARTIFACTS_COMPARED).catch(() => ({ files: [], truncated: false }));
    return {
      run_id: run.info.runId,
      status: run.info.status,
      params: Object.fromEntries(run.data.params.map((p) => [p.key, p.value])),
      metrics: Object.fromEntries(run.data.metrics.map((m) => [m.key, Number.isNaN(m.value) ? null : m.value])),
      data: run.inputs.datasetInputs.map((i) => {
        const ref = parseVersionSource(sourceText(i.dataset.source));
        return { name: i.dataset.name, version: ref ? `${ref.dataset}@${ref.version}` : `digest ${i.dataset.digest}` };
      }),
      artifacts: tree.files,
      artifacts_truncated: tree.truncated,
    };
  }

  async compare(originalId: string, otherId: string): Promise<RunComparison> {
    if (originalId === otherId) throw invalid("Compare a run with another run, not with itself");
    const [a, b] = await Promise.all([this.tracking.getRun(originalId), this.tracking.getRun(otherId)]);
    return this.compareFacts(a, await this.facts(a), b, await this.facts(b));
  }

  /**
   * Compares two runs' facts after settling their artifact hashes: R2's ETag is an MD5 only for files
   * stored in one request, so the same bytes uploaded in parts carry another ETag. Files of equal size
   * whose ETags differ are hashed (sha256, streamed) on both sides, and those hashes are compared instead.
   */
  private async compareFacts(a: Run, fa: RunFacts, b: Run, fb: RunFacts): Promise<RunComparison> {
    const other = new Map(fb.artifacts.map((f) => [f.path, f]));
    let hashed = 0;
    for (const x of fa.artifacts) {
      const y = other.get(x.path);
      if (!y || y.size !== x.size || y.hash === x.hash || hashed >= MAX_ARTIFACTS_HASHED) continue;
      hashed++;
      const [hx, hy] = await Promise.all([this.artifacts.runFileSha256(a.info.artifactUri, x.path), this.artifacts.runFileSha256(b.info.artifactUri, y.path)]);
      if (hx && hy) {
        x.hash = `sha256:${hx}`;
        y.hash = `sha256:${hy}`;
      }
    }
    return compareRuns(fa, fb);
  }

  /**
   * A reproduction still SCHEDULED whose pipeline run has already failed (cancelled, or its agent task
   * failed before `tern run --execute` could start the run) will never run: it is ended as FAILED with
   * the reason in tern.execute.error, so nobody waits on it.
   */
  private async settleUnstarted(run: Run): Promise<Run> {
    const pipelineRunId = tagsOf(run)[TAG_PIPELINE_RUN];
    if (run.info.status !== "SCHEDULED" || !pipelineRunId) return run;
    let state: string;
    try {
      state = (await this.pipelines.getRun(pipelineRunId)).state;
    } catch (err) {
      if (err instanceof ApiError && err.code === "RESOURCE_DOES_NOT_EXIST") state = "deleted";
      else throw err;
    }
    if (state !== "failed" && state !== "deleted") return run;
    const reason = `Its pipeline run ${pipelineRunId} ${state === "deleted" ? "was deleted" : "failed or was cancelled"} before the run started`;
    await this.tracking.logBatch(run.info.runId, { metrics: [], params: [], tags: [{ key: "tern.execute.error", value: reason }] });
    await this.tracking.updateRun(run.info.runId, { status: "FAILED", endTime: Date.now() });
    return this.tracking.getRun(run.info.runId);
  }

  /** The reproductions of a run, newest first, each with its pipeline run and its comparison. */
  async reproductions(runId: string): Promise<{ run_id: string; name: string; status: string; start_time: number; pipeline_run_id: string | null; comparison: RunComparison }[]> {
    const original = await this.tracking.getRun(runId);
    const page = await this.tracking.searchRuns({
      experimentIds: [original.info.experimentId],
      filter: `tags.\`${TAG_REPRODUCTION_OF}\` = '${runId}'`,
      orderBy: ["attributes.start_time DESC"],
      maxResults: MAX_REPRODUCTIONS,
    });
    const originalFacts = await this.facts(original);
    const out = [];
    for (const item of page.items) {
      const r = await this.settleUnstarted(item);
      out.push({
        run_id: r.info.runId,
        name: r.info.runName,
        status: r.info.status,
        start_time: r.info.startTime,
        pipeline_run_id: tagsOf(r)[TAG_PIPELINE_RUN] ?? null,
        comparison: await this.compareFacts(original, structuredClone(originalFacts), r, await this.facts(r)),
      });
    }
    return out;
  }
}
