/**
 * The shape every live page state shares: a first load that can end in "not found", refreshes that
 * keep what is shown when a request fails, and a Poller that refreshes while something can still
 * change. A subclass says what to fetch and when there is something to watch.
 */
import { ApiClientError } from "$lib/api/client";
import { Poller } from "./poller";
import { errorMessage } from "./run-fields";

export abstract class LiveState {
  loading = $state(true);
  error = $state<string | null>(null);
  notFound = $state(false);
  protected readonly poller: Poller;

  constructor(intervalMs: number) {
    this.poller = new Poller(intervalMs, () => this.watching(), () => this.refresh());
  }

  /** Whether anything shown can still change (polling stops when not). */
  protected abstract watching(): boolean;

  /** Everything the page shows. */
  protected abstract fetchAll(): Promise<void>;

  /** What a poll re-reads; everything unless a subclass knows less is enough. */
  protected fetchUpdate(): Promise<void> {
    return this.fetchAll();
  }

  /** The page has gone: answers that arrive now must not be applied. */
  protected get disposed(): boolean {
    return this.poller.disposed;
  }

  async load(): Promise<void> {
    this.loading = true;
    try {
      await this.fetchAll();
      this.error = null;
    } catch (err) {
      this.notFound = err instanceof ApiClientError && err.status === 404;
      this.error = errorMessage(err);
    } finally {
      this.loading = false;
    }
    this.poller.schedule();
  }

  /** A manual or polled refresh: keeps what is shown if the request fails. */
  async refresh(): Promise<void> {
    try {
      await this.fetchUpdate();
      this.error = null;
    } catch (err) {
      this.error = errorMessage(err);
    }
    this.poller.schedule();
  }

  dispose(): void {
    this.poller.dispose();
  }
}
