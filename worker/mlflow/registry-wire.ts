/**
 * Registry domain objects → MLflow's JSON (model_registry.proto): snake_case, empty fields left out,
 * timestamps as JSON numbers, versions as strings, stages and status by name.
 */
import type { ModelVersion, RegisteredModel } from "../registry/model";
import type { KeyValue } from "../tracking/model";

const nonEmpty = <T>(xs: T[]) => (xs.length ? xs : undefined);
const text = (s: string | null) => s || undefined;
const wireTags = (tags: KeyValue[]) => nonEmpty(tags.map((t) => ({ key: t.key, value: t.value })));

export const wireModelVersion = (v: ModelVersion) => ({
  name: v.name,
  version: String(v.version),
  creation_timestamp: v.creationTime,
  last_updated_timestamp: v.lastUpdatedTime,
  user_id: text(v.userId),
  current_stage: v.currentStage,
  description: text(v.description),
  source: v.source,
  run_id: text(v.runId),
  status: v.status,
  status_message: text(v.statusMessage),
  tags: wireTags(v.tags),
  run_link: text(v.runLink),
  aliases: nonEmpty(v.aliases),
  model_id: text(v.modelId),
});

export const wireRegisteredModel = (m: RegisteredModel) => ({
  name: m.name,
  creation_timestamp: m.creationTime,
  last_updated_timestamp: m.lastUpdatedTime,
  description: text(m.description),
  latest_versions: nonEmpty(m.latestVersions.map(wireModelVersion)),
  tags: wireTags(m.tags),
  aliases: nonEmpty(m.aliases.map((a) => ({ alias: a.alias, version: String(a.version) }))),
});
