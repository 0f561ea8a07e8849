/**
 * One model version's page: the version, where its files can be downloaded from, the run it came
 * from, and the changes a user makes (stage transitions, description, tags, aliases, deletion).
 * Changes throw the API's error for the control that made them to show.
 */
import { api, ApiClientError, type MlflowModelStage, type MlflowModelVersion } from "$lib/api/client";
import { errorMessage } from "./run-fields";
import { SourceRuns } from "./registry-runs.svelte";

export class ModelVersionState {
  readonly name: string;
  readonly number: string;
  version = $state.raw<MlflowModelVersion | null>(null);
  loading = $state(true);
  error = $state<string | null>(null);
  notFound = $state(false);
  downloadUri = $state<string | null>(null);
  downloadUriError = $state<string | null>(null);

  readonly runs = new SourceRuns();

  constructor(name: string, version: string) {
    this.name = name;
    this.number = version;
  }

  get sourceRun() {
    return this.runs.get(this.version?.run_id);
  }

  async load(): Promise<void> {
    this.loading = true;
    await this.#loadVersion();
    this.loading = false;
    if (this.version) await Promise.all([this.#loadDownloadUri(), this.runs.resolve([this.version.run_id])]);
  }

  async #loadVersion(): Promise<void> {
    try {
      this.version = (await api.registry.versions.get(this.name, this.number)).model_version;
      this.error = null;
      this.notFound = false;
    } catch (err) {
      this.version = null;
      this.error = errorMessage(err);
      this.notFound = err instanceof ApiClientError && err.status === 404;
    }
  }

  async #loadDownloadUri(): Promise<void> {
    try {
      this.downloadUri = (await api.registry.versions.downloadUri(this.name, this.number)).artifact_uri;
      this.downloadUriError = null;
    } catch (err) {
      this.downloadUri = null;
      this.downloadUriError = errorMessage(err);
    }
  }

  async transition(stage: MlflowModelStage, archiveExisting: boolean): Promise<void> {
    this.version = (await api.registry.versions.transitionStage(this.name, this.number, stage, archiveExisting)).model_version;
  }

  async updateDescription(description: string): Promise<void> {
    this.version = (await api.registry.versions.update(this.name, this.number, description)).model_version;
  }

  async setTag(key: string, value: string): Promise<void> {
    await api.registry.versions.setTag(this.name, this.number, key, value);
    await this.#loadVersion();
  }

  async deleteTag(key: string): Promise<void> {
    await api.registry.versions.deleteTag(this.name, this.number, key);
    await this.#loadVersion();
  }

  async setAlias(alias: string): Promise<void> {
    await api.registry.aliases.set(this.name, alias.trim(), this.number);
    await this.#loadVersion();
  }

  async deleteAlias(alias: string): Promise<void> {
    await api.registry.aliases.delete(this.name, alias);
    await this.#loadVersion();
  }

  async delete(): Promise<void> {
    await api.registry.versions.delete(this.name, this.number);
  }
}
