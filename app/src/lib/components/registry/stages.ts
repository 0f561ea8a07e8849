/** MLflow's model version stages, in the order a picker offers them and the order lists show them in. */
import type { MlflowModelStage, MlflowModelVersion } from "$lib/api/client";

export const STAGES: readonly MlflowModelStage[] = ["None", "Staging", "Production", "Archived"];

/** What is serving first, then what is about to, then the rest. */
const SHOWN_ORDER: readonly MlflowModelStage[] = ["Production", "Staging", "None", "Archived"];

export const byStage = (versions: readonly MlflowModelVersion[] | undefined): MlflowModelVersion[] =>
  [...(versions ?? [])].sort((a, b) => SHOWN_ORDER.indexOf(a.current_stage) - SHOWN_ORDER.indexOf(b.current_stage));
