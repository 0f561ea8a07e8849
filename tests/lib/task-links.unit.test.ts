import { describe, expect, it } from "vitest";
import { LineageRefError, parseTaskLinks } from "../../worker/lib/lineage";

describe("parseTaskLinks", () => {
  it("turns inputs and outputs into refs, with task_input/task_output unless an edge is named", () => {
    const links = parseTaskLinks([{ object: "model_version:spy/4", edge: "used_model" }, { object: "dataset_version:abc" }], [{ object: "run:r1" }]);
    expect(links).toEqual([
      { ref: { kind: "model_version", key: "spy/4" }, edge: "used_model", direction: "input" },
      { ref: { kind: "dataset_version", key: "abc" }, edge: "task_input", direction: "input" },
      { ref: { kind: "run", key: "r1" }, edge: "task_output", direction: "output" },
    ]);
  });

  it("names the first bad entry: a malformed ref, or a kind a task cannot link", () => {
    expect(() => parseTaskLinks([], [{ object: "run:r1" }, { object: "nocolon" }])).toThrow(new LineageRefError("outputs[1].object: Invalid object 'nocolon': expected <kind>:<id>, e.g. run:<run id>"));
    expect(() => parseTaskLinks([{ object: "monitor:m1" }], [])).toThrow(/inputs\[0\]\.object: a task links dataset_version, model_version, run, not 'monitor'/);
  });
});
