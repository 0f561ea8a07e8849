/**
 * Durations in pipeline specs: a number of seconds, or a string such as "90s", "5m", "1h30m", "2d".
 * Kept apart so the spec schema and the state machine agree on one reading.
 */

const UNIT_SECONDS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 };
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;

/** Seconds in a duration, or null when the text is not one. */
export function parseDuration(value: number | string): number | null {
  if (typeof value === "number") return Number.isFinite(value) && value >= 0 ? value : null;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text);
  if (!text) return null;
  PART.lastIndex = 0;
  let total = 0;
  let consumed = 0;
  for (let m = PART.exec(text); m; m = PART.exec(text)) {
    total += Number(m[1]) * UNIT_SECONDS[m[2]];
    consumed = PART.lastIndex;
  }
  return consumed === text.length ? total : null;
}
