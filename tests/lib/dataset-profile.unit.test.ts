import { describe, expect, it } from "vitest";
import { diffProfiles, inferType, parseText, profileText, quantile, schemaOf, tableColumns, tabularFormat, ProfileError } from "../../worker/lib/profile/index";

const CSV = [
  "id,price,city,flag,when",
  "1,10.5,Oslo,true,2024-01-01",
  "2,,Bergen,false,2024-01-02",
  "3,20,Oslo,TRUE,2024-01-03",
  "4,30.5,,false,",
  "5,NA,Oslo,true,2024-01-05",
].join("\n");

describe("tabular profiles", () => {
  it("profiles a small CSV to the numbers worked out by hand", () => {
    const p = profileText(CSV, "csv");
    expect(p.row_count).toBe(5);
    expect(schemaOf(p)).toEqual([
      { name: "id", type: "integer" },
      { name: "price", type: "number" },
      { name: "city", type: "string" },
      { name: "flag", type: "boolean" },
      { name: "when", type: "datetime" },
    ]);
    const [id, price, city, flag, when] = p.columns;
    expect(id).toMatchObject({ count: 5, missing: 0, missing_share: 0 });
    expect(id.numeric).toMatchObject({ min: 1, max: 5, mean: 3 });
    expect(id.numeric!.std).toBeCloseTo(Math.sqrt(2.5), 12);
    // price: 10.5, 20, 30.5 present; "" and "NA" missing.
    expect(price).toMatchObject({ count: 3, missing: 2, missing_share: 0.4 });
    expect(price.numeric!.min).toBe(10.5);
    expect(price.numeric!.max).toBe(30.5);
    expect(price.numeric!.mean).toBeCloseTo(61 / 3, 12);
    // Sum of squared deviations: 1440.5 - 3 * (61/3)^2 = 200.1667; sample variance divides by n - 1 = 2.
    expect(price.numeric!.std).toBeCloseTo(Math.sqrt((1440.5 - 3 * (61 / 3) ** 2) / 2), 12);
    expect(price.numeric!.std).toBeCloseTo(10.004165, 5);
    expect(price.numeric!.quantiles).toEqual({ "0.05": 11.45, "0.25": 15.25, "0.5": 20, "0.75": 25.25, "0.95": expect.closeTo(29.45, 10) });
    expect(city).toMatchObject({ count: 4, missing: 1, distinct: 2, numeric: null, top: [{ value: "Oslo", count: 3 }, { value: "Bergen", count: 1 }] });
    expect(flag.top).toEqual([{ value: "true", count: 3 }, { value: "false", count: 2 }]);
    expect(when).toMatchObject({ count: 4, missing: 1, distinct: 4 });
  });

  it("reads TSV and quoted CSV fields, and names duplicate or empty headers as pandas does", () => {
    const tsv = profileText("a\tb\n1\tx y\n2\tz\n", "tsv");
    expect(schemaOf(tsv)).toEqual([{ name: "a", type: "integer" }, { name: "b", type: "string" }]);
    const quoted = profileText('name,note\n"Smith, J","said ""hi"""\n', "csv");
    expect(quoted.columns[0].top).toEqual([{ value: "Smith, J", count: 1 }]);
    expect(quoted.columns[1].top).toEqual([{ value: 'said "hi"', count: 1 }]);
    expect(profileText("a,a,\n1,2,3\n", "csv").columns.map((c) => c.name)).toEqual(["a", "a.1", "Unnamed: 2"]);
    expect(profileText("\ufeffx\n1\n", "csv").columns[0].name).toBe("x");
    expect(profileText("", "csv")).toEqual({ format: "csv", row_count: 0, columns: [] });
  });

  it("reads JSON lines with keys that come and go, and refuses lines that are not objects", () => {
    const p = profileText('{"a": 1, "b": "x"}\n{"a": 2.5}\n\n{"b": null, "c": true}\n', "jsonl");
    expect(p.row_count).toBe(3);
    expect(schemaOf(p)).toEqual([{ name: "a", type: "number" }, { name: "b", type: "string" }, { name: "c", type: "boolean" }]);
    expect(p.columns[0]).toMatchObject({ count: 2, missing: 1 });
    expect(p.columns[1]).toMatchObject({ count: 1, missing: 2 });
    expect(() => profileText('{"a":1}\n[1,2]\n', "jsonl")).toThrow(ProfileError);
    expect(() => profileText("{nope\n", "jsonl")).toThrow(/line 1/);
  });

  it("turns a parsed table into typed columns: numeric and boolean text becomes numbers and booleans", () => {
    const cols = tableColumns(parseText("n,x,flag,when,s\n1,1.5,true,2024-01-02,a\nNA,-2e3,FALSE,2024-01-03,7\n3,,true,,b\n", "csv"));
    expect(cols).toEqual({
      n: [1, null, 3],
      x: [1.5, -2000, null],
      flag: [true, false, true],
      when: ["2024-01-02", "2024-01-03", null],
      s: ["a", "7", "b"],
    });
    expect(tableColumns(parseText('{"a": 1, "b": "x"}\n{"b": "y", "c": true}\n', "jsonl"))).toEqual({ a: [1, null], b: ["x", "y"], c: [null, true] });
  });

  it("infers the narrowest type", () => {
    expect(inferType(["1", "-2", null])).toBe("integer");
    expect(inferType(["1", "2.5e3"])).toBe("number");
    expect(inferType(["True", "false"])).toBe("boolean");
    expect(inferType(["2024-02-29T10:00:00Z", "2024-01-01"])).toBe("datetime");
    expect(inferType(["1", "x"])).toBe("string");
    expect(inferType([null, null])).toBe("empty");
    expect(inferType([1, 2.5])).toBe("number");
  });

  it("interpolates quantiles linearly (numpy's default)", () => {
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantile([1, 2, 3, 4], 0.25)).toBe(1.75);
    expect(quantile([7], 0.9)).toBe(7);
  });

  it("knows tabular files by name or content type", () => {
    expect(tabularFormat("a/b.CSV")).toBe("csv");
    expect(tabularFormat("x.tsv")).toBe("tsv");
    expect(tabularFormat("x.ndjson")).toBe("jsonl");
    expect(tabularFormat(null, "text/csv; charset=utf-8")).toBe("csv");
    expect(tabularFormat("x.bin", "application/octet-stream")).toBeNull();
  });

  it("diffs profiles column by column", () => {
    const a = profileText("x,y\n1,a\n2,b\n", "csv");
    const b = profileText("x,z\n1,1\n4,2\n", "csv");
    const d = diffProfiles(a, b);
    expect(d.map((c) => [c.name, c.change])).toEqual([["x", "stats_changed"], ["y", "removed"], ["z", "added"]]);
    expect(d[0].stats.max).toEqual([2, 4]);
    expect(d[0].stats.min).toBeUndefined();
    expect(diffProfiles(a, a).every((c) => c.change === "unchanged")).toBe(true);
    const retyped = diffProfiles(a, profileText("x,y\n1.5,a\n2,b\n", "csv"));
    expect(retyped[0]).toMatchObject({ change: "type_changed", type_before: "integer", type_after: "number" });
  });
});
