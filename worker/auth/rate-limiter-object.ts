/**
 * RateLimiterObject: one Durable Object per client key (the client's address), holding the recent
 * failed-authentication timestamps in its SQLite storage. The rule itself is the pure lib/rate-window.
 * An alarm clears the log once the window has passed, so idle keys keep no state.
 */
import { decide, type RateDecision, type RateRule } from "../lib/rate-window";
import { TernDurableObject } from "../system/durable-object";

export class RateLimiterObject extends TernDurableObject {
  constructor(ctx: DurableObjectState, env: Bindings) {
    super(ctx, env);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS events (at INTEGER NOT NULL)");
  }

  /** Records one event if the rule allows it; says whether it did. */
  async hit(rule: RateRule, now: number = Date.now()): Promise<Omit<RateDecision, "kept">> {
    const sql = this.ctx.storage.sql;
    const log = sql.exec<{ at: number }>("SELECT at FROM events").toArray().map((r) => r.at);
    const { kept, ...decision } = decide(log, now, rule);
    sql.exec("DELETE FROM events WHERE at <= ?", now - rule.windowMs);
    if (decision.allowed) sql.exec("INSERT INTO events (at) VALUES (?)", now);
    // The real clock, not `now`: the alarm must fire once the window has really passed.
    await this.ctx.storage.setAlarm(Date.now() + rule.windowMs);
    return decision;
  }

  /** Events currently inside the window (for diagnostics and tests). */
  async count(windowMs: number, now: number = Date.now()): Promise<number> {
    const row = this.ctx.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM events WHERE at > ?", now - windowMs).one();
    return row.n;
  }

  override async alarm(): Promise<void> {
    this.ctx.storage.sql.exec("DELETE FROM events");
  }
}
