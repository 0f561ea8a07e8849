/** Scheduled work of data versioning. */
import { buildServices } from "../services";
import type { Job } from "../system/scheduler";

/** Once an hour (on the every-minute trigger): forget abandoned multipart uploads and staging leftovers. */
export const sweepAbandonedUploads: Job = {
  name: "datasets.sweep-abandoned-uploads",
  async run({ env, scheduledTime }) {
    if (new Date(scheduledTime).getUTCMinutes() !== 0) return;
    const swept = await buildServices(env).datasets.sweepAbandoned();
    if (swept.uploads || swept.staged) console.log(JSON.stringify({ event: "datasets.swept", ...swept }));
  },
};
