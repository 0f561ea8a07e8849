/**
 * Live refresh for the page states: one timer that polls while the state says there is something
 * to watch, never while the tab is hidden or after the page has gone. The poll itself ends by
 * calling schedule() again, so the next request starts only after the previous one has answered.
 */
export class Poller {
  readonly #intervalMs: number;
  readonly #shouldPoll: () => boolean;
  readonly #poll: () => Promise<void>;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #paused = false;
  #disposed = false;

  /** `poll` refreshes the state and calls schedule() when done; `shouldPoll` says whether anything can still change. */
  constructor(intervalMs: number, shouldPoll: () => boolean, poll: () => Promise<void>) {
    this.#intervalMs = intervalMs;
    this.#shouldPoll = shouldPoll;
    this.#poll = poll;
  }

  /** The page has gone: answers that arrive now must not be applied. */
  get disposed(): boolean {
    return this.#disposed;
  }

  /** (Re)starts the wait for the next poll, or stops polling when there is nothing left to watch. */
  schedule(): void {
    this.#stop();
    if (this.#disposed || this.#paused || !this.#shouldPoll()) return;
    this.#timer = setTimeout(() => void this.#poll(), this.#intervalMs);
  }

  /** Hidden tab: no polls until it is shown again (the caller refreshes then, which reschedules). */
  setPaused(paused: boolean): void {
    this.#paused = paused;
    if (paused) this.#stop();
  }

  dispose(): void {
    this.#disposed = true;
    this.#stop();
  }

  #stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
