/**
 * Pipeline runs in the lineage graph: the dataset versions that triggered a run or that its tasks read
 * (drift checks, sensors) link upstream of it; the versions it snapshotted, the monitors it reported to
 * and the model versions it registered link downstream. Links are recorded as the tasks succeed.
 */
import type { LineageProvider } from "../datasets/lineage";
import type { Link, NodeRef } from "../lib/lineage";
import type { PipelineStore, RunLinkRow } from "./store";

/** Links per node at most; the graph walk caps the whole graph as well. */
const MAX_LINKS = 100;

const runNode = (runId: string): NodeRef => ({ kind: "pipeline_run", key: runId });

/** Several tasks may touch one object the same way: one edge each way is enough for the graph. */
function unique(links: Link[]): Link[] {
  const seen = new Set<string>();
  return links.filter((l) => {
    const k = `${l.node.kind}:${l.node.key}>${l.edge}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

const toNode = (r: RunLinkRow): Link => ({ node: { kind: r.nodeKind, key: r.nodeKey }, edge: r.edge });

export function pipelineRunLineage(store: PipelineStore): LineageProvider {
  return {
    kinds: ["pipeline_run"],
    async upstream(node: NodeRef): Promise<Link[]> {
      if (node.kind === "pipeline_run") return unique((await store.linksOfRun(node.key, MAX_LINKS)).filter((r) => r.direction === "input").map(toNode));
      // Objects a run made have the run upstream of them.
      return unique((await store.linksToNode(node.kind, node.key, MAX_LINKS)).filter((r) => r.direction === "output").map((r) => ({ node: runNode(r.runId), edge: r.edge })));
    },
    async downstream(node: NodeRef): Promise<Link[]> {
      if (node.kind === "pipeline_run") return unique((await store.linksOfRun(node.key, MAX_LINKS)).filter((r) => r.direction === "output").map(toNode));
      return unique((await store.linksToNode(node.kind, node.key, MAX_LINKS)).filter((r) => r.direction === "input").map((r) => ({ node: runNode(r.runId), edge: r.edge })));
    },
    async describe(node: NodeRef) {
      if (node.kind !== "pipeline_run") return null;
      const run = await store.getRun(node.key);
      if (!run) return null;
      const pipeline = await store.getPipeline(run.pipelineId);
      const name = pipeline?.name ?? run.pipelineId;
      return {
        label: `${name} ${new Date(run.logicalDate).toISOString().slice(0, 16).replace("T", " ")}`,
        data: { pipeline_id: run.pipelineId, pipeline: name, version: run.version, run_type: run.runType, state: run.state, logical_date: run.logicalDate, started_at: run.startedAt, ended_at: run.endedAt },
      };
    },
  };
}
