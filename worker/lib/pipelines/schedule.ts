/**
 * Schedule maths with Airflow's data-interval semantics: a cron schedule cuts time into intervals
 * [t, next(t)); the run for an interval has logical date t and is created once the interval has ended,
 * at next(t). Cron matching and time zones are croner's; which intervals are due (catchup on or off,
 * start and end dates, the last run already made) is decided here.
 */
import { Cron } from "croner";

/** Airflow's presets as the cron expressions they stand for. */
export const PRESETS: Record<string, string> = {
  "@hourly": "0 * * * *",
  "@daily": "0 0 * * *",
  "@midnight": "0 0 * * *",
  "@weekly": "0 0 * * 0",
  "@monthly": "0 0 1 * *",
  "@quarterly": "0 0 1 */3 *",
  "@yearly": "0 0 1 1 *",
  "@annually": "0 0 1 1 *",
};

export type ParsedSchedule = { cron: string } | { error: string };

/** Checks a schedule (a preset or a 5-field cron) and expands presets. */
export function parseSchedule(schedule: string, timezone: string): ParsedSchedule {
  const text = schedule.trim();
  if (text.startsWith("@")) {
    const cron = PRESETS[text.toLowerCase()];
    return cron ? { cron } : { error: `unknown preset '${text}' (known: ${Object.keys(PRESETS).join(", ")})` };
  }
  const fields = text.split(/\s+/);
  if (fields.length !== 5) return { error: `'${text}' is not a cron expression: expected 5 fields (minute hour day-of-month month day-of-week), got ${fields.length}` };
  try {
    const c = new Cron(text, { timezone, mode: "5-part", paused: true });
    if (c.nextRun(new Date(0)) === null) return { error: `'${text}' never matches a time` };
  } catch (err) {
    const message = err instanceof Error ? err.message.replace(/^Cron\w*:\s*/, "") : String(err);
    return { error: `'${text}' is not a valid cron expression: ${message}` };
  }
  return { cron: text };
}

export interface ScheduleInput {
  schedule: string | null;
  timezone: string;
  catchup: boolean;
  start_date: number | null;
  end_date: number | null;
}

export class Schedule {
  private readonly cron: Cron;

  constructor(private readonly s: ScheduleInput & { schedule: string }) {
    this.cron = new Cron(s.schedule, { timezone: s.timezone, mode: "5-part", paused: true });
  }

  /** The first tick strictly after t. */
  after(t: number): number | null {
    return this.cron.nextRun(new Date(t))?.getTime() ?? null;
  }

  /** The first tick at or after t. */
  atOrAfter(t: number): number | null {
    return this.after(t - 1000);
  }

  /** The last tick strictly before t. */
  before(t: number): number | null {
    return this.cron.previousRuns(1, new Date(t))[0]?.getTime() ?? null;
  }

  /** The last tick at or before t. */
  atOrBefore(t: number): number | null {
    // Ticks fall on whole seconds: the first whole second after t bounds them from above.
    return this.before(Math.floor(t / 1000) * 1000 + 1000);
  }

  /** Whether an interval starting at t lies inside the start/end dates. */
  private inRange(t: number): boolean {
    return (this.s.start_date === null || t >= this.s.start_date) && (this.s.end_date === null || t <= this.s.end_date);
  }

  /**
   * The logical date of the first interval to consider after the last one scheduled (or from the
   * start date when there was none).
   */
  private firstCandidate(lastLogical: number | null): number | null {
    if (lastLogical !== null) return this.after(lastLogical);
    if (this.s.start_date !== null) return this.atOrAfter(this.s.start_date);
    return null;
  }

  /**
   * Logical dates of the runs due at `now`, oldest first, at most `limit`. With catchup every complete
   * interval since the last run (or the start date) is due; without it only the latest complete one.
   */
  due(lastLogical: number | null, now: number, limit = 100): number[] {
    let cursor = this.firstCandidate(lastLogical);
    if (!this.s.catchup || cursor === null) {
      // The latest complete interval: it ended at the last tick at or before now.
      const end = this.atOrBefore(now);
      const start = end === null ? null : this.before(end);
      if (start === null) return [];
      if (cursor !== null && start < cursor) return [];
      return this.inRange(start) ? [start] : [];
    }
    const out: number[] = [];
    while (cursor !== null && out.length < limit) {
      if (this.s.end_date !== null && cursor > this.s.end_date) break;
      const end = this.after(cursor);
      if (end === null || end > now) break;
      out.push(cursor);
      cursor = end;
    }
    return out;
  }

  /**
   * When the next run will be created (the end of the next interval to be scheduled) and its logical
   * date, or null when the schedule has nothing left.
   */
  next(lastLogical: number | null, now: number): { logical_date: number; run_at: number } | null {
    const overdue = this.due(lastLogical, now, 1)[0];
    if (overdue !== undefined) return { logical_date: overdue, run_at: this.intervalEnd(overdue) };
    let start: number | null;
    const cursor = this.firstCandidate(lastLogical);
    if (this.s.catchup && cursor !== null) start = cursor;
    else {
      // Without catchup the next run is for the interval now in progress (or the first after start).
      const current = this.atOrBefore(now);
      start = current;
      if (cursor !== null && (start === null || cursor > start)) start = cursor;
      if (start === null) start = this.after(now);
    }
    if (start === null || (this.s.end_date !== null && start > this.s.end_date)) return null;
    const runAt = this.after(start);
    return runAt === null ? null : { logical_date: start, run_at: runAt };
  }

  /** Every logical date t with start <= t <= end (a backfill), oldest first, at most `limit`. */
  between(start: number, end: number, limit: number): number[] {
    const out: number[] = [];
    for (let t = this.atOrAfter(start); t !== null && t <= end && out.length < limit; t = this.after(t)) out.push(t);
    return out;
  }

  /** The end of the interval starting at t: the data interval is [t, intervalEnd(t)). */
  intervalEnd(t: number): number {
    return this.after(t) ?? t;
  }
}

/** A Schedule for a spec, or null when it runs only when triggered. */
export function scheduleOf(s: ScheduleInput): Schedule | null {
  return s.schedule === null ? null : new Schedule({ ...s, schedule: s.schedule });
}
