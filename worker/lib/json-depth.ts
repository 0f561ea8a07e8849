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
const OPEN_ARRAY = 0x5b;
const OPEN_OBJECT = 0x7b;
const CLOSE_ARRAY = 0x5d;
const CLOSE_OBJECT = 0x7d;

/**
 * Whether `text` opens more than `max` arrays/objects inside one another. Brackets inside strings do
 * not count; the text need not be valid JSON (the parser reports that afterwards).
 */
export function exceedsJsonDepth(text: string, max: number = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === QUOTE) {
      // Jump to the closing quote: one that an odd run of backslashes does not escape.
      for (;;) {
        const end = text.indexOf('"', i + 1);
        if (end < 0) return false;
        let slashes = 0;
        while (text.charCodeAt(end - 1 - slashes) === BACKSLASH) slashes++;
        i = end;
        if (slashes % 2 === 0) break;
      }
    } else if (ch === OPEN_ARRAY || ch === OPEN_OBJECT) {
      if (++depth > max) return true;
    } else if (ch === CLOSE_ARRAY || ch === CLOSE_OBJECT) {
      depth--;
    }
  }
  return false;
}
