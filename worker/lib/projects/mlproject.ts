/**
 * MLflow Projects, read the way MLflow reads them: the MLproject file (name, entry points with typed
 * parameters and defaults, command templates, and the conda_env / python_env / docker_env section),
 * entry points that are just scripts (`-e train.py`), `-P name=value` arguments, and the filling of a
 * command template: missing parameters refused, `uri` values checked, `path` values resolved by the
 * caller, every substituted value shell-quoted as Python's shlex.quote does, parameters the entry point
 * does not declare appended as `--name value`, and `{name}` substituted as Python's str.format does.
 *
 * Where MLflow is silent Tern is stricter, and says so in the error: `float` values must be numbers
 * (MLflow's documentation promises this; its code does not check), and `strict` filling refuses
 * undeclared parameters instead of appending them.
 *
 * Defaults are turned into text the way MLflow does it: PyYAML reads the file (YAML 1.1, so `yes` is a
 * boolean and `1e-3` is a string) and Python's str() prints the value (`1.0` stays "1.0", `True`,
 * `1e-05`). The text is what is substituted and logged, so a run logged by Tern and one logged by
 * `mlflow run` carry the same parameter values.
 *
 * Pure: no I/O. File existence and path resolution come in as functions.
 */
import { isMap, isScalar, isSeq, parseDocument, type Document, type Node } from "yaml";

export class ProjectError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ProjectError";
  }
}

/** The types MLflow documents. Any other type string behaves as `string`, as in MLflow. */
export const PARAMETER_TYPES = ["string", "float", "path", "uri"] as const;

export interface ParameterSpec {
  name: string;
  type: string;
  /** The default as MLflow would print it, or null when the parameter is required. */
  default: string | null;
}

export interface EntryPoint {
  name: string;
  command: string;
  parameters: ParameterSpec[];
  /** True for `-e train.py`-style entry points that are not declared in the MLproject file. */
  script: boolean;
}

export type Environment =
  | { type: "python_env"; file: string }
  | { type: "conda_env"; file: string }
  | { type: "docker_env"; image: string; volumes: string[]; environment: (string | [string, string])[] }
  | { type: "none" };

export interface Project {
  name: string | null;
  entryPoints: Record<string, EntryPoint>;
  environment: Environment;
  /** Things MLflow accepts that are worth a word (unknown parameter types, unused sections). */
  warnings: string[];
}

export const MLPROJECT_FILE_NAME = "mlproject";
export const DEFAULT_ENTRY_POINT = "main";
const ENV_FIELDS = ["conda_env", "python_env", "docker_env"] as const;
const DEFAULT_PYTHON_ENV_FILE = "python_env.yaml";
const DEFAULT_CONDA_FILE = "conda.yaml";

/** MLflow finds the MLproject file by a case-insensitive name match in the project's top directory. */
export function findMLprojectFile(fileNames: readonly string[]): string | null {
  return fileNames.find((n) => n.toLowerCase() === MLPROJECT_FILE_NAME) ?? null;
}

// --- YAML 1.1 scalars as PyYAML resolves them and Python prints them ------------------------------------

const PY_BOOL = /^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$/;
const PY_NULL = /^(?:~|null|Null|NULL|)$/;
const PY_INT = /^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$/;
const PY_FLOAT = /^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/;

/** Python's repr() of a float (shortest round-trip digits; exponent form below 1e-4 and from 1e16). */
export function pythonFloatRepr(x: number): string {
  if (Number.isNaN(x)) return "nan";
  if (x === Infinity) return "inf";
  if (x === -Infinity) return "-inf";
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  const [mantissa, expText] = x.toExponential().split("e");
  const exp = Number(expText);
  if (exp < -4 || exp >= 16) {
    const sign = exp < 0 ? "-" : "+";
    return `${mantissa}e${sign}${String(Math.abs(exp)).padStart(2, "0")}`;
  }
  const negative = mantissa.startsWith("-");
  const digits = mantissa.replace("-", "").replace(".", "");
  let text: string;
  if (exp >= 0) {
    const intPart = digits.slice(0, exp + 1).padEnd(exp + 1, "0");
    const frac = digits.slice(exp + 1);
    text = `${intPart}.${frac || "0"}`;
  } else {
    text = `0.${"0".repeat(-exp - 1)}${digits}`;
  }
  return negative ? `-${text}` : text;
}

