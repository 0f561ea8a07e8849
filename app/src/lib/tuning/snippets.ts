/**
 * The snippets a study with no trials yet shows: the ask → report → tell loop against this very study,
 * in the shape the pillar snippets use (curl and standard-library Python).
 */
import type { PillarSnippets } from "../snippets";

export function studySnippets(studyId: string): PillarSnippets {
  const base = `/api/v1/studies/${encodeURIComponent(studyId)}`;
  return {
    intro: "Ask for a trial, train with its params, report progress (the pruner may stop it early), then tell the result.",
    calls: [
      { method: "POST", path: `${base}/ask`, body: { search_space: { lr: { type: "float", low: 1e-5, high: 1e-1, log: true }, depth: { type: "int", low: 2, high: 12 } } } },
      { method: "POST", path: `${base}/trials/0/report`, body: { step: 1, value: 0.52 } },
      { method: "POST", path: `${base}/trials/0/tell`, body: { values: [0.42] } },
    ],
  };
}
