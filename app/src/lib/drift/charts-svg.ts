/**
 * The drift report's charts as self-contained SVG markup: table sparklines and the per-column
 * overlaid histogram / category bars. Strings, not components, so the page and the standalone HTML
 * export draw exactly the same pictures with no script and no external request. Every piece of
 * user text that enters the markup goes through escapeHtml.
 */
import type { ColumnCharts } from "../workers/drift/api";

export const REFERENCE_COLOR = "#4d7cfe";
export const CURRENT_COLOR = "#ee5540";

/** Escape text for HTML/SVG element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] as string);
}

const fmt = (x: number): string => (Number.isInteger(x) ? String(x) : x.toFixed(2));

/** Short, readable tick text for an axis value. */
export function tickLabel(x: number): string {
  const a = Math.abs(x);
  if (a !== 0 && (a >= 1e6 || a < 1e-3)) return x.toExponential(2);
  return String(Math.round(x * 1000) / 1000);
}

function bars(values: readonly number[], width: number, height: number, color: string, opacity = 1): string {
  const max = Math.max(...values, 0);
  if (values.length === 0 || max <= 0) return "";
  const w = width / values.length;
  return values
    .map((v, i) => {
      const h = (v / max) * height;
      return `<rect x="${fmt(i * w)}" y="${fmt(height - h)}" width="${fmt(Math.max(w - 0.5, 0.5))}" height="${fmt(h)}" fill="${color}" fill-opacity="${opacity}"/>`;
    })
    .join("");
}

/** A small histogram of one side, as in Evidently's table (numeric: density on the side's own bins). */
export function sparklineSvg(charts: ColumnCharts, side: "reference" | "current", width = 120, height = 32): string {
  const color = side === "reference" ? REFERENCE_COLOR : CURRENT_COLOR;
  const values = charts.kind === "num" ? charts[side].density : charts[side];
  const label = `${side} distribution`;
  return `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="${label}" class="drift-sparkline" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">${bars(values, width, height, color)}</svg>`;
}

/**
 * The detail chart: numeric columns as reference and current histograms overlaid on shared bins
 * (percent of each side), categorical columns as paired bars per category.
 */
export function detailSvg(charts: ColumnCharts, width = 640, height = 260): string {
  const padL = 52;
  const padB = charts.kind === "cat" ? 70 : 28;
  const padT = 10;
  const plotW = width - padL - 8;
  const plotH = height - padB - padT;
  const parts: string[] = [];
  let ref: number[];
  let cur: number[];
  let labels: string[];
  if (charts.kind === "num") {
    const rt = charts.overlay.reference.reduce((s, c) => s + c, 0) || 1;
    const ct = charts.overlay.current.reduce((s, c) => s + c, 0) || 1;
    ref = charts.overlay.reference.map((c) => (100 * c) / rt);
    cur = charts.overlay.current.map((c) => (100 * c) / ct);
    labels = [];
  } else {
    const rt = charts.reference.reduce((s, c) => s + c, 0) + (charts.other?.reference ?? 0) || 1;
    const ct = charts.current.reduce((s, c) => s + c, 0) + (charts.other?.current ?? 0) || 1;
    ref = charts.reference.map((c) => (100 * c) / rt);
    cur = charts.current.map((c) => (100 * c) / ct);
    labels = [...charts.categories];
    if (charts.other) {
      ref.push((100 * charts.other.reference) / rt);
      cur.push((100 * charts.other.current) / ct);
      labels.push(`(${charts.other.categories} others)`);
    }
  }
  const max = Math.max(...ref, ...cur, 0) || 1;
  const n = ref.length;
  const slot = plotW / Math.max(n, 1);
  const y = (v: number) => padT + plotH - (v / max) * plotH;
  parts.push(`<line x1="${padL}" y1="${padT + plotH}" x2="${padL + plotW}" y2="${padT + plotH}" stroke="#999"/>`);
  parts.push(`<line x1="${padL}" y1="${padT}" x2="${padL}" y2="${padT + plotH}" stroke="#999"/>`);
  for (const frac of [0, 0.5, 1]) {
    const v = max * frac;
    parts.push(`<text x="${padL - 4}" y="${fmt(y(v) + 4)}" font-size="10" text-anchor="end" fill="#555">${escapeHtml(String(Math.round(v * 10) / 10))}%</text>`);
  }
  for (let i = 0; i < n; i++) {
    const x = padL + i * slot;
    if (charts.kind === "num") {
      // Overlaid: both bars span the bin; the lighter reference shows through the current.
      parts.push(`<rect x="${fmt(x)}" y="${fmt(y(ref[i]))}" width="${fmt(Math.max(slot - 0.5, 0.5))}" height="${fmt(padT + plotH - y(ref[i]))}" fill="${REFERENCE_COLOR}" fill-opacity="0.55"/>`);
      parts.push(`<rect x="${fmt(x)}" y="${fmt(y(cur[i]))}" width="${fmt(Math.max(slot - 0.5, 0.5))}" height="${fmt(padT + plotH - y(cur[i]))}" fill="${CURRENT_COLOR}" fill-opacity="0.45"/>`);
    } else {
      const w = Math.max(slot / 2 - 1, 0.5);
      parts.push(`<rect x="${fmt(x + 1)}" y="${fmt(y(ref[i]))}" width="${fmt(w)}" height="${fmt(padT + plotH - y(ref[i]))}" fill="${REFERENCE_COLOR}"/>`);
      parts.push(`<rect x="${fmt(x + 1 + w)}" y="${fmt(y(cur[i]))}" width="${fmt(w)}" height="${fmt(padT + plotH - y(cur[i]))}" fill="${CURRENT_COLOR}"/>`);
      const lx = x + slot / 2;
      const ly = padT + plotH + 10;
      const text = labels[i].length > 18 ? `${labels[i].slice(0, 17)}…` : labels[i];
      parts.push(`<text x="${fmt(lx)}" y="${fmt(ly)}" font-size="10" fill="#333" text-anchor="end" transform="rotate(-45 ${fmt(lx)} ${fmt(ly)})"><title>${escapeHtml(labels[i])}</title>${escapeHtml(text)}</text>`);
    }
  }
  if (charts.kind === "num") {
    const edges = charts.overlay.edges;
    parts.push(`<text x="${padL}" y="${padT + plotH + 16}" font-size="10" fill="#555">${escapeHtml(tickLabel(edges[0]))}</text>`);
    parts.push(`<text x="${padL + plotW}" y="${padT + plotH + 16}" font-size="10" fill="#555" text-anchor="end">${escapeHtml(tickLabel(edges[edges.length - 1]))}</text>`);
  }
  const lx = width - 150;
  const ly = padT + 10;
  parts.push(`<rect x="${lx}" y="${ly - 8}" width="10" height="8" fill="${REFERENCE_COLOR}"/><text x="${lx + 14}" y="${ly}" font-size="10" fill="#333">reference</text>`);
  parts.push(`<rect x="${lx + 80}" y="${ly - 8}" width="10" height="8" fill="${CURRENT_COLOR}"/><text x="${lx + 94}" y="${ly}" font-size="10" fill="#333">current</text>`);
  return `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="distribution of reference and current" class="drift-detail" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">${parts.join("")}</svg>`;
}
