/** The pipelines' every-minute job: create the runs that are due and start queued runs that have a slot. */
import { buildServices } from "../services";
import type { Job } from "../system/scheduler";

export const schedulePipelines: Job = {
  name: "pipelines.schedule",
  async run({ env, scheduledTime }) {
    const { created } = await buildServices(env).pipelines.scheduleDue(scheduledTime);
    if (created.length) console.log(JSON.stringify({ event: "pipelines.scheduled", runs: created.length }));
  },
};
