import { describe, expect, it } from "vitest";
import { parseSchedule, Schedule, scheduleOf } from "../../worker/lib/pipelines/schedule";
import { parseDateTime } from "../../worker/lib/pipelines/time";

const utc = (s: string) => Date.parse(s);
const isoList = (ts: number[]) => ts.map((t) => new Date(t).toISOString());
const sched = (schedule: string, extra: Partial<{ timezone: string; catchup: boolean; start_date: number | null; end_date: number | null }> = {}) =>
  new Schedule({ schedule: (parseSchedule(schedule, extra.timezone ?? "UTC") as { cron: string }).cron, timezone: "UTC", catchup: false, start_date: null, end_date: null, ...extra } as never);

describe("parseSchedule", () => {
  it("expands Airflow's presets", () => {
    expect(parseSchedule("@hourly", "UTC")).toEqual({ cron: "0 * * * *" });
    expect(parseSchedule("@daily", "UTC")).toEqual({ cron: "0 0 * * *" });
    expect(parseSchedule("@weekly", "UTC")).toEqual({ cron: "0 0 * * 0" });
    expect(parseSchedule("@monthly", "UTC")).toEqual({ cron: "0 0 1 * *" });
    expect(parseSchedule("@yearly", "UTC")).toEqual({ cron: "0 0 1 1 *" });
  });

  it("rejects six-field (seconds) crons", () => {
    expect(parseSchedule("0 0 5 * * *", "UTC")).toEqual({ error: "'0 0 5 * * *' is not a cron expression: expected 5 fields (minute hour day-of-month month day-of-week), got 6" });
  });
});

