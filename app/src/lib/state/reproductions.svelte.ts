/**
 * The reproductions of one run: loaded with their comparisons, refreshed while any is still scheduled
 * or running, and the "Reproduce" action (which queue, busy, the API's refusal).
 */
import { projectsApi, type Reproduction, type SubmittedProjectRun } from "$lib/api/projects";
import { PendingAction } from "./pending-action.svelte";

const POLL_MS = 3000;

export class ReproductionsState {
  items = $state<Reproduction[]>([]);
  loaded = $state(false);
  error = $state<string | null>(null);
  queue = $state("default");
  submitted = $state<SubmittedProjectRun | null>(null);
  readonly action = new PendingAction();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private disposed = false;

  constructor(readonly runId: string) {}

  get active(): boolean {
    return this.items.some((r) => r.status === "SCHEDULED" || r.status === "RUNNING");
  }

  async load(): Promise<void> {
    try {
      this.items = (await projectsApi.reproductions(this.runId)).reproductions;
      this.error = null;
    } catch (err) {
      this.error = err instanceof Error ? err.message : String(err);
    }
    this.loaded = true;
    this.schedule();
  }

  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (!this.disposed && this.active) this.timer = setTimeout(() => void this.load(), POLL_MS);
  }

  async reproduce(): Promise<boolean> {
    const ok = await this.action.run(async () => {
      this.submitted = await projectsApi.reproduce(this.runId, this.queue.trim() || "default");
    });
    if (ok) await this.load();
    return ok;
  }

  dispose(): void {
    this.disposed = true;
    if (this.timer) clearTimeout(this.timer);
  }
}
