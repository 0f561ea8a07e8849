/**
 * MLflow's search grammar: the `filter` strings of runs/search and experiments/search and their
 * `order_by` clauses, parsed into a typed AST under the rules and error wording of MLflow's
 * `mlflow/utils/search_utils.py` (SearchUtils, SearchExperimentsUtils) and the checks its stores
 * add, plus the LIKE pattern semantics. Pure TypeScript with no runtime imports, so the same rules
 * hold in the Worker, the browser and Node.
 */

export type SearchEntity = "metric" | "param" | "tag" | "attribute" | "dataset";

export type Comparator =
  | "="
  | "!="
  | "<"
  | "<="
  | ">"
  | ">="
  | "LIKE"
  | "ILIKE"
  | "IN"
  | "NOT IN"
  | "IS NULL"
  | "IS NOT NULL";

export interface Comparison {
  entity: SearchEntity;
  /** For attributes the canonical MLflow name: aliases such as `created` and `Run Name` are resolved. */
  key: string;
  comparator: Comparator;
  /** number for metrics and numeric attributes, string[] for IN / NOT IN, null for IS [NOT] NULL. */
  value: string | number | string[] | null;
}

export interface OrderBy {
  entity: SearchEntity;
  key: string;
  ascending: boolean;
}

/** The message is what the API returns to the user as INVALID_PARAMETER_VALUE. */
export class SearchSyntaxError extends Error {
  override readonly name = "SearchSyntaxError";
}

// ---------------------------------------------------------------------------------------------
// Facts from MLflow. Display orders are fixed here; Python prints its sets in hash order, and the
// metric order below is the one a real server printed.

const METRIC_COMPARATORS: readonly Comparator[] = [">=", "!=", "<", ">", "=", "<="];
const PARAM_TAG_COMPARATORS: readonly Comparator[] = ["!=", "=", "LIKE", "ILIKE", "IS NULL", "IS NOT NULL"];
const STRING_ATTRIBUTE_COMPARATORS: readonly Comparator[] = ["!=", "=", "LIKE", "ILIKE", "IN", "NOT IN"];
const DATASET_COMPARATORS: readonly Comparator[] = ["!=", "=", "LIKE", "ILIKE", "IN", "NOT IN"];
// The SQL store refuses IN on experiment names (and the parser already refuses their lists).
const EXPERIMENT_STRING_ATTRIBUTE_COMPARATORS: readonly Comparator[] = ["!=", "=", "LIKE", "ILIKE"];

const RUN_SEARCHABLE_ATTRIBUTES = ["run_id", "run_name", "user_id", "status", "start_time", "end_time", "artifact_uri"];
const RUN_NUMERIC_ALIASES = ["created", "Created"];
const RUN_STRING_ALIASES = ["run name", "Run name", "Run Name"];
const RUN_SEARCH_KEYS = [...RUN_SEARCHABLE_ATTRIBUTES, ...RUN_NUMERIC_ALIASES, ...RUN_STRING_ALIASES];
// MLflow lets `created` be sorted on but not the `run name` spellings.
const RUN_ORDER_BY_KEYS = [...RUN_SEARCHABLE_ATTRIBUTES, ...RUN_NUMERIC_ALIASES];
const RUN_NUMERIC_ATTRIBUTES: ReadonlySet<string> = new Set(["start_time", "end_time", ...RUN_NUMERIC_ALIASES]);
const RUN_ATTRIBUTE_ALIASES: ReadonlyMap<string, string> = new Map([
  ["created", "start_time"],
  ["Created", "start_time"],
  ["run name", "run_name"],
  ["Run name", "run_name"],
  ["Run Name", "run_name"],
]);
const DATASET_KEYS = ["name", "digest", "context"];

// A Map, not an object literal, so that `constructor.x` or `__proto__.x` are just unknown types.
const RUN_ENTITY_TYPES: ReadonlyMap<string, SearchEntity> = new Map([
  ["metric", "metric"],
  ["metrics", "metric"],
  ["parameter", "param"],
  ["parameters", "param"],
  ["param", "param"],
  ["params", "param"],
  ["tag", "tag"],
  ["tags", "tag"],
  ["attribute", "attribute"],
  ["attr", "attribute"],
  ["attributes", "attribute"],
  ["run", "attribute"],
  ["dataset", "dataset"],
  ["datasets", "dataset"],
]);
const RUN_ENTITY_NAMES = ["metric", "parameter", "tag", "attribute", "dataset"];

