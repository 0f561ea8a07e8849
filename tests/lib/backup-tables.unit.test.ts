/**
 * The backup catalog against the schema: every table is exported or excluded with a reason, never
 * silently missed, and the export order puts each table after the tables its foreign keys name.
 */
import { describe, expect, it } from "vitest";
import { EXCLUDED_TABLES, exportedTables, insertionOrder, schemaTables } from "../../worker/admin/tables";

describe("the backup catalog", () => {
  it("exports every schema table that is not excluded with a reason", () => {
    const all = schemaTables().map((t) => t.name);
    const exported = exportedTables().map((t) => t.name);
    expect(all.length).toBeGreaterThan(40);
    for (const name of all) expect(exported.includes(name) !== name in EXCLUDED_TABLES, name).toBe(true);
    for (const [name, reason] of Object.entries(EXCLUDED_TABLES)) {
      expect(all, `excluded table ${name} is not in the schema`).toContain(name);
      expect(reason.length).toBeGreaterThan(20);
    }
    expect(new Set(exported).size).toBe(exported.length);
  });

  it("orders parents before the tables that reference them", () => {
    const order = exportedTables().map((t) => t.name);
    for (const t of exportedTables()) for (const parent of t.references) if (order.includes(parent)) expect(order.indexOf(parent), `${parent} before ${t.name}`).toBeLessThan(order.indexOf(t.name));
    expect(exportedTables().find((t) => t.name === "model_version_tags")!.references).toContain("model_versions");
  });

  it("knows each table's primary key in key order, composite or single", () => {
    const byName = new Map(schemaTables().map((t) => [t.name, t]));
    expect(byName.get("metrics")!.primaryKey).toEqual(["run_uuid", "key", "step", "timestamp", "value", "is_nan"]);
    expect(byName.get("runs")!.primaryKey).toEqual(["run_uuid"]);
  });

  it("refuses a cycle of foreign keys", () => {
    expect(() => insertionOrder([{ name: "a", columns: [], references: ["b"], primaryKey: [] }, { name: "b", columns: [], references: ["a"], primaryKey: [] }])).toThrow(/cycle/);
  });
});
