/**
 * Per-request (and per-job) service construction: the one place that reads bindings and wires
 * stores into services. Handlers and jobs use services; they never touch env.DB themselves.
 */
import { createDb } from "./db/client";
import type { WorkerBindings } from "./env";
import { authMode } from "./http/auth";
import { TokenService } from "./auth/service";
import { TokenStore } from "./auth/store";
import { SystemService, durableObjectNamespaces } from "./system/service";
import { SystemStore } from "./system/store";
import { TrackingService } from "./tracking/service";
import { TrackingStore } from "./tracking/store";
import { LoggedModelService } from "./logged-models/service";
import { LoggedModelStore } from "./logged-models/store";
import { MetricHistoryService } from "./tracking/history-service";
import { MetricHistoryStore } from "./tracking/history-store";
import { RunLogger } from "./tracking/run-logger";
import { ArtifactService } from "./artifacts/service";
import { ArtifactStore } from "./artifacts/store";
import { RegistryService } from "./registry/service";
import { RegistryStore } from "./registry/store";
import { TraceService } from "./traces/service";
import { TraceStore } from "./traces/store";
import { MonitoringService } from "./monitoring/service";
import { MonitoringStore } from "./monitoring/store";
import { TuningService } from "./tuning/service";
import { StudyStore } from "./tuning/store";
import { PipelineService } from "./pipelines/service";
import { PipelineStore } from "./pipelines/store";
import { DatasetService } from "./datasets/service";
import { BLOB_PREFIX, ContentStore, DatasetStore } from "./datasets/store";
import { LineageService, type LineageProvider } from "./datasets/lineage";
import { DatasetVersionReader } from "./datasets/dataset-reader";
import { monitorLineage } from "./monitoring/lineage";
import { builtinPorts, datasetVersionFeed } from "./pipelines/builtin-ports";
import type { BuiltinPorts } from "./pipelines/builtins";
import { pipelineRunLineage } from "./pipelines/lineage";
import { ProjectRunService } from "./projects/service";
import { AdminService } from "./admin/service";
import { AdminStore } from "./admin/store";
import { IdempotencyService } from "./system/idempotency-service";
import { IdempotencyStore } from "./system/idempotency-store";

export interface Services {
  tokens: TokenService;
  system: SystemService;
  tracking: TrackingService;
  loggedModels: LoggedModelService;
  history: MetricHistoryService;
  runLogger: RunLogger;
  artifacts: ArtifactService;
  registry: RegistryService;
  traces: TraceService;
  monitoring: MonitoringService;
  tuning: TuningService;
  pipelines: PipelineService;
  datasets: DatasetService;
  lineage: LineageService;
  /** What pipelines' built-in tasks use of the other pillars. */
  pipelineTasks: BuiltinPorts;
  /** Project runs on agents and their reproductions. */
  projectRuns: ProjectRunService;
  /** Backups (export/import) and the maintenance mode they run in. */
  admin: AdminService;
  /** Idempotency-Key records of native writes. */
  idempotency: IdempotencyService;
}

function graceMs(value: string | undefined): number | undefined {
  const n = Number(value);
  return value !== undefined && value !== "" && Number.isFinite(n) && n >= 0 ? n : undefined;
}

export function buildServices(env: WorkerBindings): Services {
  const db = createDb(env.DB);
  const tracking = new TrackingService(new TrackingStore(db));
  const loggedModels = new LoggedModelService(new LoggedModelStore(db), tracking);
  const runLogger = new RunLogger(tracking, db);
  const registry = new RegistryService(new RegistryStore(db), new TrackingStore(db), loggedModels);
  const pipelineStore = new PipelineStore(db);
  const pipelines = new PipelineService(pipelineStore, {
    runs: env.PIPELINE_RUNS,
    blobs: env.BLOBS,
    datasetVersions: (name, since, limit) => datasetVersionFeed(datasets, name, since, limit),
  });
  const datasetStore = new DatasetStore(db);
  const content = new ContentStore(env.BLOBS);
  const datasets = new DatasetService(datasetStore, content, new ArtifactService(new ArtifactStore(env.BLOBS, { prefix: BLOB_PREFIX })));
  /** Monitors and pipeline runs add their lineage links here. */
  const monitoringStore = new MonitoringStore(db);
  const lineageProviders: LineageProvider[] = [monitorLineage(monitoringStore), pipelineRunLineage(pipelineStore)];
  const monitoring = new MonitoringService(monitoringStore, {
    registry,
    pipelines: async (pipelineId, conf) => ({ runId: (await pipelines.trigger(pipelineId, { conf }, null)).run_id }),
    datasets: new DatasetVersionReader(datasetStore, content),
  });
  const tuning = new TuningService(env.STUDIES, new StudyStore(db), tracking, runLogger);
  // Data-aware triggers: every committed version may start pipeline runs.
  datasets.onVersionCommitted(async (e) => void (await pipelines.datasetVersionCommitted(e)));
  return {
    tokens: new TokenService(new TokenStore(db), env.TERN_ADMIN_TOKEN),
    system: new SystemService(new SystemStore(db), {
      blobs: env.BLOBS,
      durableObjects: durableObjectNamespaces(env),
      authMode: authMode(env),
    }),
    tracking,
    loggedModels,
    history: new MetricHistoryService(new MetricHistoryStore(db)),
    runLogger,
    artifacts: new ArtifactService(new ArtifactStore(env.BLOBS)),
    registry,
    traces: new TraceService(new TraceStore(db), tracking),
    monitoring,
    tuning,
    pipelines,
    datasets,
    lineage: new LineageService(datasetStore, datasets, lineageProviders),
    pipelineTasks: builtinPorts({ datasets, datasetStore, monitoring, registry, tuning }),
    projectRuns: new ProjectRunService(tracking, pipelines, new ArtifactService(new ArtifactStore(env.BLOBS))),
    admin: new AdminService(new AdminStore(db, env.BLOBS), env.STUDIES, env.PIPELINE_RUNS, graceMs(env.TERN_MAINTENANCE_GRACE_MS)),
    idempotency: new IdempotencyService(new IdempotencyStore(db)),
  };
}
