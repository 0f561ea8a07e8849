import { describe, expect, it } from "vitest";
import {
  type Comparison,
  type OrderBy,
  SearchSyntaxError,
  likeToRegExp,
  parseExperimentFilter,
  parseExperimentOrderBy,
  parseRunFilter,
  parseRunOrderBy,
} from "../../worker/lib/mlflow-search";

// Most cases come from MLflow's own tests/utils/test_search_utils.py, with the AST Tern expects.

function syntaxError(fn: () => unknown): SearchSyntaxError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(SearchSyntaxError);
    return e as SearchSyntaxError;
  }
  throw new Error("expected a SearchSyntaxError");
}

const metric = (key: string, comparator: Comparison["comparator"], value: number): Comparison => ({
  entity: "metric",
  key,
  comparator,
  value,
});
const param = (key: string, comparator: Comparison["comparator"], value: Comparison["value"]): Comparison => ({
  entity: "param",
  key,
  comparator,
  value,
});
const tag = (key: string, comparator: Comparison["comparator"], value: Comparison["value"]): Comparison => ({
  entity: "tag",
  key,
  comparator,
  value,
});
const attr = (key: string, comparator: Comparison["comparator"], value: Comparison["value"]): Comparison => ({
  entity: "attribute",
  key,
  comparator,
  value,
});
const dataset = (key: string, comparator: Comparison["comparator"], value: Comparison["value"]): Comparison => ({
  entity: "dataset",
  key,
  comparator,
  value,
});

