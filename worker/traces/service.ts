/**
 * MLflow tracing: span ingest (OTLP), trace infos started and completed by the client (the 3.0 and
 * the older 2.0 flow), get and batch get with spans, search, tags and deletion. Experiments are the
 * tracking service's; this service asks it for them.
 */
import { invalid, notFound } from "../http/errors";
import { offsetToken, parseOffsetToken } from "../http/paging";
import type { OtlpSpan } from "../lib/otlp";
import type { Page } from "../tracking/model";
import type { TrackingService } from "../tracking/service";
import {
  MLFLOW_KEYS,
  SPANS_IN_TRACKING_STORE,
  TRACE_LIMITS,
  TraceSearchError,
  mlflowAttribute,
  nsToMs,
  parseTraceFilter,
  parseTraceOrderBy,
  previewOf,
  type Assessment,
  type AssessmentKind,
  type Span,
  type Trace,
  type TraceInfo,
  type TraceState,
} from "./model";
import type { TraceIngest, TraceStore } from "./store";

/** One span's stored JSON must stay well under D1's 2 MB row limit. */
const MAX_SPAN_CHARS = 1_800_000;
const EXPERIMENT_ID = /^\d{1,15}$/;

function searching<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (err instanceof TraceSearchError) throw invalid(err.message);
    throw err;
  }
}

const traceNotFound = (traceId: string) => notFound(`Trace with ID '${traceId}' not found.`);

/** The state the root span gives its trace: still open, failed, or done. */
function rootState(span: Span): TraceState {
  if (!span.endTimeNs || span.endTimeNs === "0") return "IN_PROGRESS";
  return span.statusCode === 2 ? "ERROR" : "OK";
}

export interface StartTraceInput {
  traceId?: string | null;
  experimentId: string;
  requestTime: number;
  executionDuration: number | null;
  state: TraceState;
  requestPreview: string | null;
  responsePreview: string | null;
  clientRequestId: string | null;
  metadata: Record<string, string>;
  tags: Record<string, string>;
}

/** What createAssessment reads from the client's Assessment message. */
export interface AssessmentInput {
  name: string | undefined;
  spanId: string | null;
  source: { sourceType: string; sourceId: string } | null;
  feedback: Record<string, unknown> | undefined;
  expectation: Record<string, unknown> | undefined;
  rationale: string | null;
  metadata: Record<string, string>;
  overrides: string | null;
  valid: boolean | undefined;
  createTime: number | null;
  lastUpdateTime: number | null;
}

/** The fields an update may change; a field left undefined keeps its value. */
export interface AssessmentPatch {
  name?: string;
  feedback?: Record<string, unknown>;
  expectation?: Record<string, unknown>;
  rationale?: string;
  metadata?: Record<string, string>;
}

export const ASSESSMENT_SOURCE_TYPES = ["SOURCE_TYPE_UNSPECIFIED", "HUMAN", "LLM_JUDGE", "CODE"] as const;
const MAX_LINKED_TRACES = 100;

export interface TraceSearchInput {
  experimentIds: string[];
  filter?: string | null;
  orderBy: string[];
  maxResults?: number | null;
  pageToken?: string | null;
}

export class TraceService {
  constructor(
    private readonly store: TraceStore,
    private readonly tracking: Pick<TrackingService, "getExperiment" | "getRun">,
    private readonly now: () => number = Date.now,
  ) {}

  private async activeExperiment(experimentId: string) {
    if (!EXPERIMENT_ID.test(experimentId)) throw invalid(`Invalid experiment ID '${experimentId}': experiment IDs are decimal numbers.`);
    const exp = await this.tracking.getExperiment(experimentId);
    if (exp.lifecycleStage !== "active") throw invalid(`The experiment ${exp.experimentId} must be in the 'active' state. Current state is ${exp.lifecycleStage}.`);
    return exp;
  }

