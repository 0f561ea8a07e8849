/**
 * A Tern dataset version as a side of a drift report: the datasets and versions a user can pick, a
 * monitor's stored reference ("name@3", "name@latest" or a version id) resolved to a dataset and
 * version number, and the version's download as a RemoteTable that a drift worker fetches and parses
 * itself. The rows go from Tern into the browser's workers; nothing is uploaded.
 */
import { request, tokenStorage } from "../api/client";
import type { RemoteTable } from "./read-table";
import { parseVersionRef, versionUsable, type DatasetChoice, type VersionChoice } from "./dataset-versions";

export { parseVersionRef, versionLabel, versionUsable, type DatasetChoice, type VersionChoice } from "./dataset-versions";

const V1 = "/api/v1";
const enc = encodeURIComponent;

export const datasetSourceApi = {
  listDatasets: () => request<{ datasets: DatasetChoice[] }>("GET", `${V1}/datasets?max_results=200`).then((r) => r.datasets),
  listVersions: (name: string) => request<{ versions: VersionChoice[] }>("GET", `${V1}/datasets/${enc(name)}/versions?max_results=200`).then((r) => r.versions),
  getVersion: (name: string, version: number | "latest") =>
    request<{ version: VersionChoice }>("GET", `${V1}/datasets/${enc(name)}/versions/${version}`).then((r) => r.version),
  /** A version id's dataset and number, from the lineage graph's description of it. */
  describeVersionId: (id: string) =>
    request<{ root: string; nodes: { id: string; data: { dataset?: string; version?: number; missing?: boolean } }[] }>(
      "GET",
      `${V1}/lineage?object=${enc(`dataset_version:${id}`)}&depth=1`,
    ).then((g) => g.nodes.find((n) => n.id === g.root)?.data ?? {}),
};

/** A monitor's reference version, however it is written, as the version it names. */
export async function resolveVersionRef(ref: string): Promise<VersionChoice> {
  const named = parseVersionRef(ref);
  if (named) return datasetSourceApi.getVersion(named.dataset, named.version);
  const d = await datasetSourceApi.describeVersionId(ref);
  if (!d.dataset || !d.version) throw new Error(`The dataset version '${ref}' was not found.`);
  return datasetSourceApi.getVersion(d.dataset, d.version);
}

/** The version's file as a RemoteTable, with this browser's API token for the worker's request. */
export function versionTable(v: VersionChoice): RemoteTable {
  const token = tokenStorage.get();
  return {
    kind: "remote",
    url: `${V1}/datasets/${enc(v.dataset)}/versions/${v.version}/download`,
    name: v.file_name ?? `${v.dataset}-v${v.version}.csv`,
    size: v.size,
    ...(token ? { headers: { Authorization: `Bearer ${token}` } } : {}),
  };
}
