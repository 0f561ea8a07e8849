/**
 * The run graph's layout: dagre places the DAG's tasks left to right (upstream first) and routes the
 * edges; the page draws the result as SVG. Node sizes follow the task id's length.
 */
import dagre from "@dagrejs/dagre";
import type { PipelineSpec } from "../api/pipeline-types";

export interface LaidOutNode {
  id: string;
  kind: string;
  /** Centre, as dagre gives it. */
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface LaidOutEdge {
  from: string;
  to: string;
  points: { x: number; y: number }[];
}

export interface GraphLayout {
  width: number;
  height: number;
  nodes: LaidOutNode[];
  edges: LaidOutEdge[];
}

export const NODE_HEIGHT = 46;
/** Rough glyph widths of the node's title (12px mono) and subtitle (10px sans). */
const TITLE_CHAR = 7.5;
const SUBTITLE_CHAR = 5.8;
/** The longest subtitle after the kind: " · upstream failed". */
const SUBTITLE_TAIL = 18;

/** Wide enough for the id and for the kind with the longest state label, so text never spills out. */
export const nodeWidth = (id: string, kind: string): number => Math.max(110, Math.ceil(id.length * TITLE_CHAR) + 28, Math.ceil((kind.length + SUBTITLE_TAIL) * SUBTITLE_CHAR) + 20);

export function layoutDag(spec: Pick<PipelineSpec, "tasks">): GraphLayout {
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: "LR", nodesep: 20, ranksep: 44, marginx: 10, marginy: 10 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const [id, t] of Object.entries(spec.tasks)) g.setNode(id, { width: nodeWidth(id, t.kind), height: NODE_HEIGHT });
  for (const [id, t] of Object.entries(spec.tasks)) for (const up of t.depends_on) if (up in spec.tasks) g.setEdge(up, id);
  dagre.layout(g);
  const nodes = g.nodes().map((id) => {
    const n = g.node(id);
    return { id, kind: spec.tasks[id].kind, x: n.x, y: n.y, width: n.width, height: n.height };
  });
  const edges = g.edges().map((e) => ({ from: e.v, to: e.w, points: g.edge(e).points ?? [] }));
  const label = g.graph();
  return { width: label.width ?? 0, height: label.height ?? 0, nodes, edges };
}

/** An SVG path through an edge's points. */
export function edgePath(points: { x: number; y: number }[]): string {
  return points.map((p, i) => `${i ? "L" : "M"}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(" ");
}