  private artifactLocation(experimentArtifacts: string, traceId: string): string {
    return `${experimentArtifacts.replace(/\/$/, "")}/traces/${traceId}/artifacts`;
  }

  /**
   * OTLP ingest. The experiment comes from the x-mlflow-experiment-id header (MLflow's client) or,
   * for other OpenTelemetry exporters, an mlflow.experimentId span or resource attribute.
   */
  async ingest(headerExperimentId: string | null, otlpSpans: OtlpSpan[]): Promise<{ traces: number; spans: number }> {
    const groups = new Map<string, { experimentId: string; spans: Span[] }>();
    for (const o of otlpSpans) {
      const requestId = mlflowAttribute(o.attributes[MLFLOW_KEYS.requestId]);
      const traceId = typeof requestId === "string" && requestId ? requestId : `tr-${o.traceId}`;
      const attrExperiment = mlflowAttribute(o.attributes[MLFLOW_KEYS.experimentId] ?? o.resourceAttributes[MLFLOW_KEYS.experimentId]);
      const experimentId = headerExperimentId?.trim() || (attrExperiment == null ? "" : String(attrExperiment));
      if (!experimentId) {
        throw invalid("Missing experiment: send the 'x-mlflow-experiment-id' header (or an mlflow.experimentId resource attribute).");
      }
      const spanType = mlflowAttribute(o.attributes[MLFLOW_KEYS.spanType]);
      const span: Span = {
        traceId,
        spanId: o.spanId,
        parentSpanId: o.parentSpanId,
        otelTraceId: o.traceId,
        name: o.name,
        kind: o.kind,
        startTimeNs: o.startTimeUnixNano,
        endTimeNs: o.endTimeUnixNano === "0" ? null : o.endTimeUnixNano,
        statusCode: o.status.code,
        statusMessage: o.status.message,
        spanType: typeof spanType === "string" ? spanType : null,
        attributes: o.attributes,
        events: o.events.map((e) => ({ name: e.name, timeUnixNano: e.timeUnixNano, attributes: e.attributes })),
      };
      if (JSON.stringify(span.attributes).length + JSON.stringify(span.events).length > MAX_SPAN_CHARS) {
        throw invalid(`Span '${span.spanId}' of trace '${traceId}' is too large to store (over ${MAX_SPAN_CHARS} characters of attributes and events).`);
      }
      const group = groups.get(traceId) ?? { experimentId, spans: [] };
      if (group.experimentId !== experimentId) throw invalid(`Spans of trace '${traceId}' name two experiments: '${group.experimentId}' and '${experimentId}'.`);
      // A span sent twice in one request keeps its last copy, as a re-send would.
      group.spans = [...group.spans.filter((s) => s.spanId !== span.spanId), span];
      groups.set(traceId, group);
    }
    for (const experimentId of new Set([...groups.values()].map((g) => g.experimentId))) await this.activeExperiment(experimentId);
    const ingests: TraceIngest[] = [];
    for (const [traceId, g] of groups) {
      let earliest = g.spans[0].startTimeNs;
      for (const s of g.spans) if (BigInt(s.startTimeNs) < BigInt(earliest)) earliest = s.startTimeNs;
      const root = g.spans.find((s) => s.parentSpanId === null) ?? null;
      ingests.push({
        traceId,
        experimentId: Number(g.experimentId),
        requestTime: nsToMs(earliest),
        spans: g.spans,
        root: root && {
          state: rootState(root),
          executionDuration: root.endTimeNs ? nsToMs((BigInt(root.endTimeNs) - BigInt(root.startTimeNs)).toString()) : null,
          requestPreview: previewOf(root.attributes[MLFLOW_KEYS.inputs]),
          responsePreview: previewOf(root.attributes[MLFLOW_KEYS.outputs]),
          name: root.name,
        },
      });
    }
    if (ingests.length) await this.store.ingest(ingests, this.now());
    return { traces: ingests.length, spans: ingests.reduce((n, t) => n + t.spans.length, 0) };
  }

