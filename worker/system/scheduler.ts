/**
 * The scheduled() side of the Worker: Cron Triggers dispatch to jobs by their cron expression.
 * Each job runs on its own, so one failing job neither stops the others nor loses the tick.
 */
import type { WorkerBindings } from "../env";

export interface JobContext {
  env: WorkerBindings;
  /** The scheduled time of this tick, in milliseconds since the epoch. */
  scheduledTime: number;
  cron: string;
  waitUntil(p: Promise<unknown>): void;
}

export interface Job {
  name: string;
  run(ctx: JobContext): Promise<void>;
}

/** cron expression (as in wrangler.toml) → jobs. */
export type JobRegistry = Record<string, readonly Job[]>;

export interface JobOutcome {
  job: string;
  ok: boolean;
  error?: string;
  duration_ms: number;
}

export async function dispatchScheduled(
  registry: JobRegistry,
  controller: Pick<ScheduledController, "cron" | "scheduledTime">,
  env: WorkerBindings,
  ctx: Pick<ExecutionContext, "waitUntil">,
): Promise<JobOutcome[]> {
  const jobs = registry[controller.cron];
  if (!jobs) {
    console.warn(JSON.stringify({ event: "scheduled.unknown_cron", cron: controller.cron }));
    return [];
  }
  const jobCtx: JobContext = {
    env,
    scheduledTime: controller.scheduledTime,
    cron: controller.cron,
    waitUntil: (p) => ctx.waitUntil(p),
  };
  return Promise.all(
    jobs.map(async (job): Promise<JobOutcome> => {
      const started = Date.now();
      try {
        await job.run(jobCtx);
        return { job: job.name, ok: true, duration_ms: Date.now() - started };
      } catch (err) {
        const error = err instanceof Error ? err.message : String(err);
        console.error(JSON.stringify({ event: "scheduled.job_failed", job: job.name, cron: controller.cron, error }));
        return { job: job.name, ok: false, error, duration_ms: Date.now() - started };
      }
    }),
  );
}
