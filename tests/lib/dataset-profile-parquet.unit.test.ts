import { parquetWriteBuffer } from "hyparquet-writer";
import { describe, expect, it } from "vitest";
import { ProfileError } from "../../worker/lib/profile/index";
import { profileParquet } from "../../worker/lib/profile/parquet";

describe("parquet profiles", () => {
  it("profiles a Parquet file like the same table in CSV", async () => {
    const buffer = parquetWriteBuffer({
      columnData: [
        { name: "id", data: [1n, 2n, 3n, 4n], type: "INT64" },
        { name: "price", data: [10.5, null, 20, 30.5], type: "DOUBLE" },
        { name: "city", data: ["Oslo", "Bergen", "Oslo", null], type: "STRING" },
        { name: "flag", data: [true, false, true, true], type: "BOOLEAN" },
      ],
    });
    const p = await profileParquet(buffer);
    expect(p.format).toBe("parquet");
    expect(p.row_count).toBe(4);
    expect(p.columns.map((c) => [c.name, c.type])).toEqual([
      ["id", "integer"],
      ["price", "number"],
      ["city", "string"],
      ["flag", "boolean"],
    ]);
    expect(p.columns[0].numeric).toMatchObject({ min: 1, max: 4, mean: 2.5 });
    expect(p.columns[1]).toMatchObject({ count: 3, missing: 1, missing_share: 0.25 });
    expect(p.columns[1].numeric!.mean).toBeCloseTo(61 / 3, 12);
    expect(p.columns[1].numeric!.quantiles["0.5"]).toBe(20);
    expect(p.columns[2].top).toEqual([{ value: "Oslo", count: 2 }, { value: "Bergen", count: 1 }]);
    expect(p.columns[3].top).toEqual([{ value: "true", count: 3 }, { value: "false", count: 1 }]);
  });

  it("refuses bytes that are not Parquet", async () => {
    await expect(profileParquet(new TextEncoder().encode("id,price\n1,2\n").buffer as ArrayBuffer)).rejects.toThrow(ProfileError);
  });
});
