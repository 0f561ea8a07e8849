/**
 * A run's dataset inputs as the run page shows them, runtime-free: the context tag MLflow clients
 * write (training, validation, ...), the columns of the schema MLflow stores as JSON (a column spec,
 * or the tensor spec of numpy and tensor datasets), the profile's figures, and the source's location.
 */

export interface WireDatasetInput {
  tags?: { key: string; value: string }[];
  dataset: { name: string; digest: string; source_type: string; source: string; schema?: string; profile?: string };
}

export interface SchemaColumn {
  name: string;
  type: string;
  /** False when MLflow marks the column optional; undefined when the schema does not say. */
  required?: boolean;
}

export interface DatasetInputView {
  name: string;
  digest: string;
  sourceType: string;
  /** The location a source's JSON carries (uri, path, url), else the source as logged. */
  source: string;
  context: string | null;
  otherTags: [string, string][];
  /** null when there is no schema, or it is not a shape this reads (then schemaText shows it). */
  columns: SchemaColumn[] | null;
  schemaText: string | null;
  /** The profile's top-level figures, or null when it is absent or not a JSON object. */
  profile: [string, string][] | null;
  profileText: string | null;
  /** The Tern dataset version's page when the source is a version's download URL, else null. */
  versionPage: string | null;
}

export const DATASET_CONTEXT_TAG = "mlflow.data.context";

function parseJson(text: string | undefined): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === "object" && x !== null && !Array.isArray(x);

/** A column type as MLflow writes it: a name, or an object for arrays, objects and maps. */
function typeName(type: unknown): string {
  if (typeof type === "string") return type;
  if (isObject(type)) {
    if (type.type === "array") return `array<${typeName(type.items)}>`;
    if (type.type === "map") return `map<string, ${typeName(type.values)}>`;
    if (type.type === "object" && isObject(type.properties)) {
      return `object{${Object.entries(type.properties).map(([k, v]) => `${k}: ${typeName(v)}`).join(", ")}}`;
    }
    if (typeof type.type === "string") return type.type;
  }
  return JSON.stringify(type) ?? "unknown";
}

function columnOf(spec: unknown, index: number, fallbackName: string): SchemaColumn | null {
  if (!isObject(spec)) return null;
  const name = typeof spec.name === "string" ? spec.name : `${fallbackName}${index}`;
  if (spec.type === "tensor" && isObject(spec["tensor-spec"])) {
    const tensor = spec["tensor-spec"];
    const shape = Array.isArray(tensor.shape) ? `[${tensor.shape.join(", ")}]` : "";
    return { name, type: `tensor<${typeName(tensor.dtype)}>${shape}`, required: typeof spec.required === "boolean" ? spec.required : undefined };
  }
  if (spec.type === undefined) return null;
  const type = spec.type === "array" || spec.type === "object" || spec.type === "map" ? typeName(spec) : typeName(spec.type);
  return { name, type, required: typeof spec.required === "boolean" ? spec.required : undefined };
}

function columnsOf(specs: unknown, fallbackName: string): SchemaColumn[] | null {
  if (!Array.isArray(specs)) return null;
  const columns = specs.map((s, i) => columnOf(s, i, fallbackName));
  return columns.every((c): c is SchemaColumn => c !== null) ? columns : null;
}

/**
 * Columns of a dataset schema: `{"mlflow_colspec": [...]}`, `{"mlflow_tensorspec": {"features":
 * "<json>", "targets": "<json>"}}` (each spec itself a JSON string), or a bare list of column specs.
 */
export function schemaColumns(schema: string | undefined): SchemaColumn[] | null {
  const parsed = parseJson(schema);
  if (Array.isArray(parsed)) return columnsOf(parsed, "column ");
  if (!isObject(parsed)) return null;
  if ("mlflow_colspec" in parsed) return columnsOf(parsed.mlflow_colspec, "column ");
  const tensors = parsed.mlflow_tensorspec;
  if (isObject(tensors)) {
    const part = (key: "features" | "targets") => {
      const raw = tensors[key];
      if (raw == null) return [];
      return columnsOf(typeof raw === "string" ? parseJson(raw) : raw, `${key} `);
    };
    const features = part("features");
    const targets = part("targets");
    return features && targets ? [...features, ...targets] : null;
  }
  return null;
}

const figure = (v: unknown): string => (typeof v === "string" ? v : (JSON.stringify(v) ?? String(v)));

export function profileFigures(profile: string | undefined): [string, string][] | null {
  const parsed = parseJson(profile);
  return isObject(parsed) ? Object.entries(parsed).map(([k, v]) => [k, figure(v)]) : null;
}

export function sourceLocation(source: string): string {
  const parsed = parseJson(source);
  if (!isObject(parsed)) return source;
  for (const key of ["uri", "url", "path", "table_name"]) {
    if (typeof parsed[key] === "string") return parsed[key];
  }
  return source;
}

/** A source that downloads a Tern dataset version (/api/v1/datasets/<name>/versions/<n>/download) names that version's page. */
export function datasetVersionPage(location: string): string | null {
  const m = /\/api\/v1\/datasets\/([^/?#]+)\/versions\/(\d+)\/download(?:[?#]|$)/.exec(location);
  return m ? `/datasets/${m[1]}/versions/${m[2]}` : null;
}

export function datasetInputView(input: WireDatasetInput): DatasetInputView {
  const tags = (input.tags ?? []).map((t): [string, string] => [t.key, t.value]);
  const d = input.dataset;
  const columns = schemaColumns(d.schema);
  const profile = profileFigures(d.profile);
  return {
    name: d.name,
    digest: d.digest,
    sourceType: d.source_type,
    source: sourceLocation(d.source),
    versionPage: datasetVersionPage(sourceLocation(d.source)),
    context: tags.find(([k]) => k === DATASET_CONTEXT_TAG)?.[1] ?? null,
    otherTags: tags.filter(([k]) => k !== DATASET_CONTEXT_TAG),
    columns,
    schemaText: d.schema && !columns ? d.schema : null,
    profile,
    profileText: d.profile && !profile ? d.profile : null,
  };
}
