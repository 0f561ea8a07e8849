/**
 * Pipeline times: logical dates and schedule times are shown in the pipeline's own time zone (its
 * cron runs there), with the zone named, so "05:00" means what the spec says.
 */

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
    } catch {
      f = new Intl.DateTimeFormat("en-CA", { timeZone: "UTC", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
    }
    formatters.set(timeZone, f);
  }
  return f;
}

/** "2026-11-27 05:00" in `timeZone`. */
export function formatInZone(ms: number | null | undefined, timeZone: string): string {
  if (ms == null) return "—";
  const parts = Object.fromEntries(formatter(timeZone).formatToParts(new Date(ms)).map((p) => [p.type, p.value]));
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}`;
}

/** A short column label for a logical date: "11-27 05:00". */
export function shortInZone(ms: number, timeZone: string): string {
  return formatInZone(ms, timeZone).slice(5);
}

/** Pretty JSON for display; undefined and null show as "null". */
export const prettyJson = (value: unknown): string => JSON.stringify(value ?? null, null, 2);
