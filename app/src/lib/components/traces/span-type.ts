/**
 * The colours of MLflow's span types, shared by the tree's badges and the waterfall's bars, so a
 * type reads the same in both. Unknown types fall back to grey.
 */
const COLORS: Record<string, { badge: string; bar: string }> = {
  AGENT: { badge: "bg-violet-100 text-violet-800 dark:bg-violet-950 dark:text-violet-300", bar: "bg-violet-500" },
  CHAIN: { badge: "bg-indigo-100 text-indigo-800 dark:bg-indigo-950 dark:text-indigo-300", bar: "bg-indigo-500" },
  LLM: { badge: "bg-sky-100 text-sky-800 dark:bg-sky-950 dark:text-sky-300", bar: "bg-sky-500" },
  CHAT_MODEL: { badge: "bg-sky-100 text-sky-800 dark:bg-sky-950 dark:text-sky-300", bar: "bg-sky-500" },
  TOOL: { badge: "bg-amber-100 text-amber-800 dark:bg-amber-950 dark:text-amber-300", bar: "bg-amber-500" },
  RETRIEVER: { badge: "bg-teal-100 text-teal-800 dark:bg-teal-950 dark:text-teal-300", bar: "bg-teal-500" },
  EMBEDDING: { badge: "bg-cyan-100 text-cyan-800 dark:bg-cyan-950 dark:text-cyan-300", bar: "bg-cyan-500" },
  RERANKER: { badge: "bg-lime-100 text-lime-800 dark:bg-lime-950 dark:text-lime-300", bar: "bg-lime-600" },
  PARSER: { badge: "bg-pink-100 text-pink-800 dark:bg-pink-950 dark:text-pink-300", bar: "bg-pink-500" },
};
const FALLBACK = { badge: "bg-slate-100 text-slate-700 dark:bg-slate-800 dark:text-slate-300", bar: "bg-slate-400 dark:bg-slate-500" };

export const spanTypeColors = (type: string | null) => (type && COLORS[type.toUpperCase()]) || FALLBACK;
