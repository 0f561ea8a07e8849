/** API token management state for the Settings page. */
import { api, type Scope, type TokenInfo } from "$lib/api/client";

export class TokensState {
  tokens = $state<TokenInfo[]>([]);
  loading = $state(false);
  error = $state<string | null>(null);
  /** The secret of the token just created: shown once, then forgotten. */
  justCreated = $state<{ name: string; secret: string } | null>(null);

  async refresh(): Promise<void> {
    this.loading = true;
    try {
      this.tokens = (await api.tokens.list()).tokens;
      this.error = null;
    } catch (err) {
      this.error = err instanceof Error ? err.message : String(err);
    } finally {
      this.loading = false;
    }
  }

  async create(name: string, scopes: Scope[], expiresInDays: number | null): Promise<boolean> {
    try {
      const expires_at = expiresInDays ? Date.now() + expiresInDays * 86_400_000 : null;
      const created = await api.tokens.create({ name, scopes, expires_at });
      this.justCreated = { name: created.token.name, secret: created.secret };
      this.error = null;
      await this.refresh();
      return true;
    } catch (err) {
      this.error = err instanceof Error ? err.message : String(err);
      return false;
    }
  }

  async revoke(id: string): Promise<void> {
    try {
      await api.tokens.revoke(id);
      this.error = null;
      await this.refresh();
    } catch (err) {
      this.error = err instanceof Error ? err.message : String(err);
    }
  }

  dismissSecret(): void {
    this.justCreated = null;
  }
}