function pythonIntText(source: string): string {
  let s = source.replace(/_/g, "");
  let sign = 1n;
  if (s.startsWith("-") || s.startsWith("+")) {
    if (s[0] === "-") sign = -1n;
    s = s.slice(1);
  }
  let value: bigint;
  if (s.includes(":")) {
    value = s.split(":").reduce((acc, part) => acc * 60n + BigInt(part), 0n);
  } else if (s.startsWith("0b")) value = BigInt(s);
  else if (s.startsWith("0x")) value = BigInt(s);
  else if (s.length > 1 && s.startsWith("0")) value = BigInt(`0o${s.slice(1)}`);
  else value = BigInt(s);
  return (sign * value).toString();
}

function pythonFloatFromYaml(source: string): number {
  let s = source.replace(/_/g, "");
  const lower = s.toLowerCase();
  if (lower.endsWith(".inf")) return lower.startsWith("-") ? -Infinity : Infinity;
  if (lower === ".nan") return NaN;
  if (s.includes(":")) {
    let sign = 1;
    if (s.startsWith("-") || s.startsWith("+")) {
      if (s[0] === "-") sign = -1;
      s = s.slice(1);
    }
    return sign * s.split(":").reduce((acc, part) => acc * 60 + Number(part), 0);
  }
  return Number(s);
}

type Scalar = { kind: "null" } | { kind: "text"; text: string };

const scalarTag = (tag: string | undefined) => (tag?.startsWith("tag:yaml.org,2002:") ? tag.slice("tag:yaml.org,2002:".length) : tag);

/** A scalar node's value as Python's str() would print what PyYAML's safe_load made of it. */
function pythonScalar(node: Node, where: string): Scalar {
  if (!isScalar(node)) throw new ProjectError(`${where} must be a single value, not a list or a mapping`);
  const raw = String(node.value ?? "");
  const tag = scalarTag(node.tag);
  const plain = node.type === "PLAIN";
  const as = tag ?? (plain ? (PY_NULL.test(raw) ? "null" : PY_BOOL.test(raw) ? "bool" : PY_INT.test(raw) ? "int" : PY_FLOAT.test(raw) ? "float" : "str") : "str");
  switch (as) {
    case "null":
      return { kind: "null" };
    case "bool":
      return { kind: "text", text: /^(?:yes|true|on)$/i.test(raw) ? "True" : "False" };
    case "int":
      if (!PY_INT.test(raw)) throw new ProjectError(`${where}: '${raw}' is not an integer`);
      return { kind: "text", text: pythonIntText(raw) };
    case "float": {
      const x = pythonFloatFromYaml(raw);
      if (Number.isNaN(x) && !/nan/i.test(raw)) throw new ProjectError(`${where}: '${raw}' is not a number`);
      return { kind: "text", text: pythonFloatRepr(x) };
    }
    default:
      return { kind: "text", text: raw };
  }
}

// --- the MLproject file -----------------------------------------------------------------------------------

export interface ParseOptions {
  /** Whether a file exists at this path relative to the project directory (for the environment files). */
  fileExists?: (relativePath: string) => boolean;
  /** Where the text came from, for messages. */
  source?: string;
}

function mapEntries(node: Node | null | undefined, where: string): [string, Node | null][] {
  if (node == null || (isScalar(node) && PY_NULL.test(String(node.value ?? "")) && node.type === "PLAIN")) return [];
  if (!isMap(node)) throw new ProjectError(`${where} must be a mapping`);
  return node.items.map((pair) => {
    const key = pair.key;
    if (!isScalar(key)) throw new ProjectError(`${where}: keys must be plain names`);
    return [String(key.value), (pair.value as Node | null) ?? null];
  });
}

function textOf(node: Node | null | undefined, where: string): string | null {
  if (node == null) return null;
  const s = pythonScalar(node, where);
  return s.kind === "null" ? null : s.text;
}

