import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker, { jobs } from "../../worker/index";
import { dispatchScheduled, type Job } from "../../worker/system/scheduler";
import { call } from "./helpers";

describe("scheduled()", () => {
  it("has a job list for every cron in wrangler.toml", () => {
    expect(Object.keys(jobs)).toEqual(["* * * * *"]);
  });

  it("runs the every-minute jobs; health then shows the tick", async () => {
    const before = await call("GET", "/api/v1/health");
    expect(before.json.scheduler.last_tick_at).toBeNull();
    const scheduledTime = Date.UTC(2026, 10, 28, 5, 0, 0);
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ cron: "* * * * *", scheduledTime }), env, ctx);
    await waitOnExecutionContext(ctx);
    const after = await call("GET", "/api/v1/health");
    expect(after.json.scheduler).toEqual({ last_tick_at: scheduledTime, last_tick_cron: "* * * * *" });
  });

  it("ignores a cron it has no jobs for", async () => {
    const outcomes = await dispatchScheduled(jobs, { cron: "0 0 1 1 *", scheduledTime: Date.now() }, env, createExecutionContext());
    expect(outcomes).toEqual([]);
  });

  it("isolates a failing job: the others still run and the failure is reported", async () => {
    const ran: string[] = [];
    const failing: Job = { name: "fails", run: async () => Promise.reject(new Error("boom")) };
    const works: Job = { name: "works", run: async () => void ran.push("works") };
    const outcomes = await dispatchScheduled({ "*/5 * * * *": [failing, works] }, { cron: "*/5 * * * *", scheduledTime: 0 }, env, createExecutionContext());
    expect(ran).toEqual(["works"]);
    expect(outcomes.map((o) => [o.job, o.ok, o.error])).toEqual([
      ["fails", false, "boom"],
      ["works", true, undefined],
    ]);
  });
});