const validRunFilters: [string, Comparison[]][] = [
  ["", []],
  ["   ", []],
  ["metric.acc >= 0.94", [metric("acc", ">=", 0.94)]],
  ["metric.acc>=100", [metric("acc", ">=", 100)]],
  ["params.m!='tf'", [param("m", "!=", "tf")]],
  ['params."m"!="tf"', [param("m", "!=", "tf")]],
  ['metric."legit name" >= 0.243', [metric("legit name", ">=", 0.243)]],
  ["metrics.XYZ = 3", [metric("XYZ", "=", 3)]],
  ['metrics."X//Y#$$@&Z" = 3', [metric("X//Y#$$@&Z", "=", 3)]],
  ["metrics.rmse < 1 and params.model_class = 'LR'", [metric("rmse", "<", 1), param("model_class", "=", "LR")]],
  ["`metric`.a >= 0.1", [metric("a", ">=", 0.1)]],
  ["`tags`.source_name = 'a notebook'", [tag("source_name", "=", "a notebook")]],
  ['metrics."accuracy.2.0" > 5', [metric("accuracy.2.0", ">", 5)]],
  ["metrics.`spacey name` > 5", [metric("spacey name", ">", 5)]],
  ['tags."t.a.g" = "a"', [tag("t.a.g", "=", "a")]],
  // Unquoted dots: everything after the first dot is the key.
  ["tags.mlflow.runName = 'my run'", [tag("mlflow.runName", "=", "my run")]],
  ["tags.`mlflow.source.name` LIKE '%notebook%'", [tag("mlflow.source.name", "LIKE", "%notebook%")]],
  ["tags.'quoted key' = 'v'", [tag("quoted key", "=", "v")]],
  ["attribute.artifact_uri = '1/23/4'", [attr("artifact_uri", "=", "1/23/4")]],
  ["attribute.start_time >= 1234", [attr("start_time", ">=", 1234)]],
  ["run.status = 'RUNNING'", [attr("status", "=", "RUNNING")]],
  ["attr.user_id = 'alice'", [attr("user_id", "=", "alice")]],
  ["attributes.end_time < 1700000000000", [attr("end_time", "<", 1700000000000)]],
  ["status = 'FAILED'", [attr("status", "=", "FAILED")]],
  ['"status" = "FAILED"', [attr("status", "=", "FAILED")]],
  ["created > 10", [attr("start_time", ">", 10)]],
  ["Created <= 10", [attr("start_time", "<=", 10)]],
  ["attributes.`Run Name` = 'blue-fish'", [attr("run_name", "=", "blue-fish")]],
  ['`run name` ILIKE "%fish%"', [attr("run_name", "ILIKE", "%fish%")]],
  ["attributes.run_name like 'a%'", [attr("run_name", "LIKE", "a%")]],
  ["attributes.run_id IN ('abc', 'def')", [attr("run_id", "IN", ["abc", "def"])]],
  ["attributes.run_id not  in ('abc')", [attr("run_id", "NOT IN", ["abc"])]],
  // MLflow drops values that are not lower-case, since run ids always are.
  ["attributes.run_id IN ('abc', 'DEF', '123', 'a1')", [attr("run_id", "IN", ["abc", "a1"])]],
  // The list is a Python literal: adjacent strings join, escapes decode, a trailing comma is fine.
  [`attributes.run_id IN ('a' 'b', "c",)`, [attr("run_id", "IN", ["ab", "c"])]],
  ["attributes.run_id IN ('x\\'y')", [attr("run_id", "IN", ["x'y"])]],
  ["datasets.name = 'iris'", [dataset("name", "=", "iris")]],
  ["dataset.digest != 'abc'", [dataset("digest", "!=", "abc")]],
  ["datasets.context IN ('train', 'Eval')", [dataset("context", "IN", ["train", "Eval"])]],
  ["datasets.name NOT IN ('a')", [dataset("name", "NOT IN", ["a"])]],
  ["tags.env IS NULL", [tag("env", "IS NULL", null)]],
  ["params.lr is not null", [param("lr", "IS NOT NULL", null)]],
  ["tags.a IS NULL AND params.b = 'val'", [tag("a", "IS NULL", null), param("b", "=", "val")]],
  ["metrics.loss < -1.5e-3", [metric("loss", "<", -0.0015)]],
  ["metrics.x > .5", [metric("x", ">", 0.5)]],
  ["metrics.x = 1E10", [metric("x", "=", 1e10)]],
  ["metrics.x!=-7", [metric("x", "!=", -7)]],
  [`params.m = "L'Hosp"`, [param("m", "=", "L'Hosp")]],
  // Scalar values keep what is between the outer quotes, as MLflow does.
  ["params.m = 'it''s'", [param("m", "=", "it''s")]],
  ["  metrics.a > 1   AND   params.b = 'x'  ", [metric("a", ">", 1), param("b", "=", "x")]],
  [
    "metrics.a > 1 and tags.b ilike 'X%' AnD attributes.status != 'KILLED'",
    [metric("a", ">", 1), tag("b", "ILIKE", "X%"), attr("status", "!=", "KILLED")],
  ],
  [
    "parameter.a = '1' AND parameters.b = '2' AND param.c = '3'",
    [param("a", "=", "1"), param("b", "=", "2"), param("c", "=", "3")],
  ],
  ["params.`my-param` = ''", [param("my-param", "=", "")]],
  ["tags.équipe = 'données'", [tag("équipe", "=", "données")]],
  ["metrics.a$b#c > 0", [metric("a$b#c", ">", 0)]],
  ["\nmetrics.`a`\t>\n0\r\n", [metric("a", ">", 0)]],
];

