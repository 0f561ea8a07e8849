/**
 * MLflow 3 logged models: the domain types, their statuses and limits, and the search grammar of
 * logged-models/search (filter strings over attributes, metrics, params and tags; order_by objects;
 * page tokens bound to the search they came from). Pure: no runtime imports.
 */
import type { Comparator } from "../lib/mlflow-search";
import type { KeyValue, LifecycleStage } from "../tracking/model";

export const LOGGED_MODEL_STATUSES = ["LOGGED_MODEL_PENDING", "LOGGED_MODEL_READY", "LOGGED_MODEL_UPLOAD_FAILED"] as const;
export type LoggedModelStatus = (typeof LOGGED_MODEL_STATUSES)[number];

/** What finalize may set: the upload either completed or failed (service.proto, FinalizeLoggedModel). */
export const FINAL_STATUSES: readonly LoggedModelStatus[] = ["LOGGED_MODEL_READY", "LOGGED_MODEL_UPLOAD_FAILED"];

export interface LoggedModel {
  modelId: string;
  experimentId: string;
  name: string;
  artifactLocation: string;
  creationTimestampMs: number;
  lastUpdatedTimestampMs: number;
  status: LoggedModelStatus;
  statusMessage: string | null;
  lifecycleStage: LifecycleStage;
  modelType: string | null;
  sourceRunId: string | null;
  tags: KeyValue[];
  params: KeyValue[];
  /** The latest point per (key, dataset) of the metrics logged with this model's id. */
  metrics: LoggedModelMetric[];
}

export interface LoggedModelMetric {
  key: string;
  value: number;
  timestamp: number;
  step: number;
  runId: string;
  datasetName: string | null;
  datasetDigest: string | null;
}

export interface ModelOutputInput {
  modelId: string;
  step: number;
}

export const LOGGED_MODEL_LIMITS = {
  keyLength: 250,
  paramValueLength: 6000,
  tagValueLength: 8000,
  nameLength: 500,
  modelTypeLength: 500,
  searchDefault: 50,
  searchMax: 50000,
} as const;

/** The protobuf enum by name or by number (LOGGED_MODEL_STATUS_UNSPECIFIED = 0 is no status). */
export function loggedModelStatusOf(value: string | number): LoggedModelStatus | null {
  if (typeof value === "number") return LOGGED_MODEL_STATUSES[value - 1] ?? null;
  return (LOGGED_MODEL_STATUSES as readonly string[]).includes(value) ? (value as LoggedModelStatus) : null;
}

// ---------------------------------------------------------------------------------------------
// Filter grammar. MLflow's SQL store reads `<entity>.<key> <op> <value>` clauses joined by AND, with
// entities attributes / metrics / params / tags (a bare name is an attribute), `=, !=, LIKE, ILIKE`
// on strings and `=, !=, <, <=, >, >=` on numbers. Attributes also take IN / NOT IN lists, as
// MLflow's file store does.

export type LoggedModelEntity = "attribute" | "metric" | "param" | "tag";

export interface LoggedModelComparison {
  entity: LoggedModelEntity;
  /** For attributes the canonical name (creation_timestamp, last_updated_timestamp, ...). */
  key: string;
  comparator: Comparator;
  value: string | number | string[];
}

export interface LoggedModelOrderBy {
  /** An attribute's canonical name, or the metric key when `metric` is true. */
  key: string;
  metric: boolean;
  ascending: boolean;
  datasetName: string | null;
  datasetDigest: string | null;
}

/** The message is what the API returns as INVALID_PARAMETER_VALUE. */
export class LoggedModelSearchError extends Error {
  override readonly name = "LoggedModelSearchError";
}

const STRING_ATTRIBUTES = ["name", "model_id", "model_type", "status", "source_run_id"];
const NUMERIC_ATTRIBUTES = ["creation_timestamp", "last_updated_timestamp"];
const ATTRIBUTE_ALIASES: ReadonlyMap<string, string> = new Map([
  ["creation_time", "creation_timestamp"],
  ["creation_timestamp_ms", "creation_timestamp"],
  ["last_updated_time", "last_updated_timestamp"],
  ["last_updated_timestamp_ms", "last_updated_timestamp"],
]);
const ENTITY_TYPES: ReadonlyMap<string, LoggedModelEntity> = new Map([
  ["attributes", "attribute"],
  ["metrics", "metric"],
  ["params", "param"],
  ["tags", "tag"],
]);
const NUMERIC_OPS: readonly Comparator[] = ["<", "<=", ">", ">=", "=", "!="];
const STRING_OPS: readonly Comparator[] = ["=", "!=", "LIKE", "ILIKE"];
const LIST_OPS: readonly Comparator[] = ["IN", "NOT IN"];