// MLflow checks the experiment prefix before stripping backticks and does not accept `attributes`.
const EXPERIMENT_ENTITY_TYPES: ReadonlyMap<string, SearchEntity> = new Map([
  ["attribute", "attribute"],
  ["tag", "tag"],
  ["tags", "tag"],
]);
const EXPERIMENT_SEARCH_KEYS = ["name", "creation_time", "last_update_time"];
const EXPERIMENT_ORDER_BY_KEYS = ["name", "experiment_id", "creation_time", "last_update_time"];
const EXPERIMENT_NUMERIC_ATTRIBUTES: ReadonlySet<string> = new Set(["creation_time", "last_update_time"]);

/** The entity names MLflow's messages use ("parameter", not "param"). */
const MLFLOW_TYPE_NAME: Record<SearchEntity, string> = {
  metric: "metric",
  param: "parameter",
  tag: "tag",
  attribute: "attribute",
  dataset: "dataset",
};

// ---------------------------------------------------------------------------------------------
// Python-style rendering, so messages read exactly like MLflow's f-strings.

function pyRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = "";
  for (const ch of s) {
    if (ch === "\\") out += "\\\\";
    else if (ch === quote) out += `\\${quote}`;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else out += ch;
  }
  return quote + out + quote;
}

const pySet = (items: readonly string[]): string => `{${items.map(pyRepr).join(", ")}}`;
const pyList = (items: readonly string[]): string => `[${items.map(pyRepr).join(", ")}]`;
const pyTuple = (items: readonly string[]): string =>
  items.length === 1 ? `(${items[0]},)` : `(${items.join(", ")})`;

// ---------------------------------------------------------------------------------------------
// Tokenizer. Its token shapes follow what sqlparse (which MLflow uses) produces for these inputs.

type TokenKind = "ident" | "string" | "number" | "op" | "kw" | "lparen" | "rparen" | "comma" | "semicolon" | "bad";

interface Token {
  kind: TokenKind;
  /** Source text, quotes included. */
  text: string;
  start: number;
  end: number;
  /** kw: the upper-cased keyword. */
  keyword?: string;
  /** ident: a single unquoted word, which is what can be a keyword or a sort direction. */
  bare?: boolean;
  /** bad: why it is not a token. */
  reason?: string;
}

const KEYWORDS: ReadonlySet<string> = new Set([
  "AND",
  "OR",
  "NOT",
  "IN",
  "IS",
  "NULL",
  "LIKE",
  "ILIKE",
  "RLIKE",
  "TRUE",
  "FALSE",
]);

