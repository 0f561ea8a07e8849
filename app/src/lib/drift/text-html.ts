/**
 * The detail of a text column as HTML markup, shared by the report page and the standalone export:
 * what the domain classifier's ROC AUC was compared with, the words that tell current from
 * reference, the held-out rows most typical of each side, and the drift of the text descriptors.
 * Every word, row and message is escaped.
 */
import type { TextDriftDetails } from "../../../../worker/lib/drift";
import { escapeHtml } from "./charts-svg";
import { formatScore } from "./report";

const DESCRIPTOR_LABELS: Record<string, string> = {
  length: "Text length (characters)",
  words: "Word count",
  non_letter_percent: "Non-letter characters (%)",
};

const wordList = (words: readonly string[], cls: string) =>
  words.length ? `<ul class="drift-words ${cls}">${words.map((w) => `<li>${escapeHtml(w)}</li>`).join("")}</ul>` : `<p class="drift-muted">none</p>`;

const exampleList = (rows: readonly string[]) =>
  rows.length ? `<ol class="drift-examples">${rows.map((r) => `<li>${escapeHtml(r) || "<i>(empty)</i>"}</li>`).join("")}</ol>` : `<p class="drift-muted">none</p>`;

export function textDetailHtml(text: TextDriftDetails, method?: string): string {
  const rule =
    method === "perc_text_content_drift"
      ? `drift when the ROC AUC exceeds ${formatScore(text.cutoff)}, the percentile of 1000 random classifiers' AUC on the same rows`
      : `drift when the ROC AUC exceeds ${formatScore(text.cutoff)}`;
  const descriptors = text.descriptors
    .map((d) => {
      const label = escapeHtml(DESCRIPTOR_LABELS[d.descriptor] ?? d.descriptor);
      if (d.error || d.score === undefined) return `<tr><td>${label}</td><td colspan="3" class="error">${escapeHtml(d.error?.message ?? "no result")}</td></tr>`;
      return `<tr data-descriptor="${escapeHtml(d.descriptor)}"><td>${label}</td><td>${escapeHtml(d.displayName ?? d.method ?? "")}</td><td>${escapeHtml(formatScore(d.score))}</td><td class="${d.drifted ? "detected" : "notdetected"}">${d.drifted ? "Detected" : "Not Detected"}</td></tr>`;
    })
    .join("");
  return `<div class="drift-text" data-testid="text-detail">
<p class="drift-muted">A classifier trained on ${text.trainRows} rows (TF-IDF of ${text.vocabularySize} words) told current from reference on ${text.testRows} held-out rows; ${escapeHtml(rule)}.</p>
<div class="drift-text-cols">
<div><h4>Words typical of current</h4>${wordList(text.words.current, "current")}</div>
<div><h4>Words typical of reference</h4>${wordList(text.words.reference, "reference")}</div>
</div>
<div class="drift-text-cols">
<div><h4>Rows typical of current</h4>${exampleList(text.examples.current)}</div>
<div><h4>Rows typical of reference</h4>${exampleList(text.examples.reference)}</div>
</div>
<h4>Text descriptors</h4>
<table class="drift-descriptors"><thead><tr><th>Descriptor</th><th>Stat test</th><th>Drift score</th><th>Data drift</th></tr></thead><tbody>${descriptors}</tbody></table>
</div>`;
}

/** Styles for the markup above (the page and the export both include them). */
export const TEXT_DETAIL_CSS = `
.drift-text h4{font-size:13px;font-weight:600;margin:10px 0 4px}
.drift-text .drift-muted{color:#6b7280;font-size:12px}
.drift-text-cols{display:grid;grid-template-columns:1fr 1fr;gap:16px}
.drift-words{display:flex;flex-wrap:wrap;gap:4px;list-style:none;padding:0;margin:0}
.drift-words li{border-radius:4px;padding:1px 6px;font-size:12px}
.drift-words.current li{background:#fde2dd;color:#9a2a17}.drift-words.reference li{background:#dfe7ff;color:#23408f}
.drift-examples{font-size:12px;margin:0;padding-left:18px}.drift-examples li{margin:2px 0;word-break:break-word}
.drift-descriptors{border-collapse:collapse;font-size:12px}.drift-descriptors th,.drift-descriptors td{padding:3px 8px;border-bottom:1px solid #e5e7eb;text-align:left}
.drift-text .detected{color:#b91c1c;font-weight:600}.drift-text .notdetected{color:#15803d}.drift-text .error{color:#b45309}
`;
