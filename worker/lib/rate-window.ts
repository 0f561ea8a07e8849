/**
 * Sliding-log rate limiting, runtime-free: given the timestamps of recent events, decide whether one
 * more is allowed. The RateLimiterObject Durable Object keeps the log; this module keeps the rule.
 */
export interface RateRule {
  /** At most `limit` events ... */
  limit: number;
  /** ... within any window of this many milliseconds. */
  windowMs: number;
}

export interface RateDecision {
  allowed: boolean;
  /** Events inside the window, including this one when allowed. */
  count: number;
  /** Milliseconds until one more event would be allowed (0 when allowed). */
  retryAfterMs: number;
  /** The log to keep: timestamps inside the window, ascending. */
  kept: number[];
}

export function decide(log: readonly number[], now: number, rule: RateRule): RateDecision {
  const since = now - rule.windowMs;
  const kept = log.filter((t) => t > since).sort((a, b) => a - b);
  if (kept.length >= rule.limit) {
    // With a limit of zero nothing ever expires into room; otherwise wait for the oldest counted event.
    const retryAfterMs = rule.limit <= 0 ? rule.windowMs : kept[kept.length - rule.limit] + rule.windowMs - now;
    return { allowed: false, count: kept.length, retryAfterMs, kept };
  }
  kept.push(now);
  return { allowed: true, count: kept.length, retryAfterMs: 0, kept };
}

/** Failed authentication attempts per client address. */
export const FAILED_AUTH_RULE: RateRule = { limit: 20, windowMs: 5 * 60_000 };
