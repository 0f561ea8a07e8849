/**
 * One user action at a time on a card or form: `busy` while it runs (buttons disable on it) and the
 * API's refusal kept in `error` until the next attempt succeeds.
 */
export class PendingAction {
  busy = $state(false);
  error = $state<string | null>(null);

  /** Runs the action; true when it succeeded, false with `error` set when it threw. */
  async run(action: () => Promise<void>): Promise<boolean> {
    this.busy = true;
    try {
      await action();
      this.error = null;
      return true;
    } catch (err) {
      this.error = err instanceof Error ? err.message : String(err);
      return false;
    } finally {
      this.busy = false;
    }
  }
}
