/**
 * Checks a spec in the browser as the editor's text changes, with the same pure parser the server
 * uses, so most problems show before saving. The server still checks on save and has the last word.
 */
import { parsePipelineSpec, SpecError, type SpecIssue } from "../../../../worker/lib/pipelines/spec";

export type { SpecIssue };

export type SpecCheck = { ok: true; tasks: number } | { ok: false; issues: SpecIssue[] };

export function checkSpecText(text: string): SpecCheck {
  if (!text.trim()) return { ok: false, issues: [{ path: "spec", message: "is empty" }] };
  try {
    const spec = parsePipelineSpec(text);
    return { ok: true, tasks: Object.keys(spec.tasks).length };
  } catch (err) {
    if (err instanceof SpecError) return { ok: false, issues: err.issues };
    return { ok: false, issues: [{ path: "spec", message: err instanceof Error ? err.message : String(err) }] };
  }
}

/** A starting point for a new pipeline: the shape of a daily job with an agent task. */
export const EXAMPLE_SPEC = `description: Daily predictions for the next session
schedule: "0 5 * * 1-5"
timezone: America/New_York
catchup: false
params:
  symbol: SPY
default_args:
  retries: 2
  retry_delay: 5m
tasks:
  fetch:
    kind: http
    url: https://example.com/prices/{{ params.symbol }}?date={{ ds }}
  features:
    kind: agent
    queue: default
    depends_on: fetch
    command: python features.py --symbol {{ params.symbol }} --date {{ ds }}
  predict:
    kind: agent
    depends_on: features
    command: python predict.py --date {{ ds }}
  store:
    kind: noop
    depends_on: predict
`;
