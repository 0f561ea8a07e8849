/**
 * The model registry's domain: registered models, model versions, stages, aliases, MLflow's limits
 * and validation rules, and the filter / order_by grammar of registered-models/search and
 * model-versions/search (MLflow's SearchModelUtils and SearchModelVersionUtils with the checks its
 * SQL store adds). Pure: no runtime imports, so the same rules hold wherever they run.
 */
import { SearchSyntaxError } from "../lib/mlflow-search";
import type { KeyValue } from "../tracking/model";

export type { KeyValue };

/** The stages a client may set; "Deleted_Internal" marks a deleted version MLflow keeps for numbering. */
export const STAGES = ["None", "Staging", "Production", "Archived"] as const;
export type Stage = (typeof STAGES)[number];
export const ACTIVE_STAGES: readonly Stage[] = ["Staging", "Production"];
export const STAGE_ARCHIVED: Stage = "Archived";
export const STAGE_DELETED = "Deleted_Internal";

/** MLflow 3 marks prompts with this tag; searches leave them out unless asked for. */
export const PROMPT_TAG = "mlflow.prompt.is_prompt";

export interface ModelVersion {
  name: string;
  version: number;
  creationTime: number;
  lastUpdatedTime: number;
  description: string | null;
  userId: string | null;
  currentStage: string;
  source: string;
  runId: string | null;
  runLink: string | null;
  status: string;
  statusMessage: string | null;
  /** MLflow 3: the logged model this version registers. */
  modelId: string | null;
  tags: KeyValue[];
  aliases: string[];
}

export interface ModelAlias {
  alias: string;
  version: number;
}

export interface RegisteredModel {
  name: string;
  creationTime: number;
  lastUpdatedTime: number;
  description: string | null;
  /** The newest version in each stage. */
  latestVersions: ModelVersion[];
  tags: KeyValue[];
  aliases: ModelAlias[];
}

/** MLflow's registry limits (mlflow/utils/validation.py, model_registry.proto defaults, handlers). */
export const REGISTRY_LIMITS = {
  tagKeyLength: 250,
  tagValueLength: 5000,
  aliasLength: 255,
  searchModelsDefault: 100,
  searchModelsMax: 1000,
  searchVersionsDefault: 200_000,
  searchVersionsMax: 200_000,
} as const;

/** Case-insensitive stage name → MLflow's spelling, or null. */
export function canonicalStage(stage: string): Stage | null {
  return STAGES.find((s) => s.toLowerCase() === stage.toLowerCase()) ?? null;
}

export const invalidStageMessage = (stage: string) => `Invalid Model Version stage: ${stage}. Value must be one of ${STAGES.join(", ")}.`;

// ---------------------------------------------------------------------------------------------
// Validation rules, returning MLflow's message or null.

const TAG_KEY = /^[/\w.\- :]*$/;

/** Python's posixpath.normpath, which MLflow applies to tag keys (they name files in some clients). */
function normpath(path: string): string {
  const parts: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === ".." && parts.length > 0 && parts[parts.length - 1] !== "..") parts.pop();
    else if (part !== ".." || !path.startsWith("/")) parts.push(part);
  }
  const root = path.startsWith("//") && !path.startsWith("///") ? "//" : path.startsWith("/") ? "/" : "";
  return root + parts.join("/") || ".";
}

export function tagProblem(tag: KeyValue): string | null {
  if (!tag.key) return "Missing value for required parameter 'key'.";
  if (!TAG_KEY.test(tag.key)) {
    return `Invalid value ${JSON.stringify(tag.key)} for parameter 'key' supplied: Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), colon(:) and slashes (/).`;
  }
  const norm = normpath(tag.key);
  if (norm !== tag.key || norm === "." || norm.startsWith("..") || norm.startsWith("/")) {
    return `Invalid value ${JSON.stringify(tag.key)} for parameter 'key' supplied: Names may be treated as files in certain cases, and must not resolve to other names when treated as such. This name would resolve to '${norm}'`;
  }
  if (tag.key.length > REGISTRY_LIMITS.tagKeyLength) return `'key' exceeds the maximum length of ${REGISTRY_LIMITS.tagKeyLength} characters`;
  if (tag.value.length > REGISTRY_LIMITS.tagValueLength) return `'value' exceeds the maximum length of ${REGISTRY_LIMITS.tagValueLength} characters`;
  return null;
}

export function aliasProblem(alias: string): string | null {
  if (!alias) return "Registered model alias name cannot be empty.";
  if (!/^[\w-]*$/.test(alias)) return `Invalid alias name: '${alias}'. Names may only contain alphanumerics, underscores (_), and dashes (-).`;
  if (alias.length > REGISTRY_LIMITS.aliasLength) {
    return `'Registered model alias name' exceeds the maximum length of ${REGISTRY_LIMITS.aliasLength} characters`;
  }
  if (alias.toLowerCase() === "latest") return "'latest' alias name (case insensitive) is reserved.";
  // `v3` would read as a version reference in models:/name@v3.
  if (/^[vV]\d+$/.test(alias)) return `Version alias name '${alias}' is reserved.`;
  return null;
}

