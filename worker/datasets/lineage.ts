/**
 * Lineage: which dataset versions a run read (declared over the native API, or logged with MLflow's
 * log-inputs and resolved here when the input's digest or source names a Tern version), which model
 * versions came from which run, and the graph around any object upstream and downstream. Other pillars
 * (monitors, pipeline runs) add their nodes and edges through LineageProvider, wired in services.ts.
 */
import { invalid, notFound } from "../http/errors";
import { LineageRefError, nodeId, parseNodeRef, parseVersionSource, sourceText, walk, type LineageEdge, type LineageNode, type Link, type NodeRef } from "../lib/lineage";
import type { DatasetService } from "./service";
import type { DatasetStore, VersionRow } from "./store";

/** What another pillar knows about lineage: links from and to nodes, and how to describe its own nodes. */
export interface LineageProvider {
  /** The node kinds this provider describes (e.g. "monitor", "pipeline_run"). */
  kinds: readonly string[];
  upstream(node: NodeRef): Promise<Link[]>;
  downstream(node: NodeRef): Promise<Link[]>;
  describe(node: NodeRef): Promise<{ label: string; data: Record<string, unknown> } | null>;
}

export const MAX_DEPTH = 10;
/**
 * MLflow caps a dataset digest at 36 characters, so a run names a version by its id (a UUID) or by the
 * first 12 to 36 hex digits of its sha256; shorter digests (pandas' 8) are too likely to collide.
 */
export const MIN_DIGEST_PREFIX = 12;
const isDigestPrefix = (d: string) => d.length >= MIN_DIGEST_PREFIX && /^[0-9a-f]+$/.test(d);
export const MAX_NODES = 500;

const versionNode = (id: string): NodeRef => ({ kind: "dataset_version", key: id });
const runNode = (id: string): NodeRef => ({ kind: "run", key: id });
const modelNode = (name: string, version: number): NodeRef => ({ kind: "model_version", key: `${name}/${version}` });

function splitModelKey(key: string): { name: string; version: number } | null {
  const slash = key.lastIndexOf("/");
  if (slash <= 0 || !/^\d{1,9}$/.test(key.slice(slash + 1))) return null;
  return { name: key.slice(0, slash), version: Number(key.slice(slash + 1)) };
}

export class LineageService {
  constructor(
    private readonly store: DatasetStore,
    private readonly datasets: DatasetService,
    private readonly providers: readonly LineageProvider[] = [],
    private readonly now: () => number = Date.now,
  ) {}

  /** Records that a run read a dataset version (the native counterpart of MLflow's log-inputs). */
  async declareInput(runId: string, dataset: string, version: number | "latest", context: string | null) {
    if (!(await this.store.runExists(runId))) throw notFound(`Run with id=${runId} not found`);
    const v = await this.datasets.getVersion(dataset, version);
    await this.store.insertInput({ runId, versionId: v.versionId, context, now: this.now() });
    return v;
  }

  /** The dataset versions a run's MLflow inputs name. */
  private async mlflowVersionsOfRun(runId: string): Promise<{ versionId: string; context: string | null }[]> {
    const inputs = await this.store.mlflowInputsOfRun(runId);
    const out: { versionId: string; context: string | null }[] = [];
    for (const i of inputs) {
      const ref = parseVersionSource(sourceText(i.source));
      if (ref) {
        const v = await this.datasets.getVersion(ref.dataset, ref.version).catch(() => null);
        if (v) out.push({ versionId: v.versionId, context: i.context });
        continue;
      }
      if (isDigestPrefix(i.digest)) {
        for (const v of await this.store.versionsByRootPrefix(i.digest)) out.push({ versionId: v.versionId, context: i.context });
      } else {
        const [v] = await this.store.getVersionsById([i.digest]);
        if (v) out.push({ versionId: v.versionId, context: i.context });
      }
    }
    return out;
  }

  private async runsOfVersion(v: VersionRow & { datasetName: string }): Promise<string[]> {
    const runs = new Set((await this.store.nativeRunsOfVersion(v.versionId)).map((r) => r.runId));
    const needle = `datasets/${encodeURIComponent(v.datasetName)}/versions/${v.version}`;
    for (const i of await this.store.mlflowInputsNaming(v.versionId, v.rootSha256, MIN_DIGEST_PREFIX, needle)) {
      if (i.digest === v.versionId || (isDigestPrefix(i.digest) && v.rootSha256.startsWith(i.digest))) {
        runs.add(i.runId);
        continue;
      }
      const ref = parseVersionSource(sourceText(i.source));
      if (ref && ref.dataset === v.datasetName && ref.version === v.version) runs.add(i.runId);
    }
    return [...runs];
  }

