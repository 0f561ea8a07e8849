/**
 * Wire shapes of the data-versioning API (worker/datasets/routes.ts), without the client, so pure
 * modules and Node tests can use them.
 */
import type { ColumnChange, Profile, SchemaField } from "../../../../worker/lib/profile/index";

export type { ColumnChange, ColumnProfile, Profile, SchemaField } from "../../../../worker/lib/profile/index";

export interface Dataset {
  id: string;
  name: string;
  description: string;
  tags: Record<string, string>;
  latest_version: number;
  created_at: number;
  updated_at: number;
}

export interface DatasetVersion {
  id: string;
  dataset: string;
  version: number;
  kind: "file" | "directory";
  sha256: string;
  file_name: string | null;
  size: number;
  file_count: number;
  content_type: string | null;
  created_by: { token_id: string | null; name: string };
  message: string;
  git_commit: string | null;
  git_branch: string | null;
  parent_version_id: string | null;
  row_count: number | null;
  schema: SchemaField[] | null;
  profile: Profile | null;
  profile_source: string | null;
  created_at: number;
}

export interface ManifestEntry {
  path: string;
  sha256: string;
  size: number;
}

export interface VersionDiff {
  from: DatasetVersion;
  to: DatasetVersion;
  row_count: { before: number | null; after: number | null; delta: number | null };
  size: { before: number; after: number; delta: number };
  file_count: { before: number; after: number; delta: number };
  columns: ColumnChange[];
  files: {
    added: ManifestEntry[];
    removed: ManifestEntry[];
    changed: { path: string; before: ManifestEntry; after: ManifestEntry }[];
    counts: { added: number; removed: number; changed: number; unchanged: number };
    truncated: boolean;
  };
}

export interface BlobUpload {
  upload_id: string;
  sha256: string;
  size: number;
  part_size: number;
  part_count: number;
  parts: { part_number: number; size: number; sha256: string; etag: string }[];
  created_at: number;
}

// Nodes and edges as the pure lineage module builds them; the API sends them unchanged.
export type { LineageEdge, LineageNode } from "../../../../worker/lib/lineage";
import type { LineageEdge, LineageNode } from "../../../../worker/lib/lineage";

export interface LineageGraph {
  root: string;
  nodes: LineageNode[];
  edges: LineageEdge[];
  truncated: boolean;
}