  /**
   * Start trace (3.0): the client sends the finished trace's info. Spans already ingested for it
   * mark it as kept in the tracking store, so the client does not also upload them as an artifact.
   */
  async startTrace(input: StartTraceInput): Promise<TraceInfo> {
    if (!input.experimentId) throw invalid("Missing value for required parameter 'trace.trace_info.trace_location.mlflow_experiment.experiment_id'. See the API docs for more information about request parameters.");
    const exp = await this.activeExperiment(input.experimentId);
    const traceId = input.traceId || `tr-${crypto.randomUUID().replaceAll("-", "")}`;
    const existing = await this.store.getInfo(traceId);
    if (existing && existing.experimentId !== exp.experimentId) {
      throw invalid(`Trace '${traceId}' belongs to experiment ${existing.experimentId}, not ${exp.experimentId}.`);
    }
    const tags = { ...input.tags };
    if (!existing?.tags[MLFLOW_KEYS.artifactLocation]) tags[MLFLOW_KEYS.artifactLocation] ??= this.artifactLocation(exp.artifactLocation, traceId);
    if (await this.store.hasSpans(traceId)) tags[MLFLOW_KEYS.spansLocation] = SPANS_IN_TRACKING_STORE;
    await this.store.upsertInfo(
      {
        traceId,
        experimentId: exp.experimentId,
        requestTime: input.requestTime,
        executionDuration: input.executionDuration,
        state: input.state,
        requestPreview: input.requestPreview,
        responsePreview: input.responsePreview,
        clientRequestId: input.clientRequestId,
        metadata: input.metadata,
        tags,
      },
      this.now(),
    );
    return this.getInfo(traceId);
  }

  /** Start trace (2.0): the trace is opened before it runs and ended by endTrace. */
  async startTraceV2(input: { experimentId: string; timestampMs: number; metadata: Record<string, string>; tags: Record<string, string> }): Promise<TraceInfo> {
    return this.startTrace({
      traceId: null,
      experimentId: input.experimentId,
      requestTime: input.timestampMs,
      executionDuration: null,
      state: "IN_PROGRESS",
      requestPreview: null,
      responsePreview: null,
      clientRequestId: null,
      metadata: input.metadata,
      tags: input.tags,
    });
  }

  async endTraceV2(traceId: string, input: { timestampMs: number; state: TraceState; metadata: Record<string, string>; tags: Record<string, string> }): Promise<TraceInfo> {
    await this.getInfo(traceId);
    await this.store.end(traceId, input.state, input.timestampMs, input.metadata, input.tags, this.now());
    return this.getInfo(traceId);
  }

  async getInfo(traceId: string): Promise<TraceInfo> {
    const info = await this.store.getInfo(traceId);
    if (!info) throw traceNotFound(traceId);
    return info;
  }

  async getTrace(traceId: string): Promise<Trace> {
    const info = await this.getInfo(traceId);
    const spans = await this.store.getSpans([traceId]);
    return { info, spans: spans.get(traceId) ?? [] };
  }

  /** The traces that exist among these ids, in the order asked; unknown ids are left out. */
  async batchGet(traceIds: string[]): Promise<Trace[]> {
    const unique = [...new Set(traceIds.filter((id) => id))];
    if (unique.length > TRACE_LIMITS.searchDefault) throw invalid(`At most ${TRACE_LIMITS.searchDefault} trace IDs can be fetched at once, got ${unique.length}.`);
    const infos = await this.store.getInfos(unique);
    const spans = await this.store.getSpans(infos.map((i) => i.traceId));
    return infos.map((info) => ({ info, spans: spans.get(info.traceId) ?? [] }));
  }

