/**
 * One trace's page: its info and spans, the span tree with the collapsed spans and the selected one,
 * and the experiment for the breadcrumb. The selected span is kept in the URL (?span=) so a link
 * opens on it.
 */
import { replaceState } from "$app/navigation";
import { SvelteSet } from "svelte/reactivity";
import { api, ApiClientError, type MlflowExperiment, type MlflowTraceInfo } from "$lib/api/client";
import { ancestorsOf, buildSpanTree, visibleSpans, type SpanNode, type SpanTree } from "$lib/traces/span-tree";
import { errorMessage } from "./run-fields";

export class TraceDetailState {
  readonly experimentId: string;
  readonly traceId: string;
  info = $state.raw<MlflowTraceInfo | null>(null);
  tree = $state.raw<SpanTree | null>(null);
  experiment = $state.raw<MlflowExperiment | null>(null);
  loading = $state(true);
  error = $state<string | null>(null);
  notFound = $state(false);
  selectedId = $state<string | null>(null);
  readonly collapsed = new SvelteSet<string>();
  #seq = 0;

  constructor(experimentId: string, traceId: string, params: URLSearchParams) {
    this.experimentId = experimentId;
    this.traceId = traceId;
    this.selectedId = params.get("span");
  }

  readonly rows: SpanNode[] = $derived(this.tree ? visibleSpans(this.tree.roots, this.collapsed) : []);
  readonly selected: SpanNode | null = $derived((this.selectedId && this.tree?.byId.get(this.selectedId)) || null);
  readonly spanCount: number = $derived(this.tree?.byId.size ?? 0);

  async load(): Promise<void> {
    const seq = ++this.#seq;
    this.loading = this.info === null;
    try {
      const { trace } = await api.traces.get(this.traceId);
      if (seq !== this.#seq) return;
      this.info = trace.trace_info;
      this.tree = buildSpanTree(trace.spans ?? []);
      this.error = null;
      this.notFound = false;
      // Keep a selection that still exists; otherwise open on the first root, where the request starts.
      if (!this.selected) this.selectedId = this.tree.roots[0]?.spanId ?? null;
      else this.#reveal(this.selected.spanId);
    } catch (err) {
      if (seq !== this.#seq) return;
      this.notFound = err instanceof ApiClientError && err.status === 404;
      this.error = this.notFound ? `Trace ${this.traceId} does not exist.` : errorMessage(err);
    } finally {
      if (seq === this.#seq) this.loading = false;
    }
    if (this.experiment === null) {
      try {
        this.experiment = (await api.mlflow.experiments.get(this.experimentId)).experiment;
      } catch {
        // The breadcrumb falls back to the experiment id.
      }
    }
  }

  select(spanId: string): void {
    if (!this.tree?.byId.has(spanId)) return;
    this.selectedId = spanId;
    this.#reveal(spanId);
    const url = new URL(window.location.href);
    url.searchParams.set("span", spanId);
    replaceState(url, {});
  }

  toggle(spanId: string): void {
    if (this.collapsed.has(spanId)) this.collapsed.delete(spanId);
    else this.collapsed.add(spanId);
  }

  expandAll(): void {
    this.collapsed.clear();
  }

  /** Collapses every span with children, leaving the roots' direct children in view. */
  collapseAll(): void {
    if (!this.tree) return;
    for (const node of this.tree.byId.values()) if (node.children.length && node.depth > 0) this.collapsed.add(node.spanId);
  }

  #reveal(spanId: string): void {
    if (!this.tree) return;
    for (const a of ancestorsOf(this.tree, spanId)) this.collapsed.delete(a.spanId);
  }
}
