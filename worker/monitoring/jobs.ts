/** The monitoring job of the every-minute cron: webhook retries that are due, then scheduled drift checks. */
import { buildServices } from "../services";
import type { Job } from "../system/scheduler";

export const monitoringJob: Job = {
  name: "monitoring.alerts-and-checks",
  async run({ env, scheduledTime }) {
    const monitoring = buildServices(env).monitoring;
    await monitoring.retryDue(scheduledTime);
    const outcomes = await monitoring.runScheduledChecks(scheduledTime);
    if (outcomes.length) console.log(JSON.stringify({ event: "monitoring.scheduled_checks", outcomes }));
  },
};
