/**
 * The template language of task arguments: `{{ path }}` placeholders such as `{{ params.symbol }}`,
 * `{{ ds }}`, `{{ logical_date }}` or `{{ outputs.fetch.body.rows[0] }}`. A hand-written reader of
 * dotted paths only: no expressions, no function calls, no eval, so a spec can never run code here.
 * A string that is exactly one placeholder keeps the value's JSON type; anything else renders to text.
 */

export class TemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TemplateError";
  }
}

/** The names a placeholder may start with. */
export const TEMPLATE_ROOTS = [
  "params",
  "conf",
  "outputs",
  "secrets",
  "logical_date",
  "ds",
  "ds_nodash",
  "ts",
  "data_interval_start",
  "data_interval_end",
  "run_id",
  "pipeline_id",
  "task_id",
  "try_number",
] as const;
export type TemplateRoot = (typeof TEMPLATE_ROOTS)[number];

export interface TemplateRef {
  root: TemplateRoot;
  path: (string | number)[];
  /** The placeholder as written, for error messages. */
  text: string;
}

type Piece = string | TemplateRef;

const IDENT = /[A-Za-z0-9_-]+/y;

function parseRef(inner: string, text: string): TemplateRef {
  const src = inner.trim();
  let i = 0;
  const ident = (): string => {
    IDENT.lastIndex = i;
    const m = IDENT.exec(src);
    if (!m) throw new TemplateError(`${text}: expected a name at position ${i + 1} of '${src}'`);
    i = IDENT.lastIndex;
    return m[0];
  };
  const root = ident();
  if (!(TEMPLATE_ROOTS as readonly string[]).includes(root)) {
    throw new TemplateError(`${text}: unknown name '${root}' (use one of ${TEMPLATE_ROOTS.join(", ")})`);
  }
  const path: (string | number)[] = [];
  while (i < src.length) {
    const c = src[i];
    if (c === ".") {
      i++;
      path.push(ident());
    } else if (c === "[") {
      const close = src.indexOf("]", i);
      if (close < 0) throw new TemplateError(`${text}: '[' without ']'`);
      const key = src.slice(i + 1, close).trim();
      if (/^\d+$/.test(key)) path.push(Number(key));
      else if (/^"[^"]*"$|^'[^']*'$/.test(key)) path.push(key.slice(1, -1));
      else throw new TemplateError(`${text}: '[${key}]' must be a number or a quoted name`);
      i = close + 1;
    } else {
      const shown = src.slice(i).trimStart()[0];
      throw new TemplateError(`${text}: unexpected '${shown}' (only dotted paths are allowed, no expressions)`);
    }
  }
  return { root: root as TemplateRoot, path, text };
}

/** Splits a string into literal text and placeholders; throws TemplateError on a malformed one. */
export function parseTemplate(input: string): Piece[] {
  const pieces: Piece[] = [];
  let at = 0;
  for (;;) {
    const open = input.indexOf("{{", at);
    if (open < 0) break;
    const close = input.indexOf("}}", open + 2);
    if (close < 0) throw new TemplateError(`'{{' without '}}' in '${input.length > 80 ? input.slice(0, 77) + "..." : input}'`);
    if (open > at) pieces.push(input.slice(at, open));
    const text = input.slice(open, close + 2);
    pieces.push(parseRef(input.slice(open + 2, close), text));
    at = close + 2;
  }
  if (at < input.length) pieces.push(input.slice(at));
  return pieces;
}

/** Every placeholder in a JSON value (strings inside objects and arrays; keys are not templated). */
export function templateRefs(value: unknown): TemplateRef[] {
  const out: TemplateRef[] = [];
  const walk = (v: unknown) => {
    if (typeof v === "string") {
      for (const p of parseTemplate(v)) if (typeof p !== "string") out.push(p);
    } else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === "object") Object.values(v).forEach(walk);
  };
  walk(value);
  return out;
}

export interface TemplateContext {
  params: Record<string, unknown>;
  conf: Record<string, unknown>;
  /** Upstream outputs by task id (only finished upstream tasks that produced one). */
  outputs: Record<string, unknown>;
  logical_date: string;
  data_interval_start: string;
  data_interval_end: string;
  run_id: string;
  pipeline_id: string;
  task_id?: string;
  try_number?: number;
  /** Looks up a secret by name; absent where secrets may not be used. */
  secret?: (name: string) => string | undefined;
}

function describePath(ref: TemplateRef, upTo: number): string {
  let s: string = ref.root;
  for (const p of ref.path.slice(0, upTo)) s += typeof p === "number" ? `[${p}]` : `.${p}`;
  return s;
}

function resolve(ref: TemplateRef, ctx: TemplateContext): unknown {
  const d = ctx.logical_date;
  let value: unknown;
  switch (ref.root) {
    case "secrets": {
      if (!ctx.secret) throw new TemplateError(`${ref.text}: secrets may only be used in http headers`);
      if (ref.path.length !== 1 || typeof ref.path[0] !== "string") throw new TemplateError(`${ref.text}: write secrets.NAME`);
      const s = ctx.secret(ref.path[0]);
      if (s === undefined) throw new TemplateError(`${ref.text}: no secret named '${ref.path[0]}' is set on the Worker`);
      return s;
    }
    case "ds":
      value = d.slice(0, 10);
      break;
    case "ds_nodash":
      value = d.slice(0, 10).replaceAll("-", "");
      break;
    case "ts":
    case "logical_date":
      value = d;
      break;
    case "task_id":
      value = ctx.task_id;
      break;
    case "try_number":
      value = ctx.try_number;
      break;
    default:
      value = ctx[ref.root];
  }
  for (let i = 0; i < ref.path.length; i++) {
    const key = ref.path[i];
    const owner = describePath(ref, i);
    if (value === null || typeof value !== "object") {
      throw new TemplateError(`${ref.text}: ${owner} is ${value === undefined ? "not set" : JSON.stringify(value)}, so it has no '${key}'`);
    }
    if (Array.isArray(value) ? typeof key !== "number" || key >= value.length : !Object.hasOwn(value, key)) {
      if (ref.root === "outputs" && i === 0) throw new TemplateError(`${ref.text}: task '${key}' has no output`);
      throw new TemplateError(`${ref.text}: ${owner} has no ${typeof key === "number" ? `index ${key}` : `field '${key}'`}`);
    }
    value = (value as Record<string | number, unknown>)[key];
  }
  if (value === undefined) throw new TemplateError(`${ref.text}: ${describePath(ref, ref.path.length)} is not set`);
  return value;
}

const asText = (v: unknown): string => (typeof v === "string" ? v : JSON.stringify(v));

/** Renders one string: a lone placeholder keeps its value's type, mixed text becomes a string. */
export function renderString(input: string, ctx: TemplateContext): unknown {
  const pieces = parseTemplate(input);
  if (pieces.length === 1 && typeof pieces[0] !== "string") return resolve(pieces[0], ctx);
  return pieces.map((p) => (typeof p === "string" ? p : asText(resolve(p, ctx)))).join("");
}

/** Renders every string inside a JSON value. */
export function render<T>(value: T, ctx: TemplateContext): unknown {
  if (typeof value === "string") return renderString(value, ctx);
  if (Array.isArray(value)) return value.map((v) => render(v, ctx));
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, render(v, ctx)]));
  }
  return value;
}
