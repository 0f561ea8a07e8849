/**
 * The one module a study imports to get every sampler: it loads each sampler module for its
 * registration side effect and re-exports the port. A new sampler module is added to the imports here.
 * Pure: no runtime imports.
 */
import "./sampler";
import "./grid";
import "./cmaes";

export {
  createSampler,
  currentTrial,
  RELATIVE_PARAMS_ATTR,
  RELATIVE_SPACE_ATTR,
  registerSampler,
  samplerTypes,
  SamplerConfigError,
  type JsonValue,
  type SampleResult,
  type Sampler,
  type SamplerContext,
  type SamplerFactory,
  type StudyTrial,
} from "./sampler";
