/**
 * Run colours: distinct hues that read on white and on the dark theme, handed out by position so the
 * runs on one page never share a colour until there are more runs than hues.
 */

export const RUN_COLORS = ["#3b82f6", "#f97316", "#10b981", "#e11d48", "#8b5cf6", "#eab308", "#06b6d4", "#db2777", "#84cc16", "#64748b"] as const;

export const runColor = (index: number): string => RUN_COLORS[((index % RUN_COLORS.length) + RUN_COLORS.length) % RUN_COLORS.length];