/** A version as MLflow reads it (Python's int()): optional sign and surrounding spaces. */
export function parseVersion(version: string): number | null {
  if (!/^\s*[+-]?\d+\s*$/.test(version)) return null;
  const n = Number(version.trim());
  return Number.isSafeInteger(n) ? n : null;
}

// ---------------------------------------------------------------------------------------------
// Search grammar. Clauses `<identifier> <comparator> <value>` joined by AND; identifiers are
// attributes (`name`, `attribute.name`) or tags (`tags.key`, ``tag.`a.b` ``).

export type RegistryComparator = "=" | "!=" | "<" | "<=" | ">" | ">=" | "LIKE" | "ILIKE" | "IN";

export interface RegistryComparison {
  entity: "attribute" | "tag";
  key: string;
  comparator: RegistryComparator;
  /** number for numeric attributes, string[] for IN. */
  value: string | number | string[];
}

export interface RegistryOrderBy {
  key: string;
  ascending: boolean;
}

interface Grammar {
  attributes: readonly string[];
  numeric: ReadonlySet<string>;
  stringComparators: readonly RegistryComparator[];
  numericComparators: readonly RegistryComparator[];
  /** The one attribute that may be compared with a list (IN). */
  listKey: string | null;
}

const TAG_COMPARATORS: readonly RegistryComparator[] = ["=", "!=", "LIKE", "ILIKE"];

const MODEL_GRAMMAR: Grammar = {
  attributes: ["name"],
  numeric: new Set(),
  stringComparators: ["=", "!=", "LIKE", "ILIKE"],
  numericComparators: [],
  listKey: null,
};

const VERSION_GRAMMAR: Grammar = {
  attributes: ["name", "version_number", "run_id", "source_path"],
  numeric: new Set(["version_number"]),
  stringComparators: ["!=", "=", "LIKE", "ILIKE", "IN"],
  numericComparators: ["=", "!=", ">", ">=", "<", "<="],
  listKey: "run_id",
};

const pySet = (items: readonly string[]) => `{${items.map((i) => `'${i}'`).join(", ")}}`;

type TokenKind = "str" | "dq" | "num" | "ident" | "op" | "kw" | "lparen" | "rparen" | "comma";
interface Token {
  kind: TokenKind;
  text: string;
}

const KEYWORDS = new Set(["AND", "OR", "NOT", "LIKE", "ILIKE", "IN", "IS", "NULL"]);
const SEGMENT = String.raw`(?:[\p{L}\p{N}_$#]+|\x60[^\x60]*\x60|"[^"]*"|'(?:''|[^'])*')`;
const TOKEN_PATTERNS: [TokenKind, RegExp][] = [
  ["str", /'(?:''|\\'|[^'])*'/y],
  ["num", /-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?(?![\p{L}_])/uy],
  ["ident", new RegExp(String.raw`(?:[\p{L}_][\p{L}\p{N}_$#]*|\x60[^\x60]*\x60)(?:\.${SEGMENT})*`, "uy")],
  ["dq", /"(?:""|[^"])*"/y],
  ["op", /[<>=!]+/y],
];

function lex(filter: string): Token[] {
  const tokens: Token[] = [];
  let pos = 0;
  outer: while (pos < filter.length) {
    const ch = filter[pos];
    if (/\s/.test(ch)) {
      pos += 1;
      continue;
    }
    if (ch === "(" || ch === ")" || ch === ",") {
      tokens.push({ kind: ch === "(" ? "lparen" : ch === ")" ? "rparen" : "comma", text: ch });
      pos += 1;
      continue;
    }
    for (const [kind, re] of TOKEN_PATTERNS) {
      re.lastIndex = pos;
      const m = re.exec(filter);
      if (m) {
        const text = m[0];
        tokens.push({ kind: kind === "ident" && KEYWORDS.has(text.toUpperCase()) ? "kw" : kind, text });
        pos += text.length;
        continue outer;
      }
    }
    throw new SearchSyntaxError(`Invalid clause(s) in filter string: ${filter.slice(pos)}`);
  }
  return tokens;
}

const isQuoted = (s: string, q: string) => s.length >= 2 && s.startsWith(q) && s.endsWith(q);
const unquote = (s: string) => (isQuoted(s, "'") || isQuoted(s, '"') || isQuoted(s, "`") ? s.slice(1, -1) : s);

