/**
 * The lineage graph as the page draws it: which of the endpoint's nodes to keep for separate upstream
 * and downstream depths (the endpoint walks both directions to one depth), where each object's page is,
 * and a left-to-right layered layout from dagre (data flows left to right).
 */
import dagre from "@dagrejs/dagre";
import type { LineageEdge, LineageGraph, LineageNode } from "../api/datasets-types";

export const NODE_WIDTH = 184;
export const NODE_HEIGHT = 52;

export interface PlacedNode {
  node: LineageNode;
  /** Top-left corner. */
  x: number;
  y: number;
  width: number;
  height: number;
  href: string | null;
  root: boolean;
}

export interface PlacedEdge {
  edge: LineageEdge;
  points: { x: number; y: number }[];
  label: string;
  /** The label's centre. */
  labelAt: { x: number; y: number };
}

/** Approximate width of one character of the 10 px edge labels. */
const EDGE_LABEL_CHAR = 5.6;
export const edgeLabel = (kind: string) => kind.replaceAll("_", " ");

export interface PlacedGraph {
  nodes: PlacedNode[];
  edges: PlacedEdge[];
  width: number;
  height: number;
}

/** Hops from the root against the data flow (upstream) and with it (downstream), by breadth-first search. */
function distances(root: string, edges: readonly LineageEdge[], upstream: boolean): Map<string, number> {
  const next = new Map<string, string[]>();
  for (const e of edges) {
    const [a, b] = upstream ? [e.to, e.from] : [e.from, e.to];
    next.set(a, [...(next.get(a) ?? []), b]);
  }
  const dist = new Map([[root, 0]]);
  let frontier = [root];
  while (frontier.length) {
    const following: string[] = [];
    for (const n of frontier) {
      for (const m of next.get(n) ?? []) {
        if (dist.has(m)) continue;
        dist.set(m, dist.get(n)! + 1);
        following.push(m);
      }
    }
    frontier = following;
  }
  return dist;
}

/** The nodes within `up` hops upstream or `down` hops downstream of the root, and the edges between them. */
export function limitDepth(g: LineageGraph, up: number, down: number): { nodes: LineageNode[]; edges: LineageEdge[] } {
  const ups = distances(g.root, g.edges, true);
  const downs = distances(g.root, g.edges, false);
  const keep = new Set(g.nodes.filter((n) => n.id === g.root || (ups.get(n.id) ?? Infinity) <= up || (downs.get(n.id) ?? Infinity) <= down).map((n) => n.id));
  return { nodes: g.nodes.filter((n) => keep.has(n.id)), edges: g.edges.filter((e) => keep.has(e.from) && keep.has(e.to)) };
}

const str = (v: unknown): string | null => (typeof v === "string" && v !== "" ? v : typeof v === "number" ? String(v) : null);

/** The app page of a lineage node, when the app has one. */
export function nodeHref(n: LineageNode): string | null {
  const d = n.data ?? {};
  if (d.missing) return null;
  if (n.kind === "dataset_version") {
    const dataset = str(d.dataset);
    const version = str(d.version);
    return dataset && version ? `/datasets/${encodeURIComponent(dataset)}/versions/${version}` : null;
  }
  if (n.kind === "run") {
    const experiment = str(d.experiment_id);
    return experiment ? `/experiments/${encodeURIComponent(experiment)}/runs/${encodeURIComponent(n.key)}` : null;
  }
  if (n.kind === "model_version") {
    const slash = n.key.lastIndexOf("/");
    return slash > 0 ? `/models/${encodeURIComponent(n.key.slice(0, slash))}/versions/${encodeURIComponent(n.key.slice(slash + 1))}` : null;
  }
  if (n.kind === "monitor") return `/monitoring/${encodeURIComponent(n.key)}`;
  if (n.kind === "pipeline_run" || n.kind === "pipeline") {
    const pipeline = str(d.pipeline_id) ?? (n.kind === "pipeline" ? n.key : null);
    return pipeline ? `/pipelines/${encodeURIComponent(pipeline)}` : "/pipelines";
  }
  return null;
}

export function layoutLineage(root: string, nodes: readonly LineageNode[], edges: readonly LineageEdge[]): PlacedGraph {
  const g = new dagre.graphlib.Graph({ multigraph: true });
  g.setGraph({ rankdir: "LR", nodesep: 24, ranksep: 36, marginx: 16, marginy: 16 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of nodes) g.setNode(n.id, { width: NODE_WIDTH, height: NODE_HEIGHT });
  // Labelled edges: dagre leaves room for the label between the ranks and says where to put it.
  edges.forEach((e, i) => g.setEdge(e.from, e.to, { width: edgeLabel(e.kind).length * EDGE_LABEL_CHAR + 8, height: 14, labelpos: "c" }, `${e.kind}:${i}`));
  dagre.layout(g);
  const placed = nodes.map((n) => {
    const p = g.node(n.id);
    return { node: n, x: p.x - NODE_WIDTH / 2, y: p.y - NODE_HEIGHT / 2, width: NODE_WIDTH, height: NODE_HEIGHT, href: nodeHref(n), root: n.id === root };
  });
  const placedEdges = edges.map((e, i) => {
    const label = g.edge({ v: e.from, w: e.to, name: `${e.kind}:${i}` });
    const points = (label?.points ?? []).map((p: { x: number; y: number }) => ({ x: p.x, y: p.y }));
    const mid = points[Math.floor(points.length / 2)] ?? { x: 0, y: 0 };
    return { edge: e, points, label: edgeLabel(e.kind), labelAt: { x: label?.x ?? mid.x, y: label?.y ?? mid.y } };
  });
  const size = g.graph();
  return { nodes: placed, edges: placedEdges, width: size.width ?? 0, height: size.height ?? 0 };
}

export const KIND_LABELS: Record<string, string> = {
  dataset_version: "Dataset version",
  run: "Run",
  model_version: "Model version",
  monitor: "Monitor",
  pipeline_run: "Pipeline run",
};