const WHITESPACE = /\s+/y;
// Quoted forms as sqlparse lexes them: doubled quotes and backslash-quote stay inside the token.
const SINGLE_QUOTED = /'(?:''|\\'|[^'])*'/y;
const DOUBLE_QUOTED = /"(?:""|\\"|[^"])*"/y;
const BACKTICK_QUOTED = /`(?:``|[^`])*`/y;
const NUMBER = /-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/y;
const WORD = /[\p{L}\p{N}_][\p{L}\p{N}_$#]*/uy;
const WORD_CHAR = /[\p{L}\p{N}_$#]/u;
const OPERATOR = /[<>=~!]+/y;

function matchAt(re: RegExp, src: string, pos: number): string | null {
  re.lastIndex = pos;
  const m = re.exec(src);
  return m ? m[0] : null;
}

/** One segment of a dotted identifier; single quotes only count after a dot, as in sqlparse. */
function segmentAt(src: string, pos: number, afterDot: boolean): { text: string; bare: boolean } | null {
  const word = matchAt(WORD, src, pos);
  if (word !== null) return { text: word, bare: true };
  const quoted =
    matchAt(DOUBLE_QUOTED, src, pos) ??
    matchAt(BACKTICK_QUOTED, src, pos) ??
    (afterDot ? matchAt(SINGLE_QUOTED, src, pos) : null);
  return quoted === null ? null : { text: quoted, bare: false };
}

function lex(src: string): Token[] {
  const tokens: Token[] = [];
  let pos = 0;
  let number: string | null;
  const push = (kind: TokenKind, end: number, extra: Partial<Token> = {}): void => {
    tokens.push({ kind, text: src.slice(pos, end), start: pos, end, ...extra });
    pos = end;
  };
  while (pos < src.length) {
    const ws = matchAt(WHITESPACE, src, pos);
    if (ws !== null) {
      pos += ws.length;
      continue;
    }
    const ch = src[pos];
    if (ch === "(") push("lparen", pos + 1);
    else if (ch === ")") push("rparen", pos + 1);
    else if (ch === ",") push("comma", pos + 1);
    else if (ch === ";") push("semicolon", pos + 1);
    else if (ch === "'") {
      const s = matchAt(SINGLE_QUOTED, src, pos);
      if (s === null) push("bad", src.length, { reason: "Unterminated quoted string." });
      else push("string", pos + s.length);
    } else if (/[<>=~!]/.test(ch)) {
      push("op", pos + (matchAt(OPERATOR, src, pos) as string).length);
    } else if ((number = /[-.\d]/.test(ch) ? matchAt(NUMBER, src, pos) : null) !== null) {
      const end = pos + number.length;
      if (end < src.length && WORD_CHAR.test(src[end])) {
        // `2x` or `0x1F`: a word that starts with digits, never a number.
        if (/\d/.test(ch)) lexIdent();
        else push("bad", end + 1, { reason: "Unexpected character." });
      } else push("number", end);
    } else if (segmentAt(src, pos, false) !== null) {
      lexIdent();
    } else if (ch === '"' || ch === "`") {
      push("bad", src.length, { reason: "Unterminated quoted string." });
    } else {
      push("bad", pos + ch.length, { reason: "Unexpected character." });
    }
  }
  return tokens;

  function lexIdent(): void {
    const first = segmentAt(src, pos, false) as { text: string; bare: boolean };
    let end = pos + first.text.length;
    let dotted = false;
    // MLflow keeps everything after the first dot as the key, so `tags.mlflow.runName` is one name.
    while (src[end] === ".") {
      const next = segmentAt(src, end + 1, true);
      if (next === null) break;
      end += 1 + next.text.length;
      dotted = true;
    }
    const bare = first.bare && !dotted;
    const upper = src.slice(pos, end).toUpperCase();
    if (bare && KEYWORDS.has(upper)) push("kw", end, { keyword: upper });
    else push("ident", end, { bare });
  }
}

// ---------------------------------------------------------------------------------------------
// Clause structure: `<identifier> <comparator> [<value>]` joined by AND.

type RawValue =
  | { kind: "scalar"; token: Token }
  | { kind: "list"; text: string };

interface RawClause {
  lhs: Token;
  /** Upper-cased, whitespace-normalized comparator as written (may be invalid, e.g. `>>>`). */
  comparator: string;
  value: RawValue | null;
}

const NULL_COMPARATORS: ReadonlySet<string> = new Set(["IS NULL", "IS NOT NULL"]);
const LIST_COMPARATORS: ReadonlySet<string> = new Set(["IN", "NOT IN"]);

function invalidClause(fragment: string, reason: string): SearchSyntaxError {
  return new SearchSyntaxError(`Invalid clause(s) in filter string: '${fragment}'. ${reason}`);
}