/** Reads an MLproject file's text. Throws ProjectError with MLflow's reasons, and a few of Tern's. */
export function parseMLproject(text: string, options: ParseOptions = {}): Project {
  const source = options.source ?? "MLproject";
  let doc: Document;
  try {
    doc = parseDocument(text, { schema: "failsafe", uniqueKeys: true, prettyErrors: false });
  } catch (err) {
    throw new ProjectError(`${source} is not valid YAML: ${(err as Error).message.split("\n")[0]}`);
  }
  if (doc.errors.length) throw new ProjectError(`${source} is not valid YAML: ${doc.errors[0].message.split("\n")[0]}`);
  const root = doc.contents as Node | null;
  const top = new Map(mapEntries(root, source));
  const warnings: string[] = [];

  const envFields = ENV_FIELDS.filter((f) => top.has(f));
  if (envFields.length > 1) throw new ProjectError(`${source}: a project cannot contain multiple environment fields: ${envFields.join(", ")}`);
  if (top.has("databricks_spark_job")) warnings.push("databricks_spark_job is read by MLflow's Databricks backend only; Tern runs the entry points");

  const name = textOf(top.get("name"), `${source}: name`);
  const entryPoints: Record<string, EntryPoint> = {};
  for (const [epName, epNode] of mapEntries(top.get("entry_points"), `${source}: entry_points`)) {
    const where = `${source}: entry point '${epName}'`;
    const fields = new Map(mapEntries(epNode, where));
    const command = textOf(fields.get("command"), `${where}: command`);
    if (command === null || command.trim() === "") throw new ProjectError(`${where} has no command`);
    const parameters: ParameterSpec[] = [];
    for (const [pName, pNode] of mapEntries(fields.get("parameters"), `${where}: parameters`)) {
      const pWhere = `${where}: parameter '${pName}'`;
      let type = "string";
      let def: string | null = null;
      if (pNode && isScalar(pNode)) {
        // `alpha: float`: a type and no default, so the parameter is required.
        type = textOf(pNode, pWhere) ?? "string";
      } else {
        const pf = new Map(mapEntries(pNode, pWhere));
        type = textOf(pf.get("type"), `${pWhere}: type`) ?? "string";
        def = textOf(pf.get("default"), `${pWhere}: default`);
      }
      if (!(PARAMETER_TYPES as readonly string[]).includes(type)) warnings.push(`${pWhere} has type '${type}', which MLflow treats as a string (types: ${PARAMETER_TYPES.join(", ")})`);
      if (def !== null && type === "float" && !isPythonFloat(def)) throw new ProjectError(`${pWhere}: the default '${def}' is not a number, but the type is float`);
      parameters.push({ name: pName, type, default: def });
    }
    entryPoints[epName] = { name: epName, command, parameters, script: false };
  }

  const exists = options.fileExists;
  let environment: Environment = { type: "none" };
  const docker = top.get("docker_env");
  if (docker) {
    const d = new Map(mapEntries(docker, `${source}: docker_env`));
    const image = textOf(d.get("image"), `${source}: docker_env.image`);
    if (!image) throw new ProjectError(`${source} was invalid: Docker environment specified but no image attribute found.`);
    const volumes: string[] = [];
    const vol = d.get("volumes");
    if (vol) {
      if (!isSeq(vol) || !vol.items.every((i) => isScalar(i))) throw new ProjectError(`${source} was invalid: Docker volumes must be a list of strings, e.g.: '["/path1/:/path1", "/path2/:/path2"]'`);
      for (const i of vol.items) volumes.push(String((i as { value: unknown }).value));
    }
    const environmentVars: (string | [string, string])[] = [];
    const envNode = d.get("environment");
    if (envNode) {
      const bad = () => new ProjectError(`${source} was invalid: environment must be a list containing either strings (to copy environment variables from host system) or lists of string pairs (to define new environment variables). E.g.: '[["NEW_VAR", "new_value"], "VAR_TO_COPY_FROM_HOST"]'`);
      if (!isSeq(envNode)) throw bad();
      for (const item of envNode.items as Node[]) {
        if (isScalar(item)) environmentVars.push(String(item.value));
        else if (isSeq(item) && item.items.length === 2 && item.items.every((x) => isScalar(x))) environmentVars.push([String((item.items[0] as { value: unknown }).value), String((item.items[1] as { value: unknown }).value)]);
        else throw bad();
      }
    }
    environment = { type: "docker_env", image, volumes, environment: environmentVars };
  } else {
    for (const field of ["python_env", "conda_env"] as const) {
      const file = textOf(top.get(field), `${source}: ${field}`);
      if (!file) continue;
      if (exists && !exists(file)) throw new ProjectError(`${source} specifies ${field} file ${file}, but no such file was found`);
      environment = { type: field, file };
      break;
    }
    if (environment.type === "none" && exists) {
      if (exists(DEFAULT_PYTHON_ENV_FILE)) environment = { type: "python_env", file: DEFAULT_PYTHON_ENV_FILE };
      else if (exists(DEFAULT_CONDA_FILE)) environment = { type: "conda_env", file: DEFAULT_CONDA_FILE };
    }
  }
  return { name, entryPoints, environment, warnings };
}

