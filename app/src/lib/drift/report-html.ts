/**
 * The drift report as ONE standalone HTML file: inline CSS, inline SVG charts, no script and a
 * Content-Security-Policy that forbids every external load, so it opens offline and shows the same
 * summary, table and per-column charts as the page. All user text (file and column names, category
 * values, error messages) is escaped.
 */
import { detailSvg, escapeHtml, sparklineSvg } from "./charts-svg";
import { formatScore, sortOutcomes, summarize, summaryTitle } from "./report";
import { TEXT_DETAIL_CSS, textDetailHtml } from "./text-html";
import type { ColumnOutcome } from "../workers/drift/api";

export interface ReportHtmlInput {
  referenceName: string;
  currentName: string;
  /** ISO timestamp shown in the header. */
  generatedAt: string;
  outcomes: readonly ColumnOutcome[];
  driftShare: number;
}

const CSS = `
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#1f2937;background:#fff}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:24px 0 8px}
.meta{color:#6b7280;font-size:13px}
.counters{display:flex;gap:12px;margin:16px 0}
.counter{border:1px solid #e5e7eb;border-radius:8px;padding:10px 16px;min-width:120px}
.counter b{display:block;font-size:22px}.counter span{font-size:12px;color:#6b7280}
.verdict{padding:10px 14px;border-radius:8px;font-weight:600}
.verdict.drift{background:#fee2e2;color:#991b1b}.verdict.ok{background:#dcfce7;color:#166534}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{border-bottom:1px solid #e5e7eb;padding:6px 8px;text-align:left;vertical-align:middle}
th{background:#f9fafb;font-weight:600}
.detected{color:#b91c1c;font-weight:600}.notdetected{color:#15803d}
.error{color:#b45309}
details{margin:6px 0;border:1px solid #e5e7eb;border-radius:8px;padding:6px 10px}
summary{cursor:pointer;font-weight:600}
${TEXT_DETAIL_CSS}`;

function row(o: ColumnOutcome): string {
  const name = escapeHtml(o.column);
  const spark = (side: "reference" | "current") => (o.charts ? sparklineSvg(o.charts, side) : "");
  if (!o.result) {
    const message = escapeHtml(o.error?.message ?? "No result.");
    return `<tr class="error-row"><td>${name}</td><td>${escapeHtml(o.columnType)}</td><td>${spark("reference")}</td><td>${spark("current")}</td><td colspan="4" class="error">Error (${escapeHtml(o.error?.code ?? "")}): ${message}</td></tr>`;
  }
  const r = o.result;
  return `<tr><td>${name}</td><td>${escapeHtml(o.columnType)}</td><td>${spark("reference")}</td><td>${spark("current")}</td><td class="${r.drifted ? "detected" : "notdetected"}">${r.drifted ? "Detected" : "Not Detected"}</td><td>${escapeHtml(r.displayName)}</td><td>${escapeHtml(formatScore(r.threshold))}</td><td>${escapeHtml(formatScore(r.score))}</td></tr>`;
}

function detail(o: ColumnOutcome): string {
  if (!o.charts && !o.text) return "";
  const verdict = o.result ? `${o.result.displayName}: ${formatScore(o.result.score)} (${o.result.drifted ? "drift detected" : "no drift"})` : `error: ${o.error?.message ?? ""}`;
  const chart = o.charts ? `${o.text ? `<p class="meta">Text length (characters) of each row.</p>` : ""}${detailSvg(o.charts)}` : "";
  const text = o.text ? textDetailHtml(o.text, o.result?.method) : "";
  return `<details${o.text ? ' class="text-column"' : ""}><summary>${escapeHtml(o.column)} — ${escapeHtml(verdict)}</summary>${chart}${text}<p class="meta">${o.referenceRows} reference and ${o.currentRows} current values after removing missing ones.</p></details>`;
}

export function reportHtml(input: ReportHtmlInput): string {
  const outcomes = sortOutcomes(input.outcomes);
  const summary = summarize(outcomes, input.driftShare);
  const title = `Data drift: ${input.currentName} vs ${input.referenceName}`;
  const verdict = summary
    ? `<p class="verdict ${summary.datasetDrift ? "drift" : "ok"}">Dataset drift is ${summary.datasetDrift ? "detected" : "NOT detected"}. Dataset drift detection threshold is ${escapeHtml(String(summary.driftShare))}.</p>`
    : `<p class="verdict drift">No column could be compared.</p>`;
  const counters = summary
    ? `<div class="counters"><div class="counter"><b>${summary.numberOfColumns}</b><span>Columns</span></div><div class="counter"><b>${summary.numberOfDriftedColumns}</b><span>Drifted columns</span></div><div class="counter"><b>${summary.shareOfDriftedColumns.toFixed(3)}</b><span>Share of drifted columns</span></div>${summary.errors ? `<div class="counter"><b>${summary.errors}</b><span>Columns in error</span></div>` : ""}</div>`
    : "";
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title><style>${CSS}</style></head>
<body>
<h1>Data Drift Summary</h1>
<p class="meta">Reference: ${escapeHtml(input.referenceName)} · Current: ${escapeHtml(input.currentName)} · Generated ${escapeHtml(input.generatedAt)}</p>
${verdict}${counters}
<h2>${summary ? escapeHtml(summaryTitle(summary)) : "Drift could not be computed."}</h2>
<table><thead><tr><th>Column</th><th>Type</th><th>Reference distribution</th><th>Current distribution</th><th>Data drift</th><th>Stat test</th><th>Threshold</th><th>Drift score</th></tr></thead>
<tbody>${outcomes.map(row).join("\n")}</tbody></table>
<h2>Distributions</h2>
${outcomes.map(detail).join("\n")}
</body></html>
`;
}