function parseClauses(filter: string): RawClause[] {
  const tokens = lex(filter);
  const semicolon = tokens.findIndex((t) => t.kind === "semicolon");
  if (semicolon >= 0 && semicolon < tokens.length - 1) {
    throw new SearchSyntaxError(
      `Search filter contained multiple expression ${pyRepr(filter)}. Provide AND-ed expression list.`,
    );
  }

  const clauses: RawClause[] = [];
  let i = 0;
  const fail = (token: Token, reason: string, from = token.start): SearchSyntaxError =>
    token.kind === "bad"
      ? invalidClause(filter.slice(token.start, token.end), token.reason as string)
      : invalidClause(filter.slice(from, token.end), reason);
  const atKeyword = (word: string, offset = 0): boolean => tokens[i + offset]?.keyword === word;

  if (tokens.length === 0) return clauses;
  if (atKeyword("AND")) throw fail(tokens[0], "AND must join two expressions.");

  for (;;) {
    clauses.push(parseClause());
    if (i >= tokens.length) return clauses;
    const next = tokens[i];
    if (next.keyword === "AND") {
      i += 1;
      if (i >= tokens.length) throw fail(next, "AND must join two expressions; nothing follows it.");
      if (atKeyword("AND")) throw fail(tokens[i], "AND must join two expressions.", next.start);
      continue;
    }
    if (next.keyword === "OR") {
      throw fail(next, "OR is not supported; only AND can join expressions.");
    }
    if (next.kind === "semicolon") throw fail(next, "Remove the trailing semicolon.");
    throw fail(next, "Expected AND between expressions.");
  }

  function parseClause(): RawClause {
    const lhs = tokens[i];
    if (lhs.keyword === "OR") throw fail(lhs, "OR is not supported; only AND can join expressions.");
    if (lhs.kind !== "ident" && lhs.kind !== "number" && lhs.kind !== "string") {
      throw fail(lhs, "Expected an identifier such as metrics.<key>, params.<key>, tags.<key> or attributes.<key>.");
    }
    i += 1;
    const clauseStart = lhs.start;
    const missing = (what: string): SearchSyntaxError => {
      const last = tokens[i - 1];
      return invalidClause(filter.slice(clauseStart, last.end), what);
    };

    const c = tokens[i];
    if (c === undefined) throw missing("Expected a comparator.");
    let comparator: string;
    if (c.kind === "op") {
      comparator = c.text;
      i += 1;
    } else if (c.keyword === "LIKE" || c.keyword === "ILIKE" || c.keyword === "RLIKE" || c.keyword === "IN") {
      comparator = c.keyword;
      i += 1;
    } else if (c.keyword === "NOT" && ["LIKE", "ILIKE", "RLIKE", "IN"].some((k) => atKeyword(k, 1))) {
      comparator = `NOT ${tokens[i + 1].keyword}`;
      i += 2;
    } else if (c.keyword === "IS" && atKeyword("NULL", 1)) {
      comparator = "IS NULL";
      i += 2;
    } else if (c.keyword === "IS" && atKeyword("NOT", 1) && atKeyword("NULL", 2)) {
      comparator = "IS NOT NULL";
      i += 3;
    } else if (c.keyword === "IS") {
      throw fail(c, "IS must be followed by NULL or NOT NULL.", clauseStart);
    } else {
      throw fail(c, "Expected a comparator.", clauseStart);
    }

    if (NULL_COMPARATORS.has(comparator)) return { lhs, comparator, value: null };

    const v = tokens[i];
    if (v === undefined) throw missing("Expected a value after the comparator.");
    if (v.kind === "lparen") {
      let depth = 0;
      let j = i;
      for (; j < tokens.length; j += 1) {
        const t = tokens[j];
        if (t.kind === "bad") throw fail(t, t.reason as string);
        if (t.kind === "lparen") depth += 1;
        else if (t.kind === "rparen" && --depth === 0) break;
      }
      if (j >= tokens.length) throw fail(v, "Unbalanced parentheses.", clauseStart);
      const text = filter.slice(v.start, tokens[j].end);
      i = j + 1;
      return { lhs, comparator, value: { kind: "list", text } };
    }
    if (LIST_COMPARATORS.has(comparator)) {
      throw fail(v, `${comparator} must be followed by a parenthesized list of quoted strings.`, clauseStart);
    }
    if (v.kind === "string" || v.kind === "number" || v.kind === "ident") {
      i += 1;
      return { lhs, comparator, value: { kind: "scalar", token: v } };
    }
    throw fail(v, "Expected a value after the comparator.", clauseStart);
  }
}

// ---------------------------------------------------------------------------------------------
// MLflow's key and value rules.

const isQuoted = (s: string, q: string): boolean => s.length >= 2 && s.startsWith(q) && s.endsWith(q);
const trimBackticks = (s: string): string => (isQuoted(s, "`") ? s.slice(1, -1) : s);

/** MLflow only trims the outer quotes: doubled or escaped quotes inside stay as written. */
function stripQuotes(s: string): string {
  return isQuoted(s, "'") || isQuoted(s, '"') ? s.slice(1, -1) : s;
}

function stripRequiredQuotes(s: string): string {
  if (isQuoted(s, "'") || isQuoted(s, '"')) return s.slice(1, -1);
  throw new SearchSyntaxError(
    `Parameter value is either not quoted or unidentified quote types used for string value ${s}. ` +
      "Use either single or double quotes.",
  );
}

function splitFirstDot(raw: string): [string] | [string, string] {
  const dot = raw.indexOf(".");
  return dot < 0 ? [raw] : [raw.slice(0, dot), raw.slice(dot + 1)];
}

interface Identifier {
  entity: SearchEntity;
  /** As written (minus quotes); aliases are resolved only at the end. */
  key: string;
}

interface ComparatorRule {
  allowed: readonly Comparator[];
  message(comparator: string): string;
}

