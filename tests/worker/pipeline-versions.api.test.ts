/** Reading one stored version of a pipeline's spec, which the UI's version list and run pages use. */
import { describe, expect, it } from "vitest";
import { ADMIN_TOKEN, call, errorCode } from "./helpers";

const api = (method: string, path: string, body?: unknown) => call(method, `/api/v1${path}`, { token: ADMIN_TOKEN, body });

describe("GET /pipelines/{id}/versions/{version}", () => {
  it("returns each version's checked spec and source, and 404 for a version that does not exist", async () => {
    const v1 = "tasks:\n  a: {kind: noop}\n";
    const created = await api("POST", "/pipelines", { name: "versions", spec: v1 });
    expect(created.status).toBe(201);
    const id = created.json.pipeline_id;
    const updated = await api("PUT", `/pipelines/${id}`, { spec: { params: { n: 2 }, tasks: { a: { kind: "noop" }, b: { kind: "noop", depends_on: "a" } } } });
    expect(updated.json.version).toBe(2);

    const first = await api("GET", `/pipelines/${id}/versions/1`);
    expect(first.status).toBe(200);
    expect(first.json).toMatchObject({ pipeline_id: id, version: 1, source: v1 });
    expect(Object.keys(first.json.spec.tasks)).toEqual(["a"]);
    expect(first.json.created_at).toBeTypeOf("number");

    const second = await api("GET", `/pipelines/${id}/versions/2`);
    expect(second.json.spec.params).toEqual({ n: 2 });
    expect(second.json.spec.tasks.b.depends_on).toEqual(["a"]);

    const missing = await api("GET", `/pipelines/${id}/versions/3`);
    expect(missing.status).toBe(404);
    expect(errorCode(missing)).toBe("RESOURCE_DOES_NOT_EXIST");
    expect((await api("GET", `/pipelines/${id}/versions/0`)).status).toBe(400);
    expect((await api("GET", `/pipelines/${"0".repeat(32)}/versions/1`)).status).toBe(404);
  });
});