  private async upstream(n: NodeRef): Promise<Link[]> {
    const links: Link[] = [];
    if (n.kind === "dataset_version") {
      const [v] = await this.store.getVersionsById([n.key]);
      if (v?.parentVersionId) links.push({ node: versionNode(v.parentVersionId), edge: "parent_version" });
    } else if (n.kind === "run") {
      const ids = new Set([...(await this.store.nativeInputsOfRun(n.key)).map((i) => i.versionId), ...(await this.mlflowVersionsOfRun(n.key)).map((i) => i.versionId)]);
      for (const id of ids) links.push({ node: versionNode(id), edge: "input" });
    } else if (n.kind === "model_version") {
      const ref = splitModelKey(n.key);
      const mv = ref ? await this.store.modelVersion(ref.name, ref.version) : null;
      if (mv?.runId) links.push({ node: runNode(mv.runId), edge: "produced" });
    }
    for (const p of this.providers) links.push(...(await p.upstream(n)));
    return links;
  }

  private async downstream(n: NodeRef): Promise<Link[]> {
    const links: Link[] = [];
    if (n.kind === "dataset_version") {
      const [v] = await this.store.getVersionsById([n.key]);
      if (v) for (const runId of await this.runsOfVersion(v)) links.push({ node: runNode(runId), edge: "input" });
    } else if (n.kind === "run") {
      for (const mv of await this.store.modelVersionsOfRun(n.key)) links.push({ node: modelNode(mv.name, mv.version), edge: "produced" });
    }
    for (const p of this.providers) links.push(...(await p.downstream(n)));
    return links;
  }

  /** Checks that an object exists (a graph's start, a link to record): a typo answers 404 rather than a lone node. */
  async checkExists(n: NodeRef): Promise<void> {
    if (n.kind === "dataset_version") {
      if ((await this.store.getVersionsById([n.key])).length === 0) throw notFound(`Dataset version ${n.key} does not exist`);
    } else if (n.kind === "run") {
      if (!(await this.store.runExists(n.key))) throw notFound(`Run with id=${n.key} not found`);
    } else if (n.kind === "model_version") {
      const ref = splitModelKey(n.key);
      if (!ref) throw invalid(`Invalid model version '${n.key}': expected model_version:<name>/<version>`);
      if (!(await this.store.modelVersion(ref.name, ref.version))) throw notFound(`Model version ${n.key} does not exist`);
    } else {
      const p = this.providers.find((x) => x.kinds.includes(n.kind));
      if (!p) throw invalid(`Unknown object kind '${n.kind}': use dataset_version, run or model_version`);
      if (!(await p.describe(n))) throw notFound(`${n.kind} ${n.key} does not exist`);
    }
  }

  async graph(object: string, depth = 5): Promise<{ root: string; nodes: LineageNode[]; edges: LineageEdge[]; truncated: boolean }> {
    let start: NodeRef;
    try {
      start = parseNodeRef(object);
    } catch (err) {
      if (err instanceof LineageRefError) throw invalid(err.message);
      throw err;
    }
    await this.checkExists(start);
    const g = await walk(start, { depth: Math.min(Math.max(depth, 1), MAX_DEPTH), maxNodes: MAX_NODES, upstream: (n) => this.upstream(n), downstream: (n) => this.downstream(n) });
    return { root: nodeId(start), nodes: await this.describe(g.nodes), edges: g.edges, truncated: g.truncated };
  }

  private async describe(refs: NodeRef[]): Promise<LineageNode[]> {
    const versions = new Map((await this.store.getVersionsById(refs.filter((r) => r.kind === "dataset_version").map((r) => r.key))).map((v) => [v.versionId, v]));
    const runs = new Map((await this.store.runs(refs.filter((r) => r.kind === "run").map((r) => r.key))).map((r) => [r.runId, r]));
    const out: LineageNode[] = [];
    for (const r of refs) {
      const id = nodeId(r);
      if (r.kind === "dataset_version") {
        const v = versions.get(r.key);
        out.push({
          ...r,
          id,
          label: v ? `${v.datasetName} v${v.version}` : r.key,
          data: v
            ? { dataset: v.datasetName, version: v.version, sha256: v.rootSha256, size: v.size, row_count: v.rowCount, git_commit: v.gitCommit, created_at: v.createdAt }
            : { missing: true },
        });
      } else if (r.kind === "run") {
        const run = runs.get(r.key);
        out.push({
          ...r,
          id,
          label: run?.name || r.key,
          data: run ? { experiment_id: run.experimentId, status: run.status, start_time: run.startTime, git_commit: run.gitCommit } : { missing: true },
        });
      } else if (r.kind === "model_version") {
        const ref = splitModelKey(r.key);
        const mv = ref ? await this.store.modelVersion(ref.name, ref.version) : null;
        out.push({ ...r, id, label: ref ? `${ref.name} v${ref.version}` : r.key, data: mv ? { name: mv.name, version: mv.version, status: mv.status, stage: mv.stage } : { missing: true } });
      } else {
        const p = this.providers.find((x) => x.kinds.includes(r.kind));
        const d = p ? await p.describe(r) : null;
        out.push({ ...r, id, label: d?.label ?? r.key, data: d?.data ?? {} });
      }
    }
    return out;
  }
}
