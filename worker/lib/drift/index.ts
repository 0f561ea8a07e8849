/**
 * Evidently-compatible data-drift statistics, runtime-free: one import for the Worker, Durable
 * Objects and the browser's Web Workers.
 */
export * from "./types";
export { cleanCategorical, cleanNumeric, compareCategories } from "./clean";
export { binnedPercents, fillEmptyBins, histogramCounts, sturgesEdges } from "./binning";
export { KS_MAX_EXACT_N, kolmogorovSf, ks2Sample, ksStatistic, type KsResult } from "./kolmogorov";
export {
  chiSquareSf,
  chiSquareStattest,
  hellingerStattest,
  jensenShannonDistance,
  jensenShannonStattest,
  klDivStattest,
  ksStattest,
  normalTwoSidedP,
  populationStd,
  psiStattest,
  runStattest,
  wassersteinDistance,
  wassersteinStattest,
  zStattest,
} from "./stattests";
export {
  type ColumnDriftOptions,
  type ColumnDriftResult,
  columnDrift,
  DEFAULT_DRIFT_SHARE,
  type DatasetDriftResult,
  datasetDrift,
  defaultStattest,
  inferColumnType,
  inferValueKind,
  INT_CATEGORY_MAX_UNIQUES,
  LARGE_REFERENCE_ROWS,
  type ValueKind,
} from "./select";
