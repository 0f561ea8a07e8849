/**
 * The lineage graph around one object: fetched to the larger of the two depths, then cut to the
 * upstream and downstream depths the user picked and laid out.
 */
import { datasetsApi, type LineageGraph } from "$lib/api/datasets";
import { layoutLineage, limitDepth, type PlacedGraph } from "$lib/datasets/lineage-layout";
import { errorMessage } from "./run-fields";

export const MAX_LINEAGE_DEPTH = 10;

export class LineageState {
  upstream = $state(3);
  downstream = $state(3);
  graph = $state.raw<LineageGraph | null>(null);
  loading = $state(false);
  error = $state<string | null>(null);
  #fetchedDepth = 0;
  #seq = 0;

  constructor(readonly object: string) {}

  get placed(): PlacedGraph | null {
    const g = this.graph;
    if (!g) return null;
    const { nodes, edges } = limitDepth(g, this.upstream, this.downstream);
    return layoutLineage(g.root, nodes, edges);
  }

  async load(): Promise<void> {
    const depth = Math.max(this.upstream, this.downstream);
    if (this.graph && depth <= this.#fetchedDepth) return;
    const seq = ++this.#seq;
    this.loading = true;
    try {
      const g = await datasetsApi.lineage(this.object, depth);
      if (seq !== this.#seq) return;
      this.graph = g;
      this.#fetchedDepth = depth;
      this.error = null;
    } catch (err) {
      if (seq === this.#seq) this.error = errorMessage(err);
    } finally {
      if (seq === this.#seq) this.loading = false;
    }
  }

  setDepths(up: number, down: number): Promise<void> {
    this.upstream = Math.min(MAX_LINEAGE_DEPTH, Math.max(0, up));
    this.downstream = Math.min(MAX_LINEAGE_DEPTH, Math.max(0, down));
    return this.load();
  }
}
