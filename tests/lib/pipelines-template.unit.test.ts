import { describe, expect, it } from "vitest";
import { parseTemplate, render, renderString, TemplateError, type TemplateContext } from "../../worker/lib/pipelines/template";

const ctx: TemplateContext = {
  params: { symbol: "SPY", n: 3, nested: { list: [10, 20] } },
  conf: { mode: "full" },
  outputs: { fetch: { status: 200, body: { rows: 42, items: [{ id: "x" }] } } },
  logical_date: "2026-11-27T20:00:00.000Z",
  data_interval_start: "2026-11-27T20:00:00.000Z",
  data_interval_end: "2026-11-30T20:00:00.000Z",
  run_id: "r1",
  pipeline_id: "p1",
  task_id: "t",
  try_number: 2,
};

describe("templates", () => {
  it("renders params, conf, dates and outputs inside text", () => {
    expect(renderString("python f.py {{ params.symbol }} --day {{ ds }} --mode {{conf.mode}}", ctx)).toBe("python f.py SPY --day 2026-11-27 --mode full");
    expect(renderString("{{ ds_nodash }}/{{ logical_date }}", ctx)).toBe("20261127/2026-11-27T20:00:00.000Z");
    expect(renderString("rows={{ outputs.fetch.body.rows }} id={{ outputs.fetch.body.items[0].id }}", ctx)).toBe("rows=42 id=x");
    expect(renderString("{{ task_id }}#{{ try_number }}#{{ run_id }}", ctx)).toBe("t#2#r1");
  });

  it("keeps the JSON type of a lone placeholder and renders objects inside text as JSON", () => {
    expect(renderString("{{ params.n }}", ctx)).toBe(3);
    expect(renderString("{{ params.nested }}", ctx)).toEqual({ list: [10, 20] });
    expect(renderString("list={{ params.nested.list }}", ctx)).toBe("list=[10,20]");
    expect(render({ a: ["{{ params.n }}", "x{{ params.n }}"], b: 1, c: null }, ctx)).toEqual({ a: [3, "x3"], b: 1, c: null });
  });

  it("names the missing piece", () => {
    const err = (s: string) => {
      try {
        renderString(s, ctx);
      } catch (e) {
        if (e instanceof TemplateError) return e.message;
      }
      throw new Error("expected a TemplateError");
    };
    expect(err("{{ params.nope }}")).toBe("{{ params.nope }}: params has no field 'nope'");
    expect(err("{{ outputs.train.x }}")).toBe("{{ outputs.train.x }}: task 'train' has no output");
    expect(err("{{ outputs.fetch.body.items[3] }}")).toBe("{{ outputs.fetch.body.items[3] }}: outputs.fetch.body.items has no index 3");
    expect(err("{{ params.symbol.x }}")).toBe('{{ params.symbol.x }}: params.symbol is "SPY", so it has no \'x\'');
    expect(err("{{ secrets.X }}")).toBe("{{ secrets.X }}: secrets may only be used in http headers");
  });

  it("reads secrets only through the lookup it is given", () => {
    const withSecrets = { ...ctx, secret: (n: string) => (n === "TOKEN" ? "s3cret" : undefined) };
    expect(renderString("Bearer {{ secrets.TOKEN }}", withSecrets)).toBe("Bearer s3cret");
    expect(() => renderString("{{ secrets.OTHER }}", withSecrets)).toThrow("no secret named 'OTHER' is set on the Worker");
  });

  it("allows no expressions, calls or attribute tricks", () => {
    for (const bad of ["{{ params.x() }}", "{{ constructor }}", "{{ params['a'] + 1 }}", "{{ __proto__ }}", "{{ }}"]) {
      expect(() => parseTemplate(bad), bad).toThrow(TemplateError);
    }
    // Own properties only: inherited names are not reachable.
    expect(() => renderString("{{ params.constructor }}", ctx)).toThrow("params has no field 'constructor'");
    expect(() => renderString("{{ params.__proto__ }}", ctx)).toThrow(TemplateError);
    expect(renderString("{{ params['symbol'] }}", ctx)).toBe("SPY");
  });

  it("leaves text without placeholders alone", () => {
    expect(renderString("plain { text } }}", ctx)).toBe("plain { text } }}");
  });
});
