/**
 * Nesting depth of a JSON text, measured by one pass over its characters (no recursion, no parse), so
 * a body nested a million levels deep is refused before anything walks it recursively: zod, drizzle's
 * JSON columns and JSON.stringify all recurse and would overflow the stack far below what JSON.parse
 * accepts.
 */

/** The deepest nesting a request body may have; real payloads (specs, spans, conf) stay far below. */
export const MAX_JSON_DEPTH = 64;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPENERS = new Set([0x5b, 0x7b]); // [ {
const CLOSERS = new Set([0x5d, 0x7d]); // ] }

/**
 * Whether `text` opens more than `max` arrays/objects inside one another. Brackets inside strings do
 * not count; the text need not be valid JSON (the parser reports that afterwards).
 */
export function exceedsJsonDepth(text: string, max: number = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === BACKSLASH) i++;
      else if (ch === QUOTE) inString = false;
    } else if (ch === QUOTE) {
      inString = true;
    } else if (OPENERS.has(ch)) {
      if (++depth > max) return true;
    } else if (CLOSERS.has(ch)) {
      depth--;
    }
  }
  return false;
}
