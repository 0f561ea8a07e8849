/**
 * Redaction of secrets, runtime-free. Three uses:
 * - task logs are scrubbed of Tern tokens and HTTP credentials when they are written (the secret never
 *   reaches Durable Object storage or R2);
 * - pipeline specs and run conf keep their secret values (an http task needs its header to run) but API
 *   responses show them as REDACTED;
 * - a spec saved back from the editor with REDACTED in a secret field keeps the stored value, so
 *   editing a pipeline does not overwrite its secrets with the mask.
 */

export const REDACTED = "***";

/** Names whose values are secrets: env variables, headers, conf keys. */
export const SECRET_NAME = /secret|token|password|passwd|api[_-]?key|private[_-]?key|credential|^authorization$|^proxy-authorization$|^cookie$/i;

/** A value made only of `{{ ... }}` references (and an auth scheme word) holds no secret itself. */
const TEMPLATE = /\{\{[^}]*\}\}/g;
const HAS_TEMPLATE = /\{\{[^}]*\}\}/;
const onlyTemplates = (value: string) => HAS_TEMPLATE.test(value) && /^\s*(bearer|basic|token)?\s*$/i.test(value.replace(TEMPLATE, ""));

export const isSecretName = (name: string) => SECRET_NAME.test(name);

function maskValue(value: string): string {
  return onlyTemplates(value) ? value : REDACTED;
}

/**
 * A copy of `value` in which every string under a secret-looking key (at any depth) reads REDACTED,
 * unless it only references `{{ secrets.NAME }}`. Iterative, so a deep value cannot overflow the stack.
 */
export function redactSecretFields<T>(value: T): T {
  if (value === null || typeof value !== "object") return value;
  const copy = (v: object) => (Array.isArray(v) ? [...v] : { ...v }) as Record<string, unknown>;
  const root = copy(value);
  const stack = [root];
  while (stack.length) {
    const node = stack.pop()!;
    for (const [k, v] of Object.entries(node)) {
      if (typeof v === "string") {
        if (!Array.isArray(node) && isSecretName(k)) node[k] = maskValue(v);
      } else if (v !== null && typeof v === "object") {
        const child = copy(v);
        node[k] = child;
        stack.push(child);
      }
    }
  }
  return root as T;
}

/**
 * The source text of a spec (YAML or JSON) with the values of secret-looking keys masked, for display.
 * Block and flow mappings alike: `KEY: value`, `"KEY": "value"`, `{KEY: value, ...}`.
 */
const SOURCE_PAIR = /(["']?)([A-Za-z0-9_.-]+)\1(\s*:[ \t]*)("(?:[^"\\\n]|\\.)*"|'(?:[^'\n]|'')*'|[^\s{[,}#"'][^,}\n#]*)/g;

export function redactSecretSource(source: string): string {
  return source.replace(SOURCE_PAIR, (whole, quote: string, key: string, sep: string, value: string) => {
    if (!isSecretName(key)) return whole;
    const inner = /^["']/.test(value) ? value.slice(1, -1) : value.trim();
    if (onlyTemplates(inner)) return whole;
    return `${quote}${key}${quote}${sep}"${REDACTED}"`;
  });
}

/** Tern tokens; the credential of an Authorization header (any scheme); a Bearer credential anywhere. */
const TERN_TOKEN = /tern_[A-Za-z0-9]{12}_[A-Za-z0-9]{32}/g;
const AUTHORIZATION = /\b((?:proxy-)?authorization["']?[ \t]*[:=][ \t]*["']?[A-Za-z]+[ \t]+)[^\s"',;]+/gi;
const BEARER = /\b(Bearer[ \t]+)[A-Za-z0-9._~+/=-]{8,}/gi;

/** Values shorter than this are not masked by value: "1" or "yes" would blank out ordinary text. */
const MIN_KNOWN_SECRET = 6;

/** The literal values of secret-looking names in `vars` (e.g. a task's env), for redactLogText. */
export function secretValues(vars: Record<string, string> | undefined): string[] {
  return Object.entries(vars ?? {})
    .filter(([k, v]) => isSecretName(k) && v.length >= MIN_KNOWN_SECRET && !HAS_TEMPLATE.test(v))
    .map(([, v]) => v);
}

/** Log text with Tern tokens, Authorization credentials and the `known` secret values masked. */
export function redactLogText(text: string, known: readonly string[] = []): string {
  for (const value of known) if (value.length >= MIN_KNOWN_SECRET) text = text.split(value).join(REDACTED);
  return text
    .replace(TERN_TOKEN, `tern_${REDACTED}`)
    .replace(AUTHORIZATION, (_m, head: string) => `${head}${REDACTED}`)
    .replace(BEARER, (_m, head: string) => `${head}${REDACTED}`);
}

/**
 * `next` with each REDACTED string under a secret-looking key replaced by the value at the same path in
 * `previous`, where there is one: what a client that only ever saw the mask sends back means "keep it".
 */
export function restoreRedacted<T>(next: T, previous: unknown): T {
  const stack: [unknown, unknown][] = [[next, previous]];
  while (stack.length) {
    const [node, prev] = stack.pop()!;
    if (node === null || typeof node !== "object" || prev === null || typeof prev !== "object") continue;
    for (const [k, v] of Object.entries(node as Record<string, unknown>)) {
      const p = (prev as Record<string, unknown>)[k];
      if (v === REDACTED && isSecretName(k) && typeof p === "string") (node as Record<string, unknown>)[k] = p;
      else if (v !== null && typeof v === "object") stack.push([v, p]);
    }
  }
  return next;
}
