/**
 * Lineage graphs, runtime-free: node ids ("dataset_version:<id>", "run:<id>", "model_version:<name>/<v>",
 * and whatever kinds other pillars add), parsing the references a run's MLflow inputs use to name a Tern
 * dataset version, and the bounded breadth-first walk upstream and downstream from one node.
 */

export type NodeKind = "dataset_version" | "run" | "model_version" | (string & {});

export interface NodeRef {
  kind: NodeKind;
  /** The kind's own identifier (a version id, a run id, "<model name>/<version>"). */
  key: string;
}

export interface LineageNode extends NodeRef {
  id: string;
  label: string;
  data: Record<string, unknown>;
}

export interface LineageEdge {
  /** Node ids: data flows from `from` to `to` (a dataset version into a run, a run into a model version). */
  from: string;
  to: string;
  kind: string;
}

/** One hop: the neighbour, the edge kind, and the neighbour's description when the hop already knows it. */
export interface Link {
  node: NodeRef;
  edge: string;
}

export const nodeId = (n: NodeRef) => `${n.kind}:${n.key}`;

export class LineageRefError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "LineageRefError";
  }
}

/** Parses "kind:key" as the lineage endpoint's `object` parameter takes it. */
export function parseNodeRef(raw: string): NodeRef {
  const colon = raw.indexOf(":");
  if (colon <= 0 || colon === raw.length - 1) throw new LineageRefError(`Invalid object '${raw}': expected <kind>:<id>, e.g. run:<run id>`);
  return { kind: raw.slice(0, colon), key: raw.slice(colon + 1) };
}

/** The kinds a pipeline task may say it read or made. */
export const TASK_LINK_KINDS = ["dataset_version", "model_version", "run"];

export interface TaskLink {
  ref: NodeRef;
  edge: string;
  direction: "input" | "output";
}

/**
 * What a task says it read (inputs) and made (outputs), as lineage refs with their edges (task_input and
 * task_output unless named). Throws LineageRefError naming the first bad entry.
 */
export function parseTaskLinks(inputs: readonly { object: string; edge?: string }[], outputs: readonly { object: string; edge?: string }[]): TaskLink[] {
  const links: TaskLink[] = [];
  for (const [direction, list] of [["input", inputs], ["output", outputs]] as const) {
    for (const [i, l] of list.entries()) {
      const where = `${direction}s[${i}].object`;
      let ref: NodeRef;
      try {
        ref = parseNodeRef(l.object);
      } catch (err) {
        throw err instanceof LineageRefError ? new LineageRefError(`${where}: ${err.message}`) : err;
      }
      if (!TASK_LINK_KINDS.includes(ref.kind)) throw new LineageRefError(`${where}: a task links ${TASK_LINK_KINDS.join(", ")}, not '${ref.kind}'`);
      links.push({ ref, edge: l.edge ?? `task_${direction}`, direction });
    }
  }
  return links;
}

/**
 * The dataset version an MLflow dataset source names, if it names one: a `tern://datasets/<name>/versions/<n>`
 * URI or any URL containing `/api/v1/datasets/<name>/versions/<n>` (e.g. the version's download URL).
 */
export function parseVersionSource(source: string): { dataset: string; version: number } | null {
  const m = /(?:^tern:\/\/|\/api\/v1\/)datasets\/([^/?#]+)\/versions\/(\d{1,9})(?:[/?#]|$)/.exec(source.trim());
  if (!m) return null;
  let dataset: string;
  try {
    dataset = decodeURIComponent(m[1]);
  } catch {
    return null;
  }
  return { dataset, version: Number(m[2]) };
}

/** MLflow serialises a dataset source as JSON ({"url": ...}, {"uri": ...}, {"path": ...}); plain text too. */
export function sourceText(source: string): string {
  try {
    const parsed = JSON.parse(source);
    if (parsed && typeof parsed === "object") {
      for (const k of ["uri", "url", "path", "source"]) {
        const v = (parsed as Record<string, unknown>)[k];
        if (typeof v === "string") return v;
      }
    }
  } catch {
    /* plain text */
  }
  return source;
}

export interface WalkOptions {
  depth: number;
  maxNodes: number;
  upstream: (n: NodeRef) => Promise<Link[]>;
  downstream: (n: NodeRef) => Promise<Link[]>;
}

/**
 * Every node reachable from `start` by following upstream links (against the data flow) and, separately,
 * downstream links (with it), each at most `depth` hops; stops adding nodes at `maxNodes` and says so.
 */
export async function walk(start: NodeRef, o: WalkOptions): Promise<{ nodes: NodeRef[]; edges: LineageEdge[]; truncated: boolean }> {
  const nodes = new Map<string, NodeRef>([[nodeId(start), start]]);
  const edges = new Map<string, LineageEdge>();
  let truncated = false;
  for (const direction of ["upstream", "downstream"] as const) {
    const step = direction === "upstream" ? o.upstream : o.downstream;
    let frontier = [start];
    const seen = new Set([nodeId(start)]);
    for (let hop = 0; hop < o.depth && frontier.length; hop++) {
      const next: NodeRef[] = [];
      for (const n of frontier) {
        for (const link of await step(n)) {
          const id = nodeId(link.node);
          if (!nodes.has(id)) {
            if (nodes.size >= o.maxNodes) {
              truncated = true;
              continue;
            }
            nodes.set(id, link.node);
          }
          const [from, to] = direction === "upstream" ? [id, nodeId(n)] : [nodeId(n), id];
          edges.set(`${from}>${to}>${link.edge}`, { from, to, kind: link.edge });
          if (!seen.has(id)) {
            seen.add(id);
            next.push(link.node);
          }
        }
      }
      frontier = next;
    }
  }
  return { nodes: [...nodes.values()], edges: [...edges.values()], truncated };
}