  async search(q: TraceSearchInput): Promise<Page<TraceInfo>> {
    const limit = q.maxResults ?? TRACE_LIMITS.searchDefault;
    if (!Number.isInteger(limit) || limit < 1 || limit > TRACE_LIMITS.searchMax) {
      throw invalid(`Invalid value ${limit} for parameter 'max_results' supplied. It must be between 1 and ${TRACE_LIMITS.searchMax}.`);
    }
    const filter = searching(() => parseTraceFilter(q.filter));
    const orderBy = searching(() => q.orderBy.map(parseTraceOrderBy));
    const offset = parseOffsetToken(q.pageToken);
    const experimentIds = q.experimentIds.filter((id) => EXPERIMENT_ID.test(id)).map(Number);
    const ids = await this.store.searchIds({ experimentIds, filter, orderBy, offset, limit: limit + 1 });
    const items = await this.store.getInfos(ids.slice(0, limit));
    return { items, nextPageToken: ids.length > limit ? offsetToken(offset + limit) : null };
  }

  // --- assessments ---------------------------------------------------------------------------

  async createAssessment(traceId: string, input: AssessmentInput): Promise<Assessment> {
    if (!input.name) throw invalid("Missing value for required parameter 'assessment.assessment_name'. See the API docs for more information about request parameters.");
    if ((input.feedback === undefined) === (input.expectation === undefined)) {
      throw invalid("Exactly one of 'assessment.feedback' and 'assessment.expectation' must be specified.");
    }
    if (input.source && !(ASSESSMENT_SOURCE_TYPES as readonly string[]).includes(input.source.sourceType)) {
      throw invalid(`Invalid value '${input.source.sourceType}' for parameter 'assessment.source.source_type' supplied. Expected one of ${ASSESSMENT_SOURCE_TYPES.join(", ")}.`);
    }
    await this.getInfo(traceId);
    if (input.overrides && !(await this.store.getAssessment(traceId, input.overrides))) {
      throw notFound(`Assessment with ID '${input.overrides}' not found for trace '${traceId}'`);
    }
    const now = this.now();
    const kind: AssessmentKind = input.feedback !== undefined ? "feedback" : "expectation";
    const assessment: Assessment = {
      assessmentId: `a-${crypto.randomUUID().replaceAll("-", "")}`,
      traceId,
      name: input.name,
      kind,
      spanId: input.spanId,
      source: input.source,
      body: (input.feedback ?? input.expectation)!,
      rationale: input.rationale,
      metadata: input.metadata,
      overrides: input.overrides,
      valid: input.valid ?? true,
      createTime: input.createTime ?? now,
      lastUpdateTime: input.lastUpdateTime ?? input.createTime ?? now,
    };
    await this.store.createAssessment(assessment);
    return assessment;
  }

  async getAssessment(traceId: string, assessmentId: string): Promise<Assessment> {
    const found = await this.store.getAssessment(traceId, assessmentId);
    if (found) return found;
    await this.getInfo(traceId);
    throw notFound(`Assessment with ID '${assessmentId}' not found for trace '${traceId}'`);
  }

  /** Source and span are immutable; metadata merges into what is there; the update time is now. */
  async updateAssessment(traceId: string, assessmentId: string, patch: AssessmentPatch): Promise<Assessment> {
    const existing = await this.getAssessment(traceId, assessmentId);
    if (patch.feedback !== undefined && patch.expectation !== undefined) throw invalid("Cannot specify both `expectation` and `feedback` parameters.");
    if (patch.expectation !== undefined && existing.kind !== "expectation") throw invalid("Cannot update expectation value on a Feedback assessment.");
    if (patch.feedback !== undefined && existing.kind !== "feedback") throw invalid("Cannot update feedback value on an Expectation assessment.");
    if (patch.name !== undefined && !patch.name) throw invalid("The assessment name cannot be empty.");
    const updated: Assessment = {
      ...existing,
      name: patch.name ?? existing.name,
      body: patch.feedback ?? patch.expectation ?? existing.body,
      rationale: patch.rationale ?? existing.rationale,
      metadata: { ...existing.metadata, ...(patch.metadata ?? {}) },
      lastUpdateTime: this.now(),
    };
    await this.store.updateAssessment(updated);
    return updated;
  }