const pyRepr = (s: string): string => `'${s.replaceAll("\\", "\\\\").replaceAll("'", "\\'")}'`;
const pyTuple = (xs: readonly string[]): string => `(${xs.map(pyRepr).join(", ")})`;

type TokenKind = "ident" | "string" | "number" | "op" | "lparen" | "rparen" | "comma";
interface Token {
  kind: TokenKind;
  text: string;
  /** string: the unquoted value; op: the canonical operator; otherwise the text. */
  value: string;
}

const SEGMENT = /[A-Za-z_][\w]*|`(?:``|[^`])*`|"(?:""|[^"])*"/y;
const NUMBER = /-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?(?![\w.])/y;
const OPERATOR = /<=|>=|!=|<>|==|=|<|>/y;

function matchAt(re: RegExp, src: string, pos: number): string | null {
  re.lastIndex = pos;
  return re.exec(src)?.[0] ?? null;
}

function unquote(s: string): string {
  const q = s[0];
  if ((q === "`" || q === '"' || q === "'") && s.length >= 2 && s.endsWith(q)) return s.slice(1, -1).replaceAll(q + q, q);
  return s;
}

function lex(filter: string): Token[] {
  const invalid = (): LoggedModelSearchError =>
    new LoggedModelSearchError(
      `Invalid filter string: ${pyRepr(filter)}. Expected a list of comparisons separated by 'AND' (e.g. 'metrics.loss > 0.1 AND params.lr = 0.01').`,
    );
  const tokens: Token[] = [];
  let pos = 0;
  while (pos < filter.length) {
    const ch = filter[pos];
    if (/\s/.test(ch)) {
      pos += 1;
      continue;
    }
    const single = ch === "(" ? "lparen" : ch === ")" ? "rparen" : ch === "," ? "comma" : null;
    if (single) {
      tokens.push({ kind: single, text: ch, value: ch });
      pos += 1;
      continue;
    }
    if (ch === "'") {
      const m = matchAt(/'(?:''|[^'])*'/y, filter, pos);
      if (m === null) throw invalid();
      tokens.push({ kind: "string", text: m, value: unquote(m) });
      pos += m.length;
      continue;
    }
    const number = /[-.\d]/.test(ch) ? matchAt(NUMBER, filter, pos) : null;
    if (number !== null) {
      tokens.push({ kind: "number", text: number, value: number });
      pos += number.length;
      continue;
    }
    const op = matchAt(OPERATOR, filter, pos);
    if (op !== null) {
      tokens.push({ kind: "op", text: op, value: op === "<>" ? "!=" : op === "==" ? "=" : op });
      pos += op.length;
      continue;
    }
    if (ch === '"') {
      // A lone double-quoted word is a value (sqlparse would call it a name; MLflow strips quotes).
      const m = matchAt(/"(?:""|[^"])*"/y, filter, pos);
      if (m === null) throw invalid();
      if (filter[pos + m.length] !== ".") {
        tokens.push({ kind: "string", text: m, value: unquote(m) });
        pos += m.length;
        continue;
      }
    }
    const first = matchAt(SEGMENT, filter, pos);
    if (first === null) throw invalid();
    let end = pos + first.length;
    // Everything after the entity is the key: tags.mlflow.source.name is the tag "mlflow.source.name".
    while (filter[end] === ".") {
      const next = matchAt(SEGMENT, filter, end + 1);
      if (next === null) throw invalid();
      end += 1 + next.length;
    }
    const text = filter.slice(pos, end);
    tokens.push({ kind: "ident", text, value: text });
    pos = end;
  }
  return tokens;
}

const isWord = (t: Token | undefined, word: string): boolean => t?.kind === "ident" && t.text.toUpperCase() === word;