interface Grammar {
  identifier(raw: string, attributeKeys: readonly string[]): Identifier;
  searchKeys: readonly string[];
  orderByKeys: readonly string[];
  numericAttributes: ReadonlySet<string>;
  /** Message when IS [NOT] NULL is used on an entity that does not support it, else null. */
  nullCheck(id: Identifier): string | null;
  comparatorRule(id: Identifier): ComparatorRule;
  /** Which keys MLflow lets compare with a list (its `validate_list_supported`). */
  listSupported(id: Identifier): boolean;
  canonicalKey(id: Identifier): string;
  orderByCheck(id: Identifier): string | null;
}

function invalidAttributeKey(key: string, keys: readonly string[]): SearchSyntaxError {
  return new SearchSyntaxError(`Invalid attribute key '${key}' specified. Valid keys are '${pySet(keys)}'`);
}

// MLflow's messages for these are inconsistent about the closing quote; they are kept as they are.
const comparatorMessage =
  (allowed: readonly Comparator[], closingQuote: boolean) =>
  (comparator: string): string =>
    `Invalid comparator '${comparator}' not one of '${pySet(allowed)}${closingQuote ? "'" : ""}`;

const RUNS: Grammar = {
  identifier(raw, attributeKeys) {
    const parts = splitFirstDot(raw);
    let entity: SearchEntity = "attribute";
    if (parts.length === 2) {
      const type = trimBackticks(parts[0]);
      const found = RUN_ENTITY_TYPES.get(type);
      if (found === undefined) {
        throw new SearchSyntaxError(`Invalid entity type '${type}'. Valid values are ${pyList(RUN_ENTITY_NAMES)}`);
      }
      entity = found;
    }
    const key = trimBackticks(stripQuotes(parts[parts.length - 1]));
    if (entity === "attribute" && !attributeKeys.includes(key)) throw invalidAttributeKey(key, attributeKeys);
    if (entity === "dataset" && !DATASET_KEYS.includes(key)) {
      throw new SearchSyntaxError(`Invalid dataset key '${key}' specified. Valid keys are '${pySet(DATASET_KEYS)}'`);
    }
    return { entity, key };
  },
  searchKeys: RUN_SEARCH_KEYS,
  orderByKeys: RUN_ORDER_BY_KEYS,
  numericAttributes: RUN_NUMERIC_ATTRIBUTES,
  nullCheck: ({ entity, key }) =>
    entity === "tag" || entity === "param"
      ? null
      : `IS NULL / IS NOT NULL is only supported for tags and params, not for '${MLFLOW_TYPE_NAME[entity]}' '${key}'`,
  comparatorRule({ entity, key }) {
    switch (entity) {
      case "metric":
        return { allowed: METRIC_COMPARATORS, message: comparatorMessage(METRIC_COMPARATORS, false) };
      case "param":
        return { allowed: PARAM_TAG_COMPARATORS, message: comparatorMessage(PARAM_TAG_COMPARATORS, true) };
      case "tag":
        return { allowed: PARAM_TAG_COMPARATORS, message: comparatorMessage(PARAM_TAG_COMPARATORS, false) };
      case "dataset":
        return { allowed: DATASET_COMPARATORS, message: comparatorMessage(DATASET_COMPARATORS, false) };
      case "attribute":
        // MLflow's numeric-attribute message lists the string comparators; the right set is shown here.
        return RUN_NUMERIC_ATTRIBUTES.has(key)
          ? { allowed: METRIC_COMPARATORS, message: comparatorMessage(METRIC_COMPARATORS, false) }
          : { allowed: STRING_ATTRIBUTE_COMPARATORS, message: comparatorMessage(STRING_ATTRIBUTE_COMPARATORS, true) };
    }
  },
  listSupported: ({ entity, key }) => entity === "dataset" || (entity === "attribute" && key === "run_id"),
  canonicalKey: ({ entity, key }) => (entity === "attribute" ? (RUN_ATTRIBUTE_ALIASES.get(key) ?? key) : key),
  orderByCheck: ({ entity }) => (entity === "dataset" ? `Invalid identifier type '${MLFLOW_TYPE_NAME[entity]}'` : null),
};