describe("data intervals (a run for [t, next(t)) is created at next(t))", () => {
  it("@daily without catchup: only the latest complete interval is due", () => {
    const s = sched("@daily");
    const now = utc("2026-11-28T05:30:00Z");
    expect(isoList(s.due(null, now))).toEqual(["2026-11-27T00:00:00.000Z"]);
    expect(isoList(s.due(utc("2026-11-20T00:00:00Z"), now))).toEqual(["2026-11-27T00:00:00.000Z"]);
    expect(s.due(utc("2026-11-27T00:00:00Z"), now)).toEqual([]);
    expect(s.next(utc("2026-11-27T00:00:00Z"), now)).toEqual({ logical_date: utc("2026-11-28T00:00:00Z"), run_at: utc("2026-11-29T00:00:00Z") });
  });

  it("is due exactly when the interval ends, not a second before", () => {
    const s = sched("@hourly");
    expect(isoList(s.due(utc("2026-11-28T03:00:00Z"), utc("2026-11-28T05:00:00Z")))).toEqual(["2026-11-28T04:00:00.000Z"]);
    expect(isoList(s.due(utc("2026-11-28T03:00:00Z"), utc("2026-11-28T04:59:59Z")))).toEqual([]);
  });

  it("with catchup: every complete interval since the start date, then since the last run", () => {
    const s = sched("@daily", { catchup: true, start_date: utc("2026-11-25T00:00:00Z") });
    const now = utc("2026-11-28T05:30:00Z");
    expect(isoList(s.due(null, now))).toEqual(["2026-11-25T00:00:00.000Z", "2026-11-26T00:00:00.000Z", "2026-11-27T00:00:00.000Z"]);
    expect(isoList(s.due(utc("2026-11-25T00:00:00Z"), now))).toEqual(["2026-11-26T00:00:00.000Z", "2026-11-27T00:00:00.000Z"]);
    expect(isoList(s.due(null, now, 2))).toEqual(["2026-11-25T00:00:00.000Z", "2026-11-26T00:00:00.000Z"]);
    // A start date between ticks starts at the next tick.
    const s2 = sched("@daily", { catchup: true, start_date: utc("2026-11-25T12:00:00Z") });
    expect(isoList(s2.due(null, now))).toEqual(["2026-11-26T00:00:00.000Z", "2026-11-27T00:00:00.000Z"]);
  });

  it("honours the end date (an interval starting after it never runs) and the start date without catchup", () => {
    const s = sched("@daily", { catchup: true, start_date: utc("2026-11-25T00:00:00Z"), end_date: utc("2026-11-26T00:00:00Z") });
    expect(isoList(s.due(null, utc("2026-12-10T00:00:00Z")))).toEqual(["2026-11-25T00:00:00.000Z", "2026-11-26T00:00:00.000Z"]);
    expect(s.next(utc("2026-11-26T00:00:00Z"), utc("2026-12-10T00:00:00Z"))).toBeNull();
    const future = sched("@daily", { start_date: utc("2026-12-01T00:00:00Z") });
    expect(future.due(null, utc("2026-11-28T05:00:00Z"))).toEqual([]);
    expect(future.next(null, utc("2026-11-28T05:00:00Z"))).toEqual({ logical_date: utc("2026-12-01T00:00:00Z"), run_at: utc("2026-12-02T00:00:00Z") });
  });

  it("honours time zones: weekdays at 05:00 in Seoul", () => {
    const s = new Schedule({ schedule: "0 5 * * 1-5", timezone: "Asia/Seoul", catchup: false, start_date: null, end_date: null });
    // Tuesday 06:00 in Seoul: Monday's interval (Mon 05:00 → Tue 05:00 KST) is due.
    expect(isoList(s.due(null, utc("2026-11-30T21:00:00Z")))).toEqual(["2026-11-29T20:00:00.000Z"]);
    // Saturday 06:00 in Seoul: Friday's interval ends only on Monday 05:00, so Thursday's is the latest.
    expect(isoList(s.due(null, utc("2026-11-27T21:00:00Z")))).toEqual(["2026-11-25T20:00:00.000Z"]);
    expect(s.next(utc("2026-11-25T20:00:00Z"), utc("2026-11-27T21:00:00Z"))).toEqual({ logical_date: utc("2026-11-26T20:00:00Z"), run_at: utc("2026-11-29T20:00:00Z") });
  });

  it("keeps local wall time across a daylight-saving change", () => {
    const s = new Schedule({ schedule: "0 5 * * *", timezone: "America/New_York", catchup: true, start_date: utc("2026-10-30T00:00:00Z"), end_date: null });
    expect(isoList(s.due(null, utc("2026-11-03T12:00:00Z")))).toEqual([
      "2026-10-30T09:00:00.000Z",
      "2026-10-31T09:00:00.000Z",
      "2026-11-01T10:00:00.000Z",
      "2026-11-02T10:00:00.000Z",
    ]);
  });

  it("backfill ranges include both ends", () => {
    const s = sched("@daily");
    expect(isoList(s.between(utc("2026-11-01T00:00:00Z"), utc("2026-11-03T00:00:00Z"), 100))).toEqual(["2026-11-01T00:00:00.000Z", "2026-11-02T00:00:00.000Z", "2026-11-03T00:00:00.000Z"]);
    expect(s.between(utc("2026-11-01T00:00:00Z"), utc("2026-11-30T00:00:00Z"), 5)).toHaveLength(5);
    expect(s.intervalEnd(utc("2026-11-01T00:00:00Z"))).toBe(utc("2026-11-02T00:00:00Z"));
  });

  it("manual-only pipelines have no schedule", () => {
    expect(scheduleOf({ schedule: null, timezone: "UTC", catchup: false, start_date: null, end_date: null })).toBeNull();
  });
});

describe("parseDateTime", () => {
  it("reads naive times in the zone and explicit offsets as given", () => {
    expect(parseDateTime("2026-01-05", "Asia/Seoul")).toBe(utc("2026-01-04T15:00:00Z"));
    expect(parseDateTime("2026-07-01T05:00", "America/New_York")).toBe(utc("2026-07-01T09:00:00Z"));
    expect(parseDateTime("2026-01-01T05:00", "America/New_York")).toBe(utc("2026-01-01T10:00:00Z"));
    expect(parseDateTime("2026-07-01T05:00:00+02:00", "Asia/Seoul")).toBe(utc("2026-07-01T03:00:00Z"));
    expect(parseDateTime("2026-07-01T05:00Z", "Asia/Seoul")).toBe(utc("2026-07-01T05:00:00Z"));
    expect(parseDateTime("yesterday", "UTC")).toBeNull();
  });
});