function identifier(token: Token): { entity: LoggedModelEntity; key: string } {
  const dot = token.text.indexOf(".");
  if (dot < 0) return { entity: "attribute", key: attributeKey(unquote(token.text)) };
  const type = token.text.slice(0, dot);
  const entity = ENTITY_TYPES.get(type);
  if (entity === undefined) {
    throw new LoggedModelSearchError(`Invalid entity type: ${pyRepr(type)}. Expected one of ['attributes', 'metrics', 'params', 'tags'].`);
  }
  const rawKey = token.text.slice(dot + 1);
  // A quoted key is the whole key; otherwise the dotted rest is (MLflow strips backticks only).
  const key = /^(`.*`|".*")$/.test(rawKey) ? unquote(rawKey) : rawKey.replaceAll("`", "");
  if (!key) throw new LoggedModelSearchError(`Invalid filter: ${pyRepr(token.text)} names no key.`);
  return { entity, key: entity === "attribute" ? attributeKey(key) : key };
}

function attributeKey(key: string): string {
  const canonical = ATTRIBUTE_ALIASES.get(key) ?? key;
  if (!STRING_ATTRIBUTES.includes(canonical) && !NUMERIC_ATTRIBUTES.includes(canonical)) {
    throw new LoggedModelSearchError(
      `Invalid attribute key ${pyRepr(key)} specified. Valid keys are ${pyTuple([...STRING_ATTRIBUTES, ...NUMERIC_ATTRIBUTES])}`,
    );
  }
  return canonical;
}

const isNumeric = (entity: LoggedModelEntity, key: string): boolean => entity === "metric" || (entity === "attribute" && NUMERIC_ATTRIBUTES.includes(key));

/** `status = 'READY'` means LOGGED_MODEL_READY: the short names are what the enum prints in clients. */
function statusValue(value: string): string {
  const long = `LOGGED_MODEL_${value.toUpperCase()}`;
  return (LOGGED_MODEL_STATUSES as readonly string[]).includes(long) ? long : value;
}

/** logged-models/search `filter`: `name = 'm' AND params.alpha = '0.1' AND tags.team LIKE 'ri%'`. */
export function parseLoggedModelFilter(filter: string | null | undefined): LoggedModelComparison[] {
  if (!filter || !filter.trim()) return [];
  const tokens = lex(filter);
  const out: LoggedModelComparison[] = [];
  const structure = (): LoggedModelSearchError =>
    new LoggedModelSearchError(
      `Invalid filter string: ${pyRepr(filter)}. Expected a list of comparisons separated by 'AND' (e.g. 'metrics.loss > 0.1 AND params.lr = 0.01').`,
    );
  let i = 0;
  for (;;) {
    const lhs = tokens[i];
    if (lhs?.kind !== "ident" || isWord(lhs, "AND")) throw structure();
    const { entity, key } = identifier(lhs);
    i += 1;
    let comparator: string;
    const c = tokens[i];
    if (c?.kind === "op") {
      comparator = c.value;
      i += 1;
    } else if (isWord(c, "LIKE") || isWord(c, "ILIKE") || isWord(c, "IN")) {
      comparator = c.text.toUpperCase();
      i += 1;
    } else if (isWord(c, "NOT") && isWord(tokens[i + 1], "IN")) {
      comparator = "NOT IN";
      i += 2;
    } else {
      throw structure();
    }
    const display = lhs.text;
    const numeric = isNumeric(entity, key);
    const allowed = [...(numeric ? NUMERIC_OPS : STRING_OPS), ...(entity === "attribute" && !numeric ? LIST_OPS : [])];
    if (!allowed.includes(comparator as Comparator)) {
      throw new LoggedModelSearchError(`Invalid comparison operator for ${display}: ${pyRepr(comparator)}. Expected one of ${pyTuple(allowed)}.`);
    }
    let value: string | number | string[];
    if (comparator === "IN" || comparator === "NOT IN") {
      if (tokens[i]?.kind !== "lparen") throw new LoggedModelSearchError(`${comparator} must be followed by a parenthesized list of quoted strings.`);
      i += 1;
      const items: string[] = [];
      for (;;) {
        const item = tokens[i];
        if (item?.kind !== "string") throw new LoggedModelSearchError(`${comparator} must be followed by a parenthesized list of quoted strings.`);
        items.push(key === "status" ? statusValue(item.value) : item.value);
        i += 1;
        if (tokens[i]?.kind === "comma") i += 1;
        else if (tokens[i]?.kind === "rparen") break;
        else throw new LoggedModelSearchError(`${comparator} must be followed by a parenthesized list of quoted strings.`);
      }
      i += 1;
      value = items;
    } else {
      const v = tokens[i];
      if (numeric) {
        if (v?.kind !== "number") throw new LoggedModelSearchError(`Expected a numeric value for ${display}. Got ${v ? v.text : "nothing"}.`);
        value = Number(v.value);
      } else {
        if (v?.kind !== "string" && v?.kind !== "number") {
          throw new LoggedModelSearchError(`Expected a quoted string value for ${display} (e.g. 'my-value'). Got ${v ? v.text : "nothing"}.`);
        }
        value = key === "status" && entity === "attribute" && (comparator === "=" || comparator === "!=") ? statusValue(v.value) : v.value;
      }
      i += 1;
    }
    out.push({ entity, key, comparator: comparator as Comparator, value });
    if (i >= tokens.length) return out;
    if (!isWord(tokens[i], "AND") || i + 1 >= tokens.length) throw structure();
    i += 1;
  }
}