function identifier(raw: string, grammar: Grammar): { entity: "attribute" | "tag"; key: string } {
  const dot = raw.indexOf(".");
  let entity: "attribute" | "tag" = "attribute";
  let key = raw;
  if (dot >= 0) {
    const type = raw.slice(0, dot);
    key = raw.slice(dot + 1);
    if (type !== "attribute" && type !== "tag" && type !== "tags") {
      throw new SearchSyntaxError(`Invalid entity type '${type}'. Valid entity types are ('attribute', 'tag', 'tags')`);
    }
    entity = type === "attribute" ? "attribute" : "tag";
  }
  if (entity === "attribute" && !grammar.attributes.includes(key)) {
    throw new SearchSyntaxError(`Invalid attribute key '${key}' specified. Valid keys are '${pySet(grammar.attributes)}'`);
  }
  return { entity, key: unquote(key) };
}

function quotedValue(token: Token): string {
  if (isQuoted(token.text, "'") || isQuoted(token.text, '"')) return token.text.slice(1, -1);
  throw new SearchSyntaxError(
    `Parameter value is either not quoted or unidentified quote types used for string value ${token.text}. Use either single or double quotes.`,
  );
}

const ILL_FORMED_LIST = "While parsing a list in the query, expected a non-empty list of string values, but got ill-formed list.";

function listValue(items: Token[]): string[] {
  if (items.length === 0) throw new SearchSyntaxError("While parsing a list in the query, expected a non-empty list of string values, but got empty list");
  const out: string[] = [];
  for (let i = 0; i < items.length; i += 1) {
    const t = items[i];
    if (i % 2 === 1) {
      if (t.kind !== "comma") throw new SearchSyntaxError(ILL_FORMED_LIST);
      continue;
    }
    if (t.kind === "str" || t.kind === "dq") out.push(t.text.slice(1, -1));
    else if (t.kind === "num") {
      throw new SearchSyntaxError(`While parsing a list in the query, expected string value, punctuation, or whitespace, but got different type in list: ${t.text}`);
    } else throw new SearchSyntaxError(ILL_FORMED_LIST);
  }
  // A trailing comma is a one-element tuple in Python, so it is accepted.
  return out;
}

/** Python's str.islower(): some cased character and none upper-case. */
const isLower = (s: string) => s === s.toLowerCase() && s !== s.toUpperCase();

function parseFilter(filter: string | null | undefined, grammar: Grammar): RegistryComparison[] {
  if (!filter) return [];
  const tokens = lex(filter);
  const out: RegistryComparison[] = [];
  let i = 0;
  const rest = () => tokens.slice(i).map((t) => t.text).join(" ");
  const invalidClause = () => new SearchSyntaxError(`Invalid clause(s) in filter string: ${rest()}`);
  while (i < tokens.length) {
    const lhs = tokens[i];
    if (lhs.kind !== "ident") throw invalidClause();
    i += 1;
    let comparator: string;
    const c = tokens[i];
    if (c?.kind === "op") comparator = c.text;
    else if (c?.kind === "kw" && ["LIKE", "ILIKE", "IN"].includes(c.text.toUpperCase())) comparator = c.text.toUpperCase();
    else if (c?.kind === "kw" && c.text.toUpperCase() === "NOT" && tokens[i + 1]?.kind === "kw") {
      comparator = `NOT ${tokens[i + 1].text.toUpperCase()}`;
      i += 1;
    } else {
      i -= 1;
      throw invalidClause();
    }
    i += 1;
    const v = tokens[i];
    if (v === undefined) {
      i -= 2;
      throw invalidClause();
    }
    let raw: Token | Token[];
    if (v.kind === "lparen") {
      const close = tokens.findIndex((t, k) => k > i && t.kind === "rparen");
      if (close < 0) throw invalidClause();
      raw = tokens.slice(i + 1, close);
      i = close + 1;
    } else if (v.kind === "str" || v.kind === "dq" || v.kind === "num" || v.kind === "ident") {
      raw = v;
      i += 1;
    } else throw invalidClause();

    const id = identifier(lhs.text, grammar);
    let value: string | number | string[];
    if (id.entity === "tag") {
      if (Array.isArray(raw) || raw.kind === "num") {
        throw new SearchSyntaxError(`Expected a quoted string value for tag (e.g. 'my-value'). Got value ${Array.isArray(raw) ? `(${raw.map((t) => t.text).join("")})` : raw.text}`);
      }
      value = quotedValue(raw);
    } else if (grammar.numeric.has(id.key)) {
      if (Array.isArray(raw) || raw.kind !== "num" || !Number.isInteger(Number(raw.text))) {
        const shown = Array.isArray(raw) ? `(${raw.map((t) => t.text).join("")})` : raw.text;
        throw new SearchSyntaxError(`Expected numeric value type for numeric attribute: ${id.key}. Found ${shown}`);
      }
      value = Number(raw.text);
    } else if (Array.isArray(raw)) {
      if (id.key !== grammar.listKey) throw new SearchSyntaxError(`Only the '${grammar.listKey ?? "run_id"}' attribute supports comparison with a list of quoted string values.`);
      // Run ids are lower-case hex; MLflow drops list items that cannot be one.
      value = listValue(raw).filter(isLower);
    } else if (raw.kind === "num") {
      throw new SearchSyntaxError(`Expected a quoted string value or a list of quoted string values for attributes. Got value ${raw.text}`);
    } else value = quotedValue(raw);

    const allowed = id.entity === "tag" ? TAG_COMPARATORS : grammar.numeric.has(id.key) ? grammar.numericComparators : grammar.stringComparators;
    const found = allowed.find((a) => a === comparator);
    if (!found || (found === "IN" && id.key !== grammar.listKey)) {
      if (id.entity === "tag") throw new SearchSyntaxError(`Invalid comparator for tag: ${comparator}`);
      if (grammar.numeric.has(id.key)) throw new SearchSyntaxError(`Invalid comparator for attribute ${id.key}: ${comparator}`);
      throw new SearchSyntaxError(`Invalid comparator for attribute: ${comparator}`);
    }
    if (Array.isArray(value) !== (found === "IN")) {
      throw new SearchSyntaxError(`Invalid comparator '${found}' for ${Array.isArray(value) ? "a list of values. Use IN to compare with a list." : "a single value. IN needs a parenthesized list of quoted strings."}`);
    }
    out.push({ entity: id.entity, key: id.key, comparator: found, value });

    if (i < tokens.length) {
      const joiner = tokens[i];
      if (joiner.kind !== "kw" || joiner.text.toUpperCase() !== "AND" || i + 1 >= tokens.length) throw invalidClause();
      i += 1;
    }
  }
  return out;
}

