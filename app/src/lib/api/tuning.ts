/**
 * The tuning pillar's part of the API client: studies, their trials, the best trials (the Pareto
 * front for multi-objective studies) and parameter importances, with the wire shapes they come in.
 */
import { quoteFilterValue } from "$lib/state/run-fields";
import { query, request } from "./client";
import type { ParamImportance, Study, Trial } from "./tuning-types";

export * from "./tuning-types";

const BASE = "/api/v1/studies";
const studyPath = (id: string) => `${BASE}/${encodeURIComponent(id)}`;
/** The API's page size cap; a study page reads every trial in pages this large. */
const TRIAL_PAGE = 1000;

/** The list filter for names containing `text`, case-insensitively (the search grammar's ILIKE). */
export const nameFilter = (text: string): string => `name ILIKE ${quoteFilterValue(`%${text}%`)}`;

export const tuningApi = {
  studies: {
    list: (input: { filter?: string; max_results?: number; page_token?: string }) =>
      request<{ studies: Study[]; next_page_token?: string | null }>("GET", `${BASE}?${query(input)}`),
    get: (id: string) => request<{ study: Study }>("GET", studyPath(id)),
    delete: (id: string) => request<object>("DELETE", studyPath(id)),
  },
  trials: {
    page: (studyId: string, input: { state?: string; max_results?: number; page_token?: string }) =>
      request<{ trials: Trial[]; next_page_token?: string | null }>("GET", `${studyPath(studyId)}/trials?${query(input)}`),
    /** Every trial of the study, in trial-number order, following the page tokens. */
    all: async (studyId: string): Promise<Trial[]> => {
      const trials: Trial[] = [];
      let token: string | undefined;
      do {
        const page = await tuningApi.trials.page(studyId, { max_results: TRIAL_PAGE, page_token: token });
        trials.push(...page.trials);
        token = page.next_page_token ?? undefined;
      } while (token);
      return trials.sort((a, b) => a.number - b.number);
    },
  },
  bestTrials: (studyId: string) => request<{ trials: Trial[] }>("GET", `${studyPath(studyId)}/best-trials`),
  paramImportances: (studyId: string, objective = 0) =>
    request<{ importances: ParamImportance[] }>("GET", `${studyPath(studyId)}/param-importances?${query({ objective })}`),
};
