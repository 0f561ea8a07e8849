/**
 * Session state: the server's health and auth mode, and who this browser is with its stored token.
 */
import { api, ApiClientError, tokenStorage, type Health, type Principal } from "$lib/api/client";

export class SessionState {
  health = $state<Health | null>(null);
  principal = $state<Principal | null>(null);
  /** Set when the server needs a token this browser does not have (or has a bad one). */
  authProblem = $state<string | null>(null);
  loadError = $state<string | null>(null);
  hasToken = $state(false);

  get authMode() {
    return this.health?.auth_mode ?? null;
  }

  async load(): Promise<void> {
    this.hasToken = tokenStorage.get() != null;
    try {
      this.health = await api.health();
      this.loadError = null;
    } catch (err) {
      this.loadError = err instanceof Error ? err.message : String(err);
      return;
    }
    try {
      this.principal = await api.whoami();
      this.authProblem = null;
    } catch (err) {
      this.principal = null;
      if (err instanceof ApiClientError && (err.status === 401 || err.status === 403 || err.status === 429)) {
        this.authProblem = err.message;
      } else {
        this.loadError = err instanceof Error ? err.message : String(err);
      }
    }
  }

  async useToken(token: string | null): Promise<void> {
    tokenStorage.set(token?.trim() || null);
    await this.load();
  }
}

export const session = new SessionState();
