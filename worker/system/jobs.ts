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

/** Drops Idempotency-Key records older than 24 hours. */
export const sweepIdempotencyKeys: Job = {
  name: "system.sweep-idempotency-keys",
  async run({ env }) {
    await buildServices(env).idempotency.sweepExpired();
  },
};
