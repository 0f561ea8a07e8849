/** Jobs of the system itself. */
import { buildServices } from "../services";
import type { Job } from "./scheduler";

/** Records each tick, so /api/v1/health shows whether the Cron Trigger is firing. */
export const recordTick: Job = {
  name: "system.record-tick",
  async run({ env, cron, scheduledTime }) {
    await buildServices(env).system.recordTick(cron, scheduledTime);
  },
};
