import { parsePipelineSpec, SpecError } from "../../worker/lib/pipelines/spec";

/** The problems parsePipelineSpec names for a spec it must refuse, as "path: message". */
export function issues(input: unknown): string[] {
  try {
    parsePipelineSpec(input);
  } catch (err) {
    if (err instanceof SpecError) return err.issues.map((i) => `${i.path}: ${i.message}`);
    throw err;
  }
  throw new Error("expected the spec to be rejected");
}