/** One logged-models/search `order_by` entry: `{field_name, ascending, dataset_name, dataset_digest}`. */
export function parseLoggedModelOrderBy(o: { field_name?: string; ascending?: boolean; dataset_name?: string; dataset_digest?: string }): LoggedModelOrderBy {
  const field = o.field_name?.trim();
  if (!field) throw new LoggedModelSearchError("`field_name` in the `order_by` clause must be specified.");
  if (o.dataset_digest && !o.dataset_name) {
    throw new LoggedModelSearchError("`dataset_digest` can only be specified if `dataset_name` is also specified.");
  }
  const dot = field.indexOf(".");
  if (dot >= 0) {
    const entity = field.slice(0, dot);
    if (entity !== "metrics") throw new LoggedModelSearchError(`Invalid order by field name: ${entity}, only \`metrics.<name>\` is allowed.`);
    return { key: unquote(field.slice(dot + 1)), metric: true, ascending: o.ascending ?? true, datasetName: o.dataset_name || null, datasetDigest: o.dataset_digest || null };
  }
  const key = ATTRIBUTE_ALIASES.get(field) ?? field;
  if (!STRING_ATTRIBUTES.includes(key) && !NUMERIC_ATTRIBUTES.includes(key)) throw new LoggedModelSearchError(`Invalid order by field name: ${field}.`);
  if (o.dataset_name) throw new LoggedModelSearchError("`dataset_name` can only be specified when ordering by a metric.");
  return { key, metric: false, ascending: o.ascending ?? true, datasetName: null, datasetDigest: null };
}

// ---------------------------------------------------------------------------------------------
// Page tokens: base64 JSON of the offset and the search it belongs to, so a token cannot be replayed
// against a different search (MLflow refuses that too).

function toBase64(text: string): string {
  let binary = "";
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary);
}

function fromBase64(token: string): string {
  const binary = atob(token);
  return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(Uint8Array.from(binary, (ch) => ch.charCodeAt(0)));
}

export function encodeSearchToken(offset: number, search: string): string {
  return toBase64(JSON.stringify({ offset, search }));
}

/** The offset the token continues from; the token must have been made for this same search. */
export function decodeSearchToken(token: string | null | undefined, search: string): number {
  if (!token) return 0;
  let parsed: { offset?: unknown; search?: unknown };
  try {
    parsed = JSON.parse(fromBase64(token)) as typeof parsed;
  } catch {
    throw new LoggedModelSearchError(`Invalid page token: ${pyRepr(token)}.`);
  }
  if (typeof parsed?.offset !== "number" || !Number.isSafeInteger(parsed.offset) || parsed.offset < 0) {
    throw new LoggedModelSearchError(`Invalid page token: ${pyRepr(token)}.`);
  }
  if (parsed.search !== search) {
    throw new LoggedModelSearchError("The page token was issued for a different search (experiment IDs, filter or order_by differ).");
  }
  return parsed.offset;
}