const EXPERIMENTS: Grammar = {
  identifier(raw, attributeKeys) {
    const parts = splitFirstDot(raw);
    let entity: SearchEntity = "attribute";
    if (parts.length === 2) {
      const found = EXPERIMENT_ENTITY_TYPES.get(parts[0]);
      if (found === undefined) {
        throw new SearchSyntaxError(
          `Invalid entity type '${parts[0]}'. Valid entity types are ${pyTuple(["attribute", "tag", "tags"].map(pyRepr))}`,
        );
      }
      entity = found;
    }
    const key = trimBackticks(stripQuotes(parts[parts.length - 1]));
    if (entity === "attribute" && !attributeKeys.includes(key)) throw invalidAttributeKey(key, attributeKeys);
    return { entity, key };
  },
  searchKeys: EXPERIMENT_SEARCH_KEYS,
  orderByKeys: EXPERIMENT_ORDER_BY_KEYS,
  numericAttributes: EXPERIMENT_NUMERIC_ATTRIBUTES,
  nullCheck: ({ entity, key }) =>
    entity === "tag" ? null : `IS NULL / IS NOT NULL is only supported for tags, not for attribute '${key}'`,
  comparatorRule({ entity, key }) {
    if (entity === "tag") {
      return { allowed: PARAM_TAG_COMPARATORS, message: comparatorMessage(PARAM_TAG_COMPARATORS, false) };
    }
    return EXPERIMENT_NUMERIC_ATTRIBUTES.has(key)
      ? { allowed: METRIC_COMPARATORS, message: comparatorMessage(METRIC_COMPARATORS, false) }
      : {
          allowed: EXPERIMENT_STRING_ATTRIBUTE_COMPARATORS,
          message: comparatorMessage(EXPERIMENT_STRING_ATTRIBUTE_COMPARATORS, true),
        };
  },
  listSupported: () => false,
  canonicalKey: ({ key }) => key,
  orderByCheck: ({ entity }) => (entity === "attribute" ? null : `Invalid order_by entity: ${MLFLOW_TYPE_NAME[entity]}`),
};

function numberValue(token: Token): number {
  return Number(token.text);
}

function resolveValue(grammar: Grammar, id: Identifier, value: RawValue): string | number | string[] {
  const { entity, key } = id;
  const token = value.kind === "scalar" ? value.token : null;
  const raw = value.kind === "scalar" ? value.token.text : value.text;
  const stringish = token !== null && (token.kind === "string" || token.kind === "ident");
  switch (entity) {
    case "metric":
      if (token?.kind === "number") return numberValue(token);
      throw new SearchSyntaxError(`Expected numeric value type for metric. Found ${raw}`);
    case "param":
    case "tag":
      if (stringish) return stripRequiredQuotes(raw);
      throw new SearchSyntaxError(
        `Expected a quoted string value for ${MLFLOW_TYPE_NAME[entity]} (e.g. 'my-value'). Got value ${raw}`,
      );
    case "attribute":
      if (grammar.numericAttributes.has(key)) {
        if (token?.kind === "number") return numberValue(token);
        throw new SearchSyntaxError(`Expected numeric value type for numeric attribute: ${key}. Found ${raw}`);
      }
      if (stringish) return stripRequiredQuotes(raw);
      if (value.kind === "list") {
        if (!grammar.listSupported(id)) {
          throw new SearchSyntaxError(
            "Only the 'run_id' attribute supports comparison with a list of quoted string values.",
          );
        }
        // MySQL compares IN lists case-insensitively, so MLflow drops what cannot be a run id.
        return parseStringList(value.text).filter(isPythonLower);
      }
      throw new SearchSyntaxError(`Expected a quoted string value for attributes. Got value ${raw}`);
    case "dataset":
      if (stringish) return stripRequiredQuotes(raw);
      if (value.kind === "list") return parseStringList(value.text);
      throw new SearchSyntaxError(`Expected a quoted string value for dataset attributes. Got value ${raw}`);
  }
}

/** Python's str.islower(): some cased character and none upper-case. */
function isPythonLower(s: string): boolean {
  return s === s.toLowerCase() && s !== s.toUpperCase();
}

// ---------------------------------------------------------------------------------------------
// IN lists: MLflow evaluates the parenthesized text as a Python literal, so Python's string rules
// apply there (escapes are decoded, adjacent literals concatenate), unlike scalar values.

const ILL_FORMED_LIST =
  "While parsing a list in the query, expected a non-empty list of string values, but got ill-formed list.";

