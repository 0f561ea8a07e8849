/**
 * Original vs reproduction: the comparison a reproduced run is judged by. Params and data versions must
 * be equal for the reproduction to count as one; metrics are shown side by side with their differences
 * (a retrained model may legitimately differ in the last digits); artifacts are compared by content hash,
 * listing those that differ or exist on one side only. Tern's own records under `tern/` (the command's
 * output log and the recorded diff) are left out of the artifact comparison.
 *
 * Pure: the caller gathers the facts of both runs.
 */

export interface DataInputFact {
  /** The dataset's name as logged. */
  name: string;
  /** "name@version" for a Tern dataset version, else the logged digest. */
  version: string;
}

export interface ArtifactFact {
  path: string;
  size: number;
  /** A content hash: R2's ETag (an MD5 for files stored in one request), or "sha256:…" once settled by hashing. */
  hash: string;
}

export interface RunFacts {
  run_id: string;
  status: string;
  params: Record<string, string>;
  /** Latest value of each metric; null for NaN. */
  metrics: Record<string, number | null>;
  data: DataInputFact[];
  artifacts: ArtifactFact[];
  artifacts_truncated: boolean;
}

export interface ValueRow {
  key: string;
  original: string | null;
  reproduction: string | null;
  equal: boolean;
}

export interface MetricRow {
  key: string;
  original: number | null;
  reproduction: number | null;
  /** reproduction - original, when both are numbers. */
  difference: number | null;
  /** difference / |original|, when original is a non-zero number. */
  relative_difference: number | null;
  equal: boolean;
}

export interface ArtifactRow {
  path: string;
  original: { size: number; hash: string } | null;
  reproduction: { size: number; hash: string } | null;
}

export interface RunComparison {
  original: { run_id: string; status: string };
  reproduction: { run_id: string; status: string };
  /** Params and data versions are equal. */
  reproduced: boolean;
  params: { equal: boolean; rows: ValueRow[] };
  data: { equal: boolean; rows: ValueRow[] };
  metrics: { equal: boolean; rows: MetricRow[] };
  artifacts: { equal: boolean; compared: number; differing: ArtifactRow[]; truncated: boolean };
}

const TERN_RECORDS = "tern/";

function valueRows(a: Record<string, string>, b: Record<string, string>): ValueRow[] {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  return keys.map((key) => {
    const original = Object.hasOwn(a, key) ? a[key] : null;
    const reproduction = Object.hasOwn(b, key) ? b[key] : null;
    return { key, original, reproduction, equal: original === reproduction };
  });
}

/** One entry per dataset name; a dataset read at several versions lists them all, sorted. */
function dataByName(inputs: DataInputFact[]): Record<string, string> {
  const by = new Map<string, Set<string>>();
  for (const i of inputs) {
    if (!by.has(i.name)) by.set(i.name, new Set());
    by.get(i.name)!.add(i.version);
  }
  return Object.fromEntries([...by].map(([name, versions]) => [name, [...versions].sort().join(", ")]));
}

function metricRow(key: string, a: number | null | undefined, b: number | null | undefined): MetricRow {
  const original = a ?? null;
  const reproduction = b ?? null;
  const both = original !== null && reproduction !== null;
  const difference = both ? reproduction - original : null;
  const relative = both && original !== 0 && Number.isFinite(difference) ? difference! / Math.abs(original) : null;
  return { key, original, reproduction, difference, relative_difference: relative, equal: original === reproduction && a !== undefined && b !== undefined };
}

export function compareRuns(original: RunFacts, reproduction: RunFacts): RunComparison {
  const params = valueRows(original.params, reproduction.params);
  const data = valueRows(dataByName(original.data), dataByName(reproduction.data));
  const metricKeys = [...new Set([...Object.keys(original.metrics), ...Object.keys(reproduction.metrics)])].sort();
  const metrics = metricKeys.map((k) => metricRow(k, original.metrics[k], reproduction.metrics[k]));

  const mine = (list: ArtifactFact[]) => new Map(list.filter((f) => !f.path.startsWith(TERN_RECORDS)).map((f) => [f.path, f]));
  const a = mine(original.artifacts);
  const b = mine(reproduction.artifacts);
  const paths = [...new Set([...a.keys(), ...b.keys()])].sort();
  const differing: ArtifactRow[] = [];
  for (const path of paths) {
    const x = a.get(path);
    const y = b.get(path);
    if (x && y && x.hash === y.hash && x.size === y.size) continue;
    differing.push({ path, original: x ? { size: x.size, hash: x.hash } : null, reproduction: y ? { size: y.size, hash: y.hash } : null });
  }
  const paramsEqual = params.every((r) => r.equal);
  const dataEqual = data.every((r) => r.equal);
  return {
    original: { run_id: original.run_id, status: original.status },
    reproduction: { run_id: reproduction.run_id, status: reproduction.status },
    reproduced: paramsEqual && dataEqual,
    params: { equal: paramsEqual, rows: params },
    data: { equal: dataEqual, rows: data },
    metrics: { equal: metrics.every((r) => r.equal), rows: metrics },
    artifacts: { equal: differing.length === 0, compared: paths.length, differing, truncated: original.artifacts_truncated || reproduction.artifacts_truncated },
  };
}
