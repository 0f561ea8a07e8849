/**
 * The built-in tasks' view of the other pillars: BuiltinPorts implemented over the datasets,
 * monitoring, registry and tuning services, and the feed of dataset versions data-aware triggers read. Composed in services.ts, so the run's Durable Object uses
 * the same service code as the API (and never Tern's HTTP origin).
 */
import { ApiError, invalid } from "../http/errors";
import type { DatasetService, Version } from "../datasets/service";
import type { DatasetStore } from "../datasets/store";
import type { MonitoringService } from "../monitoring/service";
import type { RegistryService } from "../registry/service";
import type { TuningService, StudyJson } from "../tuning/service";
import type { BuiltinPorts, DatasetVersionRef, Producer, StudyProgress } from "./builtins";
import type { DatasetVersionEvent } from "./service";

export interface BuiltinPortDeps {
  datasets: DatasetService;
  datasetStore: DatasetStore;
  monitoring: MonitoringService;
  registry: RegistryService;
  tuning: TuningService;
}

/** Tags a pipeline puts on the model versions it registers. */
const RUN_TAG = "tern.pipeline_run_id";
const TASK_TAG = "tern.pipeline_task";

const versionRef = (v: Version): DatasetVersionRef => ({ dataset: v.dataset, version: v.version, version_id: v.versionId, sha256: v.sha256, size: v.size, created_at: v.createdAt });

/** How a pipeline run is named where it creates something (a version's creator, a model version tag). */
export const producerName = (p: Producer) => `pipeline run ${p.run_id} (task ${p.task_id})`;

function progress(s: StudyJson): StudyProgress {
  const best = s.best_trial;
  const values = best?.values ?? null;
  return {
    study_id: s.study_id,
    name: s.name,
    state_counts: { ...s.state_counts },
    best_value: values && values.length === 1 ? values[0] : null,
    best_values: values,
    best_params: best ? best.params : null,
    best_trial: best ? best.number : null,
  };
}

export function builtinPorts(d: BuiltinPortDeps): BuiltinPorts {
  const datasetVersion = async (dataset: string, ref: number | string): Promise<DatasetVersionRef | null> => {
    if (typeof ref === "number" || ref === "latest") {
      const ds = await d.datasets.getDataset(dataset);
      if (ref === "latest" && ds.latestVersion === 0) return null;
      return versionRef(await d.datasets.getVersion(dataset, ref));
    }
    const ds = await d.datasets.getDataset(dataset);
    const [row] = await d.datasetStore.getVersionsById([ref]);
    if (!row || row.datasetId !== ds.datasetId) throw invalid(`Dataset '${dataset}' has no version '${ref}' (give a number, "latest" or a version id of that dataset)`);
    return versionRef(await d.datasets.getVersion(dataset, row.version));
  };

  return {
    async snapshot(i) {
      try {
        await d.datasets.getDataset(i.dataset);
      } catch (err) {
        if (!(err instanceof ApiError && err.code === "RESOURCE_DOES_NOT_EXIST") || !i.createDataset) throw err;
        await d.datasets.createDataset({ name: i.dataset, description: `Snapshots made by pipeline ${i.producer.pipeline_id}` }).catch((e) => {
          // Created by someone else meanwhile: use it.
          if (!(e instanceof ApiError && e.code === "RESOURCE_ALREADY_EXISTS")) throw e;
        });
      }
      const blob = await d.datasets.putBlob(null, i.body, null);
      const { version, created } = await d.datasets.commitVersion(
        i.dataset,
        {
          sha256: blob.sha256,
          ...(i.fileName ? { fileName: i.fileName } : {}),
          ...(i.contentType ? { contentType: i.contentType } : {}),
          message: i.message,
          skipIfUnchanged: i.skipIfUnchanged,
          producer: i.producer,
        },
        { token_id: null, name: producerName(i.producer) },
      );
      return { ...versionRef(version), created };
    },

    datasetVersion,

    async driftCheck(i) {
      const monitor = await d.monitoring.findMonitor(i.monitor);
      const dataset = i.dataset ?? monitor.currentDataset;
      if (!dataset) throw invalid(`Monitor '${monitor.name}' has no current dataset: name one with 'dataset'`);
      const v = await datasetVersion(dataset, i.version);
      if (!v) throw invalid(`Dataset '${dataset}' has no versions yet`);
      const { report } = await d.monitoring.checkVersion(monitor.id, { dataset, versionId: v.version_id }, { pipeline_run_id: i.producer.run_id, task_id: i.producer.task_id });
      return {
        monitor_id: monitor.id,
        monitor: monitor.name,
        dataset,
        version: v.version,
        version_id: v.version_id,
        report_id: report.id,
        dataset_drift: report.datasetDrift,
        drift_share: report.driftShare,
        number_of_columns: report.numberOfColumns,
        number_of_drifted_columns: report.numberOfDriftedColumns,
        drifted_columns: report.columns.filter((c) => c.drifted).map((c) => c.column),
      };
    },

    async ensureStudy(i) {
      const { study } = await d.tuning.createStudy({
        name: i.name,
        ...(i.directions ? { directions: i.directions as StudyJson["directions"] } : {}),
        ...(i.sampler ? { sampler: i.sampler } : {}),
        ...(i.pruner ? { pruner: i.pruner } : {}),
        load_if_exists: true,
      });
      return progress(study);
    },

    async registerModel(i) {
      await d.registry.createModel({ name: i.name }).catch((err) => {
        if (!(err instanceof ApiError && err.code === "RESOURCE_ALREADY_EXISTS")) throw err;
      });
      // Idempotent per run and task, as Airflow tasks should be: a retry or a cleared task that registers
      // the same run and source again gets the version it registered before, not a duplicate.
      const attempt = `${i.producer.run_id}/${i.producer.task_id}`;
      let mv = i.name.includes("'")
        ? undefined
        : (await d.registry.searchVersions({ filter: `name = '${i.name}' AND tags.${TASK_TAG} = '${attempt}'`, maxResults: 100 })).items.find((v) => v.runId === i.runId && v.source === i.source);
      if (!mv) {
        const tags = [...Object.entries(i.tags).map(([key, value]) => ({ key, value })), { key: RUN_TAG, value: i.producer.run_id }, { key: TASK_TAG, value: attempt }];
        mv = await d.registry.createVersion({ name: i.name, source: i.source, runId: i.runId, description: i.description, tags });
      }
      if (i.alias) await d.registry.setAlias(i.name, i.alias, String(mv.version));
      return { name: mv.name, version: mv.version };
    },
  };
}

/** Versions of a dataset committed after `since`, oldest first (the newest `limit`); none for a dataset that does not exist yet. */
export async function datasetVersionFeed(datasets: DatasetService, name: string, since: number, limit: number): Promise<DatasetVersionEvent[]> {
  const page = await datasets.listVersions(name, { maxResults: limit }).catch((err) => {
    if (err instanceof ApiError && err.code === "RESOURCE_DOES_NOT_EXIST") return { items: [] as Version[] };
    throw err;
  });
  return page.items
    .filter((v) => v.createdAt > since)
    .reverse()
    .map((v) => ({ dataset: name, version: v.version, versionId: v.versionId, sha256: v.sha256, size: v.size, createdAt: v.createdAt }));
}
