/**
 * Monitors in the lineage graph: a monitor's scheduled checks read dataset versions (its reference and
 * each checked version of its current dataset), so those versions link downstream to the monitor.
 * Only scheduled reports count: a posted summary names its data in free text.
 */
import type { LineageProvider } from "../datasets/lineage";
import type { Link, NodeRef } from "../lib/lineage";
import type { MonitoringStore } from "./store";

/** Links per node at most; the graph walk caps the whole graph as well. */
const MAX_LINKS = 100;

const edgeOf = (role: "reference" | "current") => (role === "reference" ? "monitor_reference" : "monitor_checked");

export function monitorLineage(store: MonitoringStore): LineageProvider {
  return {
    kinds: ["monitor"],
    async upstream(node: NodeRef): Promise<Link[]> {
      if (node.kind !== "monitor") return [];
      return (await store.versionsOfMonitor(node.key, MAX_LINKS)).map((v) => ({ node: { kind: "dataset_version", key: v.versionId }, edge: edgeOf(v.role) }));
    },
    async downstream(node: NodeRef): Promise<Link[]> {
      if (node.kind !== "dataset_version") return [];
      return (await store.monitorsOfVersion(node.key, MAX_LINKS)).map((m) => ({ node: { kind: "monitor", key: m.monitorId }, edge: edgeOf(m.role) }));
    },
    async describe(node: NodeRef) {
      const m = await store.getMonitor(node.key);
      if (!m) return null;
      return { label: m.name, data: { model_name: m.modelName, model_alias: m.modelAlias, model_version: m.modelVersion, current_dataset: m.currentDataset, schedule: m.schedule } };
    },
  };
}