const invalidRunFilters: [string, string][] = [
  [
    "metric.acc >= 0.94; metrics.rmse < 1",
    "Search filter contained multiple expression 'metric.acc >= 0.94; metrics.rmse < 1'. Provide AND-ed expression list.",
  ],
  ["m.acc >= 0.94", "Invalid entity type 'm'. Valid values are ['metric', 'parameter', 'tag', 'attribute', 'dataset']"],
  ["acc >= 0.94", "Invalid attribute key 'acc' specified"],
  ["p.model >= 'LR'", "Invalid entity type 'p'"],
  ["METRICS.acc > 1", "Invalid entity type 'METRICS'"],
  ["metrics.A > 0.1 OR params.B = 'LR'", "Invalid clause(s) in filter string: 'OR'. OR is not supported"],
  ["metrics.A > 0.1 or params.B = 'LR'", "OR is not supported"],
  ["params.x = 'a' OR", "OR is not supported"],
  ["metrics.A > 0.1 NAND params.B = 'LR'", "Invalid clause(s) in filter string"],
  ["metrics.A > 0.1 AND (params.B = 'LR')", "Invalid clause(s) in filter string"],
  ["(metrics.a > 1)", "Invalid clause(s) in filter string"],
  ["`metrics.A > 0.1", "Unterminated quoted string"],
  ["param`.A > 0.1", "Invalid clause(s) in filter string"],
  ["dummy`.A > 0.1", "Invalid clause(s) in filter string"],
  ["attribute.start != 1", "Invalid attribute key 'start'"],
  ["attribute.experiment_id != 1", "Invalid attribute key 'experiment_id'"],
  ["attribute.lifecycle_stage = 'ACTIVE'", "Invalid attribute key 'lifecycle_stage'"],
  ["attribute._status != 'RUNNING'", "Invalid attribute key '_status'"],
  ["attribute.status = true", "Invalid clause(s) in filter string"],
  ["tags.x = null", "Invalid clause(s) in filter string"],
  ["dataset.status = 'true'", "Invalid dataset key 'status' specified. Valid keys are '{'name', 'digest', 'context'}'"],
  ["metrics.acc IS NULL", "IS NULL / IS NOT NULL is only supported for tags and params, not for 'metric' 'acc'"],
  ["attribute.status IS NULL", "IS NULL / IS NOT NULL is only supported for tags and params"],
  ["foo is null", "Invalid attribute key 'foo'"],
  ["metric.model = 'LR'", "Expected numeric value type for metric. Found 'LR'"],
  ["metric.model = '5'", "Expected numeric value type for metric. Found '5'"],
  ['metric.model = "5"', 'Expected numeric value type for metric. Found "5"'],
  ["params.acc = 5", "Expected a quoted string value for parameter (e.g. 'my-value'). Got value 5"],
  ["tags.acc = 5", "Expected a quoted string value for tag (e.g. 'my-value'). Got value 5"],
  ["metrics.acc != metrics.acc", "Expected numeric value type for metric. Found metrics.acc"],
  ["metrics.a > 0x1F", "Expected numeric value type for metric. Found 0x1F"],
  ["1.0 > metrics.acc", "Invalid comparison clause. Expected 'Identifier' found '1.0'"],
  ["1=1", "Expected 'Identifier' found '1'"],
  ["1==2", "Expected 'Identifier' found '1'"],
  ["attribute.status = 1", "Expected a quoted string value for attributes. Got value 1"],
  [
    "params.acc = LR",
    "Parameter value is either not quoted or unidentified quote types used for string value LR. Use either single or double quotes.",
  ],
  ["tags.acc = LR", "value is either not quoted or unidentified quote types"],
  ["params.acc = `LR`", "unidentified quote types used for string value `LR`"],
  ["params.'acc = LR", "Invalid clause(s) in filter string"],
  ["params.acc = 'LR", "Invalid clause(s) in filter string: ''LR'. Unterminated quoted string."],
  ["params.acc = LR'", "Invalid clause(s) in filter string"],
  [`params.acc = "LR'`, "Unterminated quoted string"],
  ["tags.acc = = 'LR'", "Invalid clause(s) in filter string"],
  ["attribute.status IS 'RUNNING'", "Invalid clause(s) in filter string"],
  ["params.acc LR !=", "Invalid clause(s) in filter string"],
  ["params.acc LR", "Expected a comparator"],
  ["metric.acc !=", "Invalid clause(s) in filter string: 'metric.acc !='. Expected a value"],
  ["metrics.a", "Expected a comparator"],
  ["metrics > 1", "Invalid attribute key 'metrics'"],
  ["metrics.x >>> 1", "Invalid comparator '>>>' not one of"],
  ["metrics.x LIKE 1", "Invalid comparator 'LIKE' not one of"],
  // MLflow types the value while parsing and checks the comparator later.
  ["metrics.x LIKE 'a'", "Expected numeric value type for metric"],
  ["tags.x < 'a'", "Invalid comparator '<' not one of '{'!=', '=', 'LIKE', 'ILIKE', 'IS NULL', 'IS NOT NULL'}"],
  ["params.x >= 'a'", "Invalid comparator '>=' not one of"],
  ["params.x NOT LIKE 'a'", "Invalid comparator 'NOT LIKE'"],
  ["params.x RLIKE 'a'", "Invalid comparator 'RLIKE'"],
  ["params.x <> 'a'", "Invalid comparator '<>'"],
  ["params.x == 'a'", "Invalid comparator '=='"],
  ["params.x ~ 'a'", "Invalid comparator '~'"],
  ["attributes.status > 'a'", "Invalid comparator '>'"],
  ["attributes.start_time LIKE 5", "Invalid comparator 'LIKE'"],
  ["datasets.name > 'a'", "Invalid comparator '>'"],
  ["attributes.start_time > '1'", "Expected numeric value type for numeric attribute: start_time. Found '1'"],
  ["attributes.status IN ('RUNNING')", "Only the 'run_id' attribute supports comparison with a list of quoted string values."],
  ["tags.x IN ('a')", "Expected a quoted string value for tag (e.g. 'my-value'). Got value ('a')"],
  ["metrics.x IN (1, 2)", "Expected numeric value type for metric. Found (1, 2)"],
  ["attributes.run_id IN ()", "expected a non-empty list of string values, but got empty list"],
  ["attributes.run_id IN (1, 'a')", "but got different type in list: (1, 'a')"],
  ["attributes.run_id IN ('a',, 'b')", "but got ill-formed list."],
  ["attributes.run_id IN ('a', b)", "but got ill-formed list."],
  ["attributes.run_id IN 'a'", "IN must be followed by a parenthesized list"],
  ["attributes.run_id IN ('a'", "Unbalanced parentheses"],
  ["attributes.run_id = ('a')", "Invalid comparator '=' for a list of values"],
  ["datasets.name = 5", "Expected a quoted string value for dataset attributes. Got value 5"],
  ["AND metrics.a > 1", "AND must join two expressions"],
  ["metrics.a > 1 AND", "AND must join two expressions"],
  ["metrics.a > 1 and   ", "AND must join two expressions"],
  ["metrics.a > 1 AND AND metrics.b < 2", "AND must join two expressions"],
  ["metrics.a > 1 metrics.b < 2", "Expected AND between expressions"],
  ["metrics.a > 1;", "Remove the trailing semicolon"],
  ["metrics.val-loss > 1", "Invalid clause(s) in filter string"],
  ["metrics.a > 1 @", "Unexpected character"],
  ["metrics. a > 1", "Invalid clause(s) in filter string"],
  ["attributes.`run name` IS NULL", "not for 'attribute' 'run name'"],
];