function decodePythonEscapes(body: string): string {
  const simple: Record<string, string> = {
    "\\": "\\",
    "'": "'",
    '"': '"',
    n: "\n",
    t: "\t",
    r: "\r",
    a: "\x07",
    b: "\b",
    f: "\f",
    v: "\v",
    "\n": "",
  };
  let out = "";
  for (let k = 0; k < body.length; k += 1) {
    const ch = body[k];
    if (ch !== "\\" || k + 1 >= body.length) {
      out += ch;
      continue;
    }
    const next = body[k + 1];
    const hex = (len: number): void => {
      const digits = body.slice(k + 2, k + 2 + len);
      if (digits.length !== len || !/^[0-9a-fA-F]+$/.test(digits)) throw new SearchSyntaxError(ILL_FORMED_LIST);
      const cp = parseInt(digits, 16);
      if (cp > 0x10ffff) throw new SearchSyntaxError(ILL_FORMED_LIST);
      out += String.fromCodePoint(cp);
      k += 1 + len;
    };
    if (Object.hasOwn(simple, next)) {
      out += simple[next];
      k += 1;
    } else if (next === "x") hex(2);
    else if (next === "u") hex(4);
    else if (next === "U") hex(8);
    else if (/[0-7]/.test(next)) {
      const octal = /^[0-7]{1,3}/.exec(body.slice(k + 1))?.[0] as string;
      out += String.fromCodePoint(parseInt(octal, 8));
      k += octal.length;
    } else {
      // Python keeps unknown escapes, backslash included.
      out += ch;
    }
  }
  return out;
}

type PyItem = { kind: "str"; value: string } | { kind: "other"; text: string };