/** A directory without an MLproject file is still a project: its scripts are its entry points. */
export function emptyProject(fileExists?: (relativePath: string) => boolean): Project {
  let environment: Environment = { type: "none" };
  if (fileExists?.(DEFAULT_PYTHON_ENV_FILE)) environment = { type: "python_env", file: DEFAULT_PYTHON_ENV_FILE };
  else if (fileExists?.(DEFAULT_CONDA_FILE)) environment = { type: "conda_env", file: DEFAULT_CONDA_FILE };
  return { name: null, entryPoints: {}, environment, warnings: [] };
}

/**
 * The entry point to run: a declared one, or (as MLflow does) a `.py` or `.sh` file of the project run
 * with `python` or the user's shell and given every parameter as `--name value`.
 */
export function entryPointOf(project: Project, name: string, shell = "bash"): EntryPoint {
  const declared = project.entryPoints[name];
  if (declared) return declared;
  const ext = /\.[^./\\]+$/.exec(name)?.[0];
  const runner = ext === ".py" ? "python" : ext === ".sh" ? shell : null;
  if (runner) return { name, command: `${runner} ${shellQuote(name)}`, parameters: [], script: true };
  const known = Object.keys(project.entryPoints);
  throw new ProjectError(
    `Could not find '${name}' among entry points [${known.map((k) => `'${k}'`).join(", ")}] or interpret it as a runnable script (supported script file extensions: .py, .sh)`,
  );
}

// --- parameters -------------------------------------------------------------------------------------------

/** `-P name=value` arguments as MLflow's CLI reads them: split at the first '=', names unique. */
export function parseParameterArgs(args: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const arg of args) {
    const at = arg.indexOf("=");
    if (at < 0) throw new ProjectError(`Invalid format for -P parameter: '${arg}'. Use -P name=value.`);
    const name = arg.slice(0, at);
    if (name === "") throw new ProjectError(`Invalid format for -P parameter: '${arg}': the name is empty. Use -P name=value.`);
    if (Object.hasOwn(out, name)) throw new ProjectError(`Repeated parameter: '${name}'`);
    out[name] = arg.slice(at + 1);
  }
  return out;
}

/** What Python's float() accepts (underscores between digits, inf, infinity, nan; surrounding spaces). */
export function isPythonFloat(text: string): boolean {
  const s = text.trim();
  const digits = "\\d(?:_?\\d)*";
  const number = new RegExp(`^[+-]?(?:${digits}(?:\\.(?:${digits})?)?|\\.${digits})(?:[eE][+-]?${digits})?$`);
  return number.test(s) || /^[+-]?(?:inf|infinity|nan)$/i.test(s);
}

/** Python's urllib.parse: a URI is anything with a scheme (a letter, then letters, digits, '+', '-', '.', then ':'). */
export function uriScheme(value: string): string | null {
  const i = value.indexOf(":");
  if (i <= 0) return null;
  const scheme = value.slice(0, i);
  return /^[A-Za-z][A-Za-z0-9+.-]*$/.test(scheme) ? scheme.toLowerCase() : null;
}

/** Python's shlex.quote. */
export function shellQuote(value: string): string {
  if (value === "") return "''";
  if (!/[^\w@%+=:,./-]/.test(value)) return value;
  return `'${value.replace(/'/g, `'"'"'`)}'`;
}