describe("parseRunFilter", () => {
  it.each(validRunFilters)("parses %j", (filter, expected) => {
    expect(parseRunFilter(filter)).toEqual(expected);
  });

  it.each(invalidRunFilters)("rejects %j", (filter, fragment) => {
    expect(syntaxError(() => parseRunFilter(filter)).message).toContain(fragment);
  });

  it("treats a missing filter as no filter", () => {
    expect(parseRunFilter(undefined)).toEqual([]);
    expect(parseRunFilter(null)).toEqual([]);
  });

  it("words comparator errors exactly as MLflow does", () => {
    expect(syntaxError(() => parseRunFilter("metrics.x >>> 1")).message).toBe(
      "Invalid comparator '>>>' not one of '{'>=', '!=', '<', '>', '=', '<='}",
    );
    expect(syntaxError(() => parseRunFilter("params.x > 'a'")).message).toBe(
      "Invalid comparator '>' not one of '{'!=', '=', 'LIKE', 'ILIKE', 'IS NULL', 'IS NOT NULL'}'",
    );
    expect(syntaxError(() => parseRunFilter("acc >= 0.94")).message).toBe(
      "Invalid attribute key 'acc' specified. Valid keys are " +
        "'{'run_id', 'run_name', 'user_id', 'status', 'start_time', 'end_time', 'artifact_uri', " +
        "'created', 'Created', 'run name', 'Run name', 'Run Name'}'",
    );
  });

  it("reports a misplaced OR before problems in earlier clauses", () => {
    expect(syntaxError(() => parseRunFilter("nope = 1 OR metrics.a > 1")).message).toBe(
      "Invalid clause(s) in filter string: 'OR'. OR is not supported; only AND can join expressions.",
    );
  });

  it("rejects input that is not a string with a SearchSyntaxError", () => {
    syntaxError(() => parseRunFilter(42 as unknown as string));
    syntaxError(() => parseRunOrderBy({} as unknown as string));
  });
});