function parseStringList(text: string): string[] {
  const inner = text.slice(1, -1);
  const items: PyItem[] = [];
  let pos = 0;
  let expectItem = true;
  let sawComma = false;
  const skipWs = (): void => {
    while (pos < inner.length && /\s/.test(inner[pos])) pos += 1;
  };
  for (;;) {
    skipWs();
    if (pos >= inner.length) break;
    const ch = inner[pos];
    if (ch === ",") {
      if (expectItem) throw new SearchSyntaxError(ILL_FORMED_LIST);
      expectItem = true;
      sawComma = true;
      pos += 1;
      continue;
    }
    if (!expectItem) throw new SearchSyntaxError(ILL_FORMED_LIST);
    if (ch === "'" || ch === '"') {
      let value = "";
      // Adjacent literals form one string in Python.
      while (pos < inner.length && (inner[pos] === "'" || inner[pos] === '"')) {
        const quote = inner[pos];
        let k = pos + 1;
        for (; k < inner.length && inner[k] !== quote; k += inner[k] === "\\" ? 2 : 1) {
          // A line break inside a one-line Python literal must be escaped.
          if (inner[k] === "\n") throw new SearchSyntaxError(ILL_FORMED_LIST);
        }
        if (k >= inner.length) throw new SearchSyntaxError(ILL_FORMED_LIST);
        value += decodePythonEscapes(inner.slice(pos + 1, k));
        pos = k + 1;
        skipWs();
      }
      items.push({ kind: "str", value });
    } else {
      const other = /^(?:[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?|True|False|None)(?![\w.])/.exec(inner.slice(pos));
      if (other === null) throw new SearchSyntaxError(ILL_FORMED_LIST);
      items.push({ kind: "other", text: other[0] });
      pos += other[0].length;
    }
    expectItem = false;
  }
  if (items.length === 0) {
    if (sawComma) throw new SearchSyntaxError(ILL_FORMED_LIST);
    throw new SearchSyntaxError(
      "While parsing a list in the query, expected a non-empty list of string values, but got empty list",
    );
  }
  if (items.some((item) => item.kind !== "str")) {
    const shown = items.map((item) => (item.kind === "str" ? pyRepr(item.value) : item.text));
    throw new SearchSyntaxError(
      "While parsing a list in the query, expected string value, punctuation, " +
        `or whitespace, but got different type in list: ${pyTuple(shown)}`,
    );
  }
  return items.map((item) => (item as { value: string }).value);
}

// ---------------------------------------------------------------------------------------------
// Entry points.

function requireString(input: unknown, what: string): string {
  if (typeof input !== "string") throw new SearchSyntaxError(`Invalid ${what} ${String(input)}. Expected a string.`);
  return input;
}

function parseFilter(grammar: Grammar, filter: string | undefined | null): Comparison[] {
  if (filter === undefined || filter === null || filter === "") return [];
  const text = requireString(filter, "filter");
  // Structure first, as MLflow does: a misplaced OR wins over a bad key in an earlier clause.
  return parseClauses(text).map((clause) => buildComparison(grammar, clause));
}

function buildComparison(grammar: Grammar, clause: RawClause): Comparison {
  if (clause.lhs.kind !== "ident") {
    throw new SearchSyntaxError(`Invalid comparison clause. Expected 'Identifier' found '${clause.lhs.text}'`);
  }
  const id = grammar.identifier(clause.lhs.text, grammar.searchKeys);
  const key = grammar.canonicalKey(id);
  if (clause.value === null) {
    const refusal = grammar.nullCheck(id);
    if (refusal !== null) throw new SearchSyntaxError(refusal);
    return { entity: id.entity, key, comparator: clause.comparator as Comparator, value: null };
  }
  // Value types before comparators: MLflow checks values while parsing and comparators later.
  const value = resolveValue(grammar, id, clause.value);
  const rule = grammar.comparatorRule(id);
  const comparator = rule.allowed.find((c) => c === clause.comparator);
  if (comparator === undefined) throw new SearchSyntaxError(rule.message(clause.comparator));
  if (Array.isArray(value) !== LIST_COMPARATORS.has(comparator)) {
    throw new SearchSyntaxError(
      `Invalid comparator '${comparator}' for a list of values. Use IN or NOT IN to compare with a list.`,
    );
  }
  return { entity: id.entity, key, comparator, value };
}

function parseOrderBy(grammar: Grammar, clause: string): OrderBy {
  const text = requireString(clause, "order_by clause");
  const unparsable = (): SearchSyntaxError =>
    new SearchSyntaxError(`Invalid order_by clause '${text}'. Could not be parsed.`);
  // MLflow refuses surrounding whitespace here (the filter tolerates it).
  if (text.length === 0 || text.trim() !== text) throw unparsable();
  const tokens = lex(text);
  const [target, direction] = tokens;
  const isDirection = (t: Token): boolean => t.bare === true && /^(ASC|DESC)$/i.test(t.text);
  if (tokens.length > 2 || target.kind !== "ident" || isDirection(target)) throw unparsable();
  let ascending = true;
  if (direction !== undefined) {
    // A second plain word is read by sqlparse as an alias, hence MLflow's "ordering key" message.
    if (direction.kind !== "ident" || !direction.bare) throw unparsable();
    if (!isDirection(direction)) {
      throw new SearchSyntaxError(`Invalid ordering key in order_by clause '${text}'.`);
    }
    ascending = direction.text.toLowerCase() === "asc";
  }
  const id = grammar.identifier(target.text, grammar.orderByKeys);
  const refusal = grammar.orderByCheck(id);
  if (refusal !== null) throw new SearchSyntaxError(refusal);
  return { entity: id.entity, key: grammar.canonicalKey(id), ascending };
}

/** runs/search `filter`: `metrics.rmse < 1 and params.model = 'LR'`; empty or missing means no filter. */
export function parseRunFilter(filter: string | undefined | null): Comparison[] {
  return parseFilter(RUNS, filter);
}

/** One runs/search `order_by` entry: `metrics.rmse DESC`, `attributes.start_time`, ``params.`alpha` ASC``. */
export function parseRunOrderBy(clause: string): OrderBy {
  return parseOrderBy(RUNS, clause);
}

/** experiments/search `filter`: attributes name, creation_time, last_update_time and tags. */
export function parseExperimentFilter(filter: string | undefined | null): Comparison[] {
  return parseFilter(EXPERIMENTS, filter);
}

/** One experiments/search `order_by` entry over name, experiment_id, creation_time, last_update_time. */
export function parseExperimentOrderBy(clause: string): OrderBy {
  return parseOrderBy(EXPERIMENTS, clause);
}

const REGEX_SYNTAX = /[\\^$.*+?()[\]{}|]/;

/** SQL LIKE semantics as MLflow uses them: % and _ wildcards; LIKE case-sensitive, ILIKE case-insensitive. */
export function likeToRegExp(pattern: string, caseInsensitive: boolean): RegExp {
  let body = "";
  // Per code point, so `_` matches one character even outside the Basic Multilingual Plane.
  for (const ch of pattern) {
    if (ch === "%") body += ".*";
    else if (ch === "_") body += ".";
    else body += REGEX_SYNTAX.test(ch) ? `\\${ch}` : ch;
  }
  // `s`: the SQL stores let wildcards match line breaks too.
  return new RegExp(`^${body}$`, caseInsensitive ? "isu" : "su");
}