/** Python's str.format with keyword fields only: `{name}`, `{{` and `}}`. */
export function formatCommand(template: string, values: Record<string, string>, entryPoint = "main"): string {
  let out = "";
  for (let i = 0; i < template.length; i++) {
    const ch = template[i];
    if (ch === "{") {
      if (template[i + 1] === "{") {
        out += "{";
        i++;
        continue;
      }
      const end = template.indexOf("}", i);
      if (end < 0) throw new ProjectError(`The command of entry point '${entryPoint}' has a '{' without a closing '}' (write '{{' for a literal brace)`);
      const field = template.slice(i + 1, end);
      if (!Object.hasOwn(values, field) && (field === "" || /^\d+$/.test(field) || /[.[!:]/.test(field))) {
        throw new ProjectError(`The command of entry point '${entryPoint}' has the field '{${field}}': only {parameter_name} fields are supported (write '{{' and '}}' for literal braces)`);
      }
      if (!Object.hasOwn(values, field)) throw new ProjectError(`The command of entry point '${entryPoint}' uses {${field}}, which is not one of its parameters`);
      out += values[field];
      i = end;
    } else if (ch === "}") {
      if (template[i + 1] !== "}") throw new ProjectError(`The command of entry point '${entryPoint}' has a single '}' (write '}}' for a literal brace)`);
      out += "}";
      i++;
    } else out += ch;
  }
  return out;
}

export interface FillOptions {
  /**
   * Resolves a `path` parameter's value (MLflow makes local paths absolute after checking they exist,
   * and downloads remote ones). Without it the value is used as given, as MLflow does when it logs.
   */
  resolvePath?: (value: string, parameter: string) => string;
  /** Refuse parameters the entry point does not declare instead of appending them as `--name value`. */
  strict?: boolean;
}

export interface FilledEntryPoint {
  entryPoint: string;
  /** Declared parameters with their values as given or defaulted (before path resolution): what is logged. */
  params: Record<string, string>;
  /** Parameters the entry point does not declare, in the order given: appended as `--name value`. */
  extraParams: Record<string, string>;
  /** The shell command, every substituted value quoted. */
  command: string;
}

/** Validates and fills an entry point's parameters and builds its command, as `mlflow run` does. */
export function fillEntryPoint(ep: EntryPoint, user: Record<string, string>, options: FillOptions = {}): FilledEntryPoint {
  const declared = new Set(ep.parameters.map((p) => p.name));
  const unknown = Object.keys(user).filter((k) => !declared.has(k));
  if (options.strict && unknown.length) {
    const known = ep.parameters.map((p) => p.name);
    throw new ProjectError(
      `Unknown parameter${unknown.length > 1 ? "s" : ""} for entry point '${ep.name}': ${unknown.map((k) => `'${k}'`).join(", ")} (${known.length ? `declared: ${known.join(", ")}` : "it declares none"})`,
    );
  }
  for (const k of unknown) {
    if (!/^[A-Za-z0-9_][\w.-]*$/.test(k)) throw new ProjectError(`Parameter name '${k}' cannot be passed as a --${k} option: use letters, digits, '_', '.' and '-'`);
  }
  const missing = ep.parameters.filter((p) => !Object.hasOwn(user, p.name) && p.default === null).map((p) => `'${p.name}'`);
  if (missing.length) throw new ProjectError(`No value given for missing parameters: ${missing.join(", ")} (entry point '${ep.name}'; pass -P name=value)`);

  const params: Record<string, string> = {};
  const substituted: Record<string, string> = {};
  for (const p of ep.parameters) {
    const given = Object.hasOwn(user, p.name);
    const value = given ? user[p.name] : (p.default as string);
    if (p.type === "float" && !isPythonFloat(value)) throw new ProjectError(`Parameter '${p.name}' of entry point '${ep.name}' is a float, but got '${value}'`);
    if (p.type === "uri" && uriScheme(value) === null) throw new ProjectError(`Expected URI for parameter '${p.name}' but got '${value}' (a URI has a scheme, e.g. file:///data/train.csv or s3://bucket/key)`);
    let resolved = value;
    if (p.type === "path" && options.resolvePath) resolved = options.resolvePath(value, p.name);
    params[p.name] = value;
    substituted[p.name] = shellQuote(resolved);
  }
  const extraParams: Record<string, string> = {};
  for (const k of unknown) extraParams[k] = user[k];
  const parts = [formatCommand(ep.command, substituted, ep.name), ...unknown.map((k) => `--${k} ${shellQuote(user[k])}`)];
  return { entryPoint: ep.name, params, extraParams, command: parts.join(" ") };
}