const validRunOrderBys: [string, OrderBy][] = [
  ["metrics.rmse DESC", { entity: "metric", key: "rmse", ascending: false }],
  ["metrics.rmse", { entity: "metric", key: "rmse", ascending: true }],
  ["metrics.key1 asc", { entity: "metric", key: "key1", ascending: true }],
  ['metrics."key1"  desc', { entity: "metric", key: "key1", ascending: false }],
  ["params.my_param aSc", { entity: "param", key: "my_param", ascending: true }],
  ["params.`alpha` ASC", { entity: "param", key: "alpha", ascending: true }],
  ["attributes.start_time", { entity: "attribute", key: "start_time", ascending: true }],
  ["attributes.status   DESC", { entity: "attribute", key: "status", ascending: false }],
  ["tags.tag1", { entity: "tag", key: "tag1", ascending: true }],
  ["tags.mlflow.runName DESC", { entity: "tag", key: "mlflow.runName", ascending: false }],
  ["metrics.`Mean Square Error` DESC", { entity: "metric", key: "Mean Square Error", ascending: false }],
  ["created DESC", { entity: "attribute", key: "start_time", ascending: false }],
  ["attr.end_time desc", { entity: "attribute", key: "end_time", ascending: false }],
  ["run_id", { entity: "attribute", key: "run_id", ascending: true }],
  ["attribute.artifact_uri ASC", { entity: "attribute", key: "artifact_uri", ascending: true }],
];

const invalidRunOrderBys: [string, string][] = [
  ["m.acc", "Invalid entity type 'm'"],
  ["acc", "Invalid attribute key 'acc'"],
  ["attri.x", "Invalid entity type 'attri'"],
  ["`metrics.A", "Invalid order_by clause '`metrics.A'. Could not be parsed."],
  ["`metrics.A`", "Invalid entity type '`metrics'"],
  ["attribute.start", "Invalid attribute key 'start'"],
  ["attribute.experiment_id", "Invalid attribute key 'experiment_id'"],
  ["metrics.A != 1", "Invalid order_by clause"],
  ["params.my_param ", "Invalid order_by clause 'params.my_param '. Could not be parsed."],
  [" params.my_param", "Invalid order_by clause"],
  ["attribute.run_id ACS", "Invalid ordering key in order_by clause 'attribute.run_id ACS'."],
  ["attribute.run_id decs", "Invalid ordering key in order_by clause"],
  ["", "Invalid order_by clause ''. Could not be parsed."],
  ["metrics.a DESC extra", "Invalid order_by clause"],
  ["DESC", "Invalid order_by clause"],
  ["metrics.a, metrics.b", "Invalid order_by clause"],
  ["metrics.a AND", "Invalid order_by clause"],
  ["datasets.name", "Invalid identifier type 'dataset'"],
  ["attributes.`Run Name`", "Invalid attribute key 'Run Name'"],
];

