/** D1 access for installation-wide facts (system_state) and the binding probes used by health. */
import { eq, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { systemState } from "../db/schema";

export class SystemStore {
  constructor(private readonly db: Db) {}

  async get(key: string): Promise<string | null> {
    const row = await this.db.select().from(systemState).where(eq(systemState.key, key)).get();
    return row?.value ?? null;
  }

  async set(key: string, value: string, at: number): Promise<void> {
    await this.db
      .insert(systemState)
      .values({ key, value, updatedAt: at })
      .onConflictDoUpdate({ target: systemState.key, set: { value, updatedAt: at } });
  }

  async ping(): Promise<void> {
    await this.db.run(sql`select 1`);
  }
}