  /** Deleting an assessment that is not there is a no-op (the trace must exist). */
  async deleteAssessment(traceId: string, assessmentId: string): Promise<void> {
    await this.getInfo(traceId);
    const existing = await this.store.getAssessment(traceId, assessmentId);
    if (existing) await this.store.deleteAssessment(existing);
  }

  /** traces/link-to-run: at most 100 traces per call; ids of traces that do not exist are skipped. */
  async linkToRun(traceIds: string[], runId: string): Promise<void> {
    if (!runId) throw invalid("Missing value for required parameter 'run_id'. See the API docs for more information about request parameters.");
    const unique = [...new Set(traceIds.filter((id) => id))];
    if (unique.length > MAX_LINKED_TRACES) {
      throw invalid(`Cannot link more than ${MAX_LINKED_TRACES} traces to a run in a single request. Provided ${unique.length} traces.`);
    }
    await this.tracking.getRun(runId);
    if (unique.length) await this.store.linkToRun(unique, runId);
  }

  async setTag(traceId: string, key: string, value: string): Promise<void> {
    if (!key) throw invalid("Missing value for required parameter 'key'. See the API docs for more information about request parameters.");
    if (key.length > TRACE_LIMITS.tagKeyLength) throw invalid(`Trace tag key '${key.slice(0, 50)}...' had length ${key.length}, which exceeded length limit of ${TRACE_LIMITS.tagKeyLength}`);
    if (value.length > TRACE_LIMITS.tagValueLength) {
      throw invalid(`Trace tag value '${value.slice(0, 50)}...' had length ${value.length}, which exceeded length limit of ${TRACE_LIMITS.tagValueLength}`);
    }
    await this.getInfo(traceId);
    await this.store.setTag(traceId, key, value);
  }

  async deleteTag(traceId: string, key: string): Promise<void> {
    if (!key) throw invalid("Missing value for required parameter 'key'. See the API docs for more information about request parameters.");
    await this.getInfo(traceId);
    if (!(await this.store.deleteTag(traceId, key))) throw notFound(`No trace tag with key '${key}' for trace with ID '${traceId}'`);
  }

  /** delete-traces: either everything up to a time (the oldest max_traces first) or the listed ids. */
  async deleteTraces(input: { experimentId: string; maxTimestampMillis?: number | null; maxTraces?: number | null; traceIds: string[] }): Promise<number> {
    if (!input.experimentId) throw invalid("Missing value for required parameter 'experiment_id'. See the API docs for more information about request parameters.");
    const byTime = input.maxTimestampMillis != null;
    const byIds = input.traceIds.length > 0;
    if (byTime === byIds) throw invalid("Exactly one of `max_timestamp_millis` and `request_ids` must be specified.");
    if (byIds && input.maxTraces != null) throw invalid("`max_traces` can't be specified if `request_ids` is specified.");
    if (input.maxTraces != null && (!Number.isInteger(input.maxTraces) || input.maxTraces < 1)) {
      throw invalid(`Invalid value ${input.maxTraces} for parameter 'max_traces' supplied. It must be a positive integer.`);
    }
    if (byIds && input.traceIds.length > TRACE_LIMITS.deleteMax) throw invalid(`At most ${TRACE_LIMITS.deleteMax} traces can be deleted at once.`);
    if (!EXPERIMENT_ID.test(input.experimentId)) return 0;
    const experimentId = Number(input.experimentId);
    return byIds
      ? this.store.deleteTraces({ experimentId, traceIds: input.traceIds })
      : this.store.deleteTraces({ experimentId, maxTimestampMillis: input.maxTimestampMillis!, maxTraces: input.maxTraces ?? null });
  }
}
