/**
 * D1 access for Idempotency-Key records: an atomic reservation (INSERT ... ON CONFLICT DO NOTHING),
 * conditional take-over, completion and release by the reservation's owner, and the expiry sweep.
 */
import { and, eq, isNull, lt } from "drizzle-orm";
import type { Db } from "../db/client";
import { idempotentRequests } from "../db/schema";

export type IdempotencyRow = typeof idempotentRequests.$inferSelect;

export interface StoredResponse {
  status: number;
  headers: Record<string, string>;
  /** Null when the body was not kept. */
  body: string | null;
}

const owned = (principal: string, key: string, owner: string) =>
  and(eq(idempotentRequests.principal, principal), eq(idempotentRequests.key, key), eq(idempotentRequests.owner, owner));

export class IdempotencyStore {
  constructor(private readonly db: Db) {}

  /** Inserts the reservation unless the key is taken; true when this call took it. */
  async reserve(row: IdempotencyRow): Promise<boolean> {
    const r = await this.db.insert(idempotentRequests).values(row).onConflictDoNothing().run();
    return r.meta.changes === 1;
  }

  async get(principal: string, key: string): Promise<IdempotencyRow | undefined> {
    return this.db
      .select()
      .from(idempotentRequests)
      .where(and(eq(idempotentRequests.principal, principal), eq(idempotentRequests.key, key)))
      .get();
  }

  /** Replaces an expired or abandoned record, provided nobody replaced it first (same owner as read). */
  async takeOver(previousOwner: string, row: IdempotencyRow): Promise<boolean> {
    const r = await this.db
      .update(idempotentRequests)
      .set({ ...row, status: null, headers: null, body: null })
      .where(owned(row.principal, row.key, previousOwner))
      .run();
    return r.meta.changes === 1;
  }

  async complete(principal: string, key: string, owner: string, response: StoredResponse): Promise<void> {
    await this.db
      .update(idempotentRequests)
      .set({ status: response.status, headers: JSON.stringify(response.headers), body: response.body })
      .where(and(owned(principal, key, owner), isNull(idempotentRequests.status)))
      .run();
  }

  /** Frees a reservation whose request failed, so that a retry runs it again. */
  async release(principal: string, key: string, owner: string): Promise<void> {
    await this.db.delete(idempotentRequests).where(and(owned(principal, key, owner), isNull(idempotentRequests.status))).run();
  }

  /** Deletes records created before `before`; returns how many. */
  async sweep(before: number): Promise<number> {
    const r = await this.db.delete(idempotentRequests).where(lt(idempotentRequests.createdAt, before)).run();
    return r.meta.changes;
  }
}