/** registered-models/search `filter`: `name` and `tags.<key>` with =, !=, LIKE, ILIKE. */
export const parseModelFilter = (filter: string | null | undefined) => parseFilter(filter, MODEL_GRAMMAR);

/** model-versions/search `filter`: name, run_id (also IN), source_path, version_number and tags. */
export const parseVersionFilter = (filter: string | null | undefined) => parseFilter(filter, VERSION_GRAMMAR);

function splitOrderBy(clause: string): { key: string; ascending: boolean } {
  const m = /^\s*(`[^`]+`|"[^"]+"|[\w.]+)(?:\s+(\S+))?\s*$/.exec(clause);
  if (!m) throw new SearchSyntaxError(`Invalid order_by clause '${clause}'. Could not be parsed.`);
  const direction = m[2]?.toLowerCase();
  if (direction !== undefined && direction !== "asc" && direction !== "desc") {
    throw new SearchSyntaxError(`Invalid ordering key in order_by clause '${clause}'.`);
  }
  return { key: unquote(m[1]), ascending: direction !== "desc" };
}

const pyList = (items: readonly string[]) => `[${items.map((i) => `'${i}'`).join(", ")}]`;

function rejectDuplicates(fields: string[], clauses: readonly string[]): void {
  if (new Set(fields).size !== fields.length) throw new SearchSyntaxError(`\`order_by\` contains duplicate fields: ${pyList(clauses)}`);
}

/**
 * registered-models/search `order_by`: name, or timestamp / last_updated_timestamp (both the last
 * update time). The result key is the field: "name" or "last_updated_timestamp".
 */
export function parseModelOrderBy(clauses: readonly string[]): RegistryOrderBy[] {
  const out = clauses.map((clause) => {
    const { key, ascending } = splitOrderBy(clause);
    if (key === "name") return { key, ascending };
    if (key === "timestamp" || key === "last_updated_timestamp") return { key: "last_updated_timestamp", ascending };
    throw new SearchSyntaxError(`Invalid order by key '${key}' specified. Valid keys are '${pySet(["name", "timestamp"])}'`);
  });
  rejectDuplicates(out.map((o) => o.key), clauses);
  return out;
}

const VERSION_ORDER_KEYS = ["name", "version_number", "creation_timestamp", "last_updated_timestamp"];

/** model-versions/search `order_by`: name, version_number, creation_timestamp, last_updated_timestamp. */
export function parseVersionOrderBy(clauses: readonly string[]): RegistryOrderBy[] {
  const out = clauses.map((clause) => {
    const split = splitOrderBy(clause);
    const key = split.key.startsWith("attribute.") ? split.key.slice("attribute.".length) : split.key;
    if (!VERSION_ORDER_KEYS.includes(key)) throw new SearchSyntaxError(`Invalid attribute key '${key}' specified. Valid keys are '${pySet(VERSION_ORDER_KEYS)}'`);
    return { key, ascending: split.ascending };
  });
  rejectDuplicates(out.map((o) => o.key), clauses);
  return out;
}
