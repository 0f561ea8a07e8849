/**
 * The first rows of a CSV or TSV file as a table, parsed with papaparse from the head of the file
 * that the preview fetched. A head cut short ends mid-row, so its last line is left out.
 */
import Papa from "papaparse";

export interface CsvHead {
  columns: string[];
  rows: string[][];
  /** More rows exist than are shown (past maxRows, or past the fetched head). */
  more: boolean;
}

export const CSV_PREVIEW_ROWS = 50;

export function parseCsvHead(text: string, options: { delimiter: "," | "\t"; truncated: boolean; maxRows?: number }): CsvHead {
  const maxRows = options.maxRows ?? CSV_PREVIEW_ROWS;
  let body = text.startsWith("\ufeff") ? text.slice(1) : text;
  if (options.truncated) {
    const lastBreak = body.lastIndexOf("\n");
    body = lastBreak < 0 ? "" : body.slice(0, lastBreak);
  }
  // One row past the limit says whether there are more; the header is row zero.
  const parsed = Papa.parse<string[]>(body, { delimiter: options.delimiter, preview: maxRows + 2, skipEmptyLines: "greedy" });
  const [header = [], ...rest] = parsed.data;
  const rows = rest.slice(0, maxRows);
  const width = Math.max(header.length, ...rows.map((r) => r.length));
  const columns = Array.from({ length: width }, (_, i) => header[i] ?? "");
  return { columns, rows: rows.map((r) => Array.from({ length: width }, (_, i) => r[i] ?? "")), more: options.truncated || rest.length > maxRows };
}