describe("parseRunOrderBy", () => {
  it.each(validRunOrderBys)("parses %j", (clause, expected) => {
    expect(parseRunOrderBy(clause)).toEqual(expected);
  });

  it.each(invalidRunOrderBys)("rejects %j", (clause, fragment) => {
    expect(syntaxError(() => parseRunOrderBy(clause)).message).toContain(fragment);
  });
});

const validExperimentFilters: [string, Comparison[]][] = [
  ["", []],
  ["attribute.name = 'a'", [attr("name", "=", "a")]],
  ["name = 'a'", [attr("name", "=", "a")]],
  ["attribute.`name` = 'a'", [attr("name", "=", "a")]],
  ['"name" = "x"', [attr("name", "=", "x")]],
  ["name LIKE 'x%' AND tags.group = 'y'", [attr("name", "LIKE", "x%"), tag("group", "=", "y")]],
  ["tags.group ILIKE '%x%'", [tag("group", "ILIKE", "%x%")]],
  ["tag.group != 'x'", [tag("group", "!=", "x")]],
  ["creation_time > 1700000000000", [attr("creation_time", ">", 1700000000000)]],
  ["attribute.last_update_time <= 5", [attr("last_update_time", "<=", 5)]],
  ["tags.a IS NULL and tags.`b c` is not null", [tag("a", "IS NULL", null), tag("b c", "IS NOT NULL", null)]],
];

const invalidExperimentFilters: [string, string][] = [
  // MLflow's experiment parser accepts only attribute., tag. and tags. as prefixes.
  ["attributes.name = 'x'", "Invalid entity type 'attributes'. Valid entity types are ('attribute', 'tag', 'tags')"],
  ["metrics.a > 1", "Invalid entity type 'metrics'"],
  ["`tag`.a = 'x'", "Invalid entity type '`tag`'"],
  [
    "experiment_id = '1'",
    "Invalid attribute key 'experiment_id' specified. Valid keys are '{'name', 'creation_time', 'last_update_time'}'",
  ],
  ["name IS NULL", "IS NULL / IS NOT NULL is only supported for tags, not for attribute 'name'"],
  ["name IN ('a')", "Only the 'run_id' attribute supports comparison with a list of quoted string values."],
  ["name > 'a'", "Invalid comparator '>' not one of '{'!=', '=', 'LIKE', 'ILIKE'}'"],
  ["creation_time LIKE 5", "Invalid comparator 'LIKE'"],
  ["creation_time = 'x'", "Expected numeric value type for numeric attribute: creation_time. Found 'x'"],
  ["tags.a = 1", "Expected a quoted string value for tag"],
  ["tags.a < 'x'", "Invalid comparator '<'"],
  ["name = 'a' OR name = 'b'", "OR is not supported"],
  ["name = 'a' AND", "AND must join two expressions"],
];

describe("parseExperimentFilter", () => {
  it.each(validExperimentFilters)("parses %j", (filter, expected) => {
    expect(parseExperimentFilter(filter)).toEqual(expected);
  });

  it.each(invalidExperimentFilters)("rejects %j", (filter, fragment) => {
    expect(syntaxError(() => parseExperimentFilter(filter)).message).toContain(fragment);
  });
});

const validExperimentOrderBys: [string, OrderBy][] = [
  ["name", { entity: "attribute", key: "name", ascending: true }],
  ["name DESC", { entity: "attribute", key: "name", ascending: false }],
  ["experiment_id ASC", { entity: "attribute", key: "experiment_id", ascending: true }],
  ["attribute.creation_time desc", { entity: "attribute", key: "creation_time", ascending: false }],
  ["last_update_time", { entity: "attribute", key: "last_update_time", ascending: true }],
  ["attribute.`name` ASC", { entity: "attribute", key: "name", ascending: true }],
];

