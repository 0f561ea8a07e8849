/**
 * How the tracking pages write numbers, times and durations: short in tables, charts and legends,
 * with the exact value left for tooltips. Pure, so the same wording shows everywhere.
 */

const relative = new Intl.RelativeTimeFormat("en", { numeric: "auto" });
const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ["year", 365 * 86_400_000],
  ["month", 30 * 86_400_000],
  ["week", 7 * 86_400_000],
  ["day", 86_400_000],
  ["hour", 3_600_000],
  ["minute", 60_000],
];

/** "5 minutes ago", "yesterday"; under a minute is "just now". */
export function formatRelative(ms: number, now: number = Date.now()): string {
  const diff = ms - now;
  for (const [unit, size] of UNITS) {
    if (Math.abs(diff) >= size) return relative.format(Math.round(diff / size), unit);
  }
  return "just now";
}

export function formatDateTime(ms: number | null | undefined): string {
  return ms == null ? "—" : new Date(ms).toLocaleString();
}

/** "850ms", "12.3s", "4m 05s", "2h 03m", "3d 4h". */
export function formatDuration(ms: number | null | undefined): string {
  if (ms == null || !Number.isFinite(ms) || ms < 0) return "—";
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = ms / 1000;
  if (s < 60) return `${s < 10 ? s.toFixed(1) : Math.round(s)}s`;
  const pad = (n: number) => String(n).padStart(2, "0");
  const total = Math.round(s);
  const [d, h, m, sec] = [Math.floor(total / 86_400), Math.floor(total / 3600) % 24, Math.floor(total / 60) % 60, total % 60];
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${pad(m)}m`;
  return `${m}m ${pad(sec)}s`;
}

/** Axis ticks for time since the first point, in seconds. */
export function formatElapsedSeconds(seconds: number): string {
  if (seconds === 0) return "0";
  if (Math.abs(seconds) < 60) return `${Number(seconds.toPrecision(3))}s`;
  if (Math.abs(seconds) < 3600) return `${Number((seconds / 60).toPrecision(3))}m`;
  if (Math.abs(seconds) < 86_400) return `${Number((seconds / 3600).toPrecision(3))}h`;
  return `${Number((seconds / 86_400).toPrecision(3))}d`;
}

/** Five significant digits, no trailing zeros; integers as they are. */
export function formatNumber(value: number | null | undefined): string {
  if (value == null) return "—";
  if (Number.isNaN(value)) return "NaN";
  if (!Number.isFinite(value)) return value > 0 ? "∞" : "−∞";
  if (Number.isInteger(value) && Math.abs(value) < 1e15) return String(value);
  const abs = Math.abs(value);
  if (abs !== 0 && (abs < 1e-4 || abs >= 1e9)) return value.toExponential(3).replace(/\.?0+e/, "e");
  return String(Number(value.toPrecision(5)));
}
