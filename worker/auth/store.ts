/** D1 access for API tokens. */
import { desc, eq } from "drizzle-orm";
import type { Db } from "../db/client";
import { apiTokens } from "../db/schema";

export type TokenRow = typeof apiTokens.$inferSelect;

export class TokenStore {
  constructor(private readonly db: Db) {}

  async insert(row: TokenRow): Promise<void> {
    await this.db.insert(apiTokens).values(row);
  }

  async get(id: string): Promise<TokenRow | undefined> {
    return this.db.select().from(apiTokens).where(eq(apiTokens.id, id)).get();
  }

  async list(): Promise<TokenRow[]> {
    return this.db.select().from(apiTokens).orderBy(desc(apiTokens.createdAt), desc(apiTokens.id)).all();
  }

  async revoke(id: string, at: number): Promise<void> {
    await this.db.update(apiTokens).set({ revokedAt: at }).where(eq(apiTokens.id, id));
  }

  async touch(id: string, at: number): Promise<void> {
    await this.db.update(apiTokens).set({ lastUsedAt: at }).where(eq(apiTokens.id, id));
  }
}
