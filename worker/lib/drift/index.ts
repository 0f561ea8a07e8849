/**
 * Evidently-compatible data-drift statistics, runtime-free: one import for the Worker, Durable
 * Objects and the browser's Web Workers.
 */
export * from "./types";
export { cleanCategorical, cleanNumeric, compareCategories } from "./clean";
export { binnedPercents, fillEmptyBins, histogramCounts, sturgesEdges } from "./binning";
export { KS_MAX_EXACT_N, kolmogorovSf, ks2Sample, ksStatistic, type KsResult } from "./kolmogorov";
export {
  andersonDarling,
  ANDERSON_CRITICAL,
  cramerVonMises,
  CVM_MAX_EXACT_N,
  cvmLimitCdf,
  cvmLimitSf,
  energyDistance,
  eppsSingleton,
  MANNW_MAX_EXACT_SMALL_N,
  mannWhitney,
  type Numbers,
  percentileSorted,
  sortedCopy,
  tTest,
  type TestStatistic,
} from "./numeric-tests";
export {
  categoryCounts,
  type CategoricalTestResult,
  type CategoryCounts,
  DEFAULT_PERMUTATION_SEED,
  fisherExact2x2,
  fisherExactTest,
  gTest,
  TVD_PERMUTATIONS,
  tvdTest,
} from "./categorical-tests";
export { empiricalMmd, MMD_MAX_ROWS, MMD_PERMUTATIONS, mmdSigma, type MmdResult } from "./mmd";
export { besselK14Scaled, createRng, hypergeometricSample, logSumExp, normalSf, type Rng, studentTTwoSidedP } from "./special";
export {
  type ColumnSetting,
  type ColumnSummary,
  columnSummary,
  driftReport,
  type DriftReportInput,
  type DriftReportSummary,
  type TestSummary,
} from "./report";
export {
  chiSquareSf,
  type ColumnData,
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
  applicableStattests,
  cleanColumn,
  type ColumnValues,
  type TestOutcome,
  type ColumnDriftOptions,
  type ColumnDriftResult,
  columnDrift,
  DEFAULT_DRIFT_SHARE,
  type DatasetDriftResult,
  datasetDrift,
  defaultStattest,
  type DescriptorDrift,
  descriptorDrift,
  inferColumnType,
  methodDisplayName,
  type TextDriftDetails,
  inferValueKind,
  INT_CATEGORY_MAX_UNIQUES,
  LARGE_REFERENCE_ROWS,
  type ValueKind,
} from "./select";
export {
  cleanText,
  fitTfIdf,
  isTextStattest,
  randomAucPercentile,
  TEXT_DESCRIPTORS,
  TEXT_DRIFT_SEED,
  TEXT_STATTESTS,
  type TextDescriptorName,
  textDescriptors,
  textDrift,
  type TextDriftOptions,
  type TextDriftResult,
  tokenize,
} from "./text";
export {
  type ClassificationInput,
  type ClassificationQuality,
  classificationQuality,
  labelsFromProbabilities,
  LOG_LOSS_EPS,
  MAPE_EPSILON,
  type MapeZeroHandling,
  type RegressionOptions,
  type RegressionQuality,
  regressionQuality,
  rocAuc,
} from "./performance";
export {
  type CategoryChange,
  categoryChanges,
  type ColumnQuality,
  columnQuality,
  type ColumnQualityReport,
  dataQuality,
  type NumericStats,
  type OutOfRange,
  outOfRange,
} from "./quality";
