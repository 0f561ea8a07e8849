/**
 * Hyperband (Optuna's HyperbandPruner): several successive-halving brackets that differ in how early
 * they start stopping trials. A trial's bracket is fixed by a CRC-32 of "<study name>_<trial number>"
 * weighted by each bracket's trial budget, exactly as Optuna computes it, so a study keeps the same
 * bracket assignment here as it would there. Each bracket only ever sees its own trials — samplers
 * that should behave like Optuna's under hyperband can filter with `hyperbandBracketOf` too.
 */
import { exactLog } from "./exact-log";
import { successiveHalvingPrune } from "./successive-halving";
import {
  lastStep,
  type PruneDecision,
  type PrunerState,
  type PrunerStudy,
  type PrunerTrial,
} from "./types";

export interface HyperbandOptions {
  min_resource: number;
  max_resource: number | "auto";
  reduction_factor: number;
  bootstrap_count: number;
}

export interface HyperbandBrackets {
  nBrackets: number;
  /** Trial allocation budget of each bracket, bracket 0 first. */
  budgets: number[];
  totalBudget: number;
}

const CRC32_TABLE: Uint32Array = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function utf8Bytes(text: string): number[] {
  const bytes: number[] = [];
  for (const ch of text) {
    const cp = ch.codePointAt(0) as number;
    if (cp < 0x80) bytes.push(cp);
    else if (cp < 0x800) bytes.push(0xc0 | (cp >> 6), 0x80 | (cp & 0x3f));
    else if (cp < 0x10000) bytes.push(0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
    else bytes.push(0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 0x3f), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
  }
  return bytes;
}

/** CRC-32 (IEEE 802.3, zlib's) of the UTF-8 bytes of `text`, as an unsigned integer. */
export function crc32(text: string): number {
  let crc = 0xffffffff;
  for (const byte of utf8Bytes(text)) crc = CRC32_TABLE[(crc ^ byte) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/**
 * floor(log_rf(max/min)) + 1 brackets, computed as Optuna does with floating-point logarithms (so
 * max=243, min=1, rf=3 gives 5 brackets, not 6; see exact-log for why not Math.log); bracket b's budget is
 * ceil(n·rf^s/(s+1)) with s = n−1−b. Zero brackets when max < min: the pruner then never prunes.
 */
export function hyperbandBrackets(minResource: number, maxResource: number, reductionFactor: number): HyperbandBrackets {
  const nBrackets = Math.max(0, Math.floor(exactLog(maxResource / minResource) / exactLog(reductionFactor)) + 1);
  const budgets: number[] = [];
  for (let bracket = 0; bracket < nBrackets; bracket++) {
    const s = nBrackets - 1 - bracket;
    budgets.push(Math.ceil((nBrackets * reductionFactor ** s) / (s + 1)));
  }
  return { nBrackets, budgets, totalBudget: budgets.reduce((a, b) => a + b, 0) };
}

/** The bracket of trial `trialNumber` in study `studyName` (0 when there are no brackets yet). */
export function hyperbandBracketOf(studyName: string, trialNumber: number, brackets: HyperbandBrackets): number {
  if (brackets.nBrackets === 0) return 0;
  let n = crc32(`${studyName}_${trialNumber}`) % brackets.totalBudget;
  for (let bracket = 0; bracket < brackets.nBrackets; bracket++) {
    n -= brackets.budgets[bracket];
    if (n < 0) return bracket;
  }
  throw new Error("unreachable: bracket budgets cover the hash range");
}

/** max_resource, resolving "auto" to the longest COMPLETE trial's last step + 1 (null until one completes). */
export function resolveMaxResource(options: HyperbandOptions, study: PrunerStudy, state: PrunerState): number | null {
  if (options.max_resource !== "auto") return options.max_resource;
  if (state.maxResource !== undefined) return state.maxResource;
  let longest: number | null = null;
  for (const t of study.trials) {
    if (t.state !== "COMPLETE") continue;
    const step = lastStep(t);
    if (step !== null && (longest === null || step > longest)) longest = step;
  }
  return longest === null ? null : longest + 1;
}

export function hyperbandPrune(
  options: HyperbandOptions,
  study: PrunerStudy,
  trial: PrunerTrial,
  state: PrunerState,
): PruneDecision {
  const maxResource = resolveMaxResource(options, study, state);
  if (maxResource === null) return { prune: false, trialAttrs: {}, state: { ...state } };
  const nextState: PrunerState =
    options.max_resource === "auto" ? { ...state, maxResource } : { ...state };
  const brackets = hyperbandBrackets(options.min_resource, maxResource, options.reduction_factor);
  if (brackets.nBrackets === 0) return { prune: false, trialAttrs: {}, state: nextState };

  const bracket = hyperbandBracketOf(study.name, trial.number, brackets);
  const bracketStudy: PrunerStudy = {
    ...study,
    trials: study.trials.filter((t: PrunerTrial) => hyperbandBracketOf(study.name, t.number, brackets) === bracket),
  };
  const decision = successiveHalvingPrune(
    {
      min_resource: options.min_resource,
      reduction_factor: options.reduction_factor,
      min_early_stopping_rate: bracket,
      bootstrap_count: options.bootstrap_count,
    },
    bracketStudy,
    trial,
    {},
  );
  return { prune: decision.prune, trialAttrs: decision.trialAttrs, state: nextState };
}