const invalidExperimentOrderBys: [string, string][] = [
  ["tags.x", "Invalid order_by entity: tag"],
  ["start_time", "Invalid attribute key 'start_time'"],
  ["attributes.name", "Invalid entity type 'attributes'"],
  ["name ACS", "Invalid ordering key in order_by clause 'name ACS'."],
  ["name DESC ", "Invalid order_by clause"],
];

describe("parseExperimentOrderBy", () => {
  it.each(validExperimentOrderBys)("parses %j", (clause, expected) => {
    expect(parseExperimentOrderBy(clause)).toEqual(expected);
  });

  it.each(invalidExperimentOrderBys)("rejects %j", (clause, fragment) => {
    expect(syntaxError(() => parseExperimentOrderBy(clause)).message).toContain(fragment);
  });
});

const likeCases: [string, boolean, string, boolean][] = [
  ["abc", false, "abc", true],
  ["abc", false, "abcd", false],
  ["abc", false, "xabc", false],
  ["abc", false, "ABC", false],
  ["abc", true, "ABC", true],
  ["a%", false, "abcdef", true],
  ["%c", false, "abc", true],
  ["%b%", false, "abc", true],
  ["%b%", false, "ac", false],
  ["a_c", false, "abc", true],
  ["a_c", false, "ac", false],
  ["a_c", false, "abbc", false],
  ["a.c", false, "abc", false],
  ["a.c", false, "a.c", true],
  ["f(x)", false, "f(x)", true],
  ["jamie-foo C+%", false, "jamie-foo C+W bar", true],
  ["C+W", false, "CCW", false],
  ["[a]", false, "[a]", true],
  ["[a]", false, "a", false],
  ["a$^|\\{}*?", false, "a$^|\\{}*?", true],
  ["%", false, "", true],
  ["_", false, "", false],
  ["_", false, "😀", true],
  ["a%", false, "a\nb", true],
  ["ÉCOLE%", true, "école normale", true],
  ["ÉCOLE%", false, "école normale", false],
  // No escape character, as in SQLite: the backslash is literal and % still a wildcard.
  ["100\\%", false, "100\\ percent", true],
];

describe("likeToRegExp", () => {
  it.each(likeCases)("%j (ILIKE: %s) on %j → %s", (pattern, caseInsensitive, input, expected) => {
    expect(likeToRegExp(pattern, caseInsensitive).test(input)).toBe(expected);
  });
});

describe("robustness", () => {
  it("throws nothing but SearchSyntaxError on arbitrary input", () => {
    const pieces = [
      "metrics.",
      "params.",
      "tags.",
      "attributes.",
      "datasets.",
      "run_id",
      "status",
      "name",
      "x",
      " ",
      "  ",
      "=",
      "!=",
      "<",
      ">=",
      "~",
      "LIKE",
      "ilike",
      "IN",
      "NOT",
      "IS",
      "NULL",
      "AND",
      "OR",
      "ASC",
      "desc",
      "(",
      ")",
      ",",
      ";",
      "'",
      '"',
      "`",
      "\\",
      "'a'",
      '"b"',
      "`c d`",
      "1",
      "-2.5e3",
      ".",
      "%",
      "_",
      "é",
      "\n",
      "0x",
      "True",
      "\\u12",
    ];
    let seed = 12345;
    const next = (): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed;
    };
    for (let n = 0; n < 3000; n += 1) {
      let input = "";
      const length = 1 + (next() % 9);
      for (let k = 0; k < length; k += 1) input += pieces[next() % pieces.length];
      for (const parse of [parseRunFilter, parseExperimentFilter, parseRunOrderBy, parseExperimentOrderBy]) {
        try {
          parse(input);
        } catch (e) {
          if (!(e instanceof SearchSyntaxError)) throw new Error(`${String(e)} for input ${JSON.stringify(input)}`);
        }
      }
      likeToRegExp(input, n % 2 === 0).test(input);
    }
  });
});
