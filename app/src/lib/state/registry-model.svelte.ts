/**
 * One registered model's page: the model (description, tags, aliases), its versions newest first in
 * pages, the runs they came from, and the changes a user makes to it. Changes throw the API's error
 * for the control that made them to show; a successful change reloads what it touched.
 */
import { api, ApiClientError, type MlflowModelVersion, type MlflowRegisteredModel } from "$lib/api/client";
import { errorMessage, quoteFilterValue } from "./run-fields";
import { SourceRuns } from "./registry-runs.svelte";

export const VERSION_PAGE_SIZE = 50;

/** An MLflow filter matching exactly this model's versions. */
export const versionsOf = (name: string) => `name = ${quoteFilterValue(name)}`;

export class RegisteredModelState {
  readonly name: string;
  model = $state.raw<MlflowRegisteredModel | null>(null);
  loading = $state(true);
  error = $state<string | null>(null);
  notFound = $state(false);

  versions = $state.raw<MlflowModelVersion[]>([]);
  versionsLoading = $state(true);
  versionsError = $state<string | null>(null);
  #tokens = $state<(string | undefined)[]>([undefined]);
  versionPage = $state(0);
  nextVersionsToken = $state<string | null>(null);

  readonly runs = new SourceRuns();

  constructor(name: string) {
    this.name = name;
  }

  /** alias → version, by alias name. */
  get aliases(): { alias: string; version: string }[] {
    return [...(this.model?.aliases ?? [])].sort((a, b) => a.alias.localeCompare(b.alias));
  }

  async load(): Promise<void> {
    this.loading = true;
    await Promise.all([this.#loadModel(), this.loadVersions()]);
    this.loading = false;
  }

  async #loadModel(): Promise<void> {
    try {
      this.model = (await api.registry.models.get(this.name)).registered_model;
      this.error = null;
      this.notFound = false;
    } catch (err) {
      this.model = null;
      this.error = errorMessage(err);
      this.notFound = err instanceof ApiClientError && err.status === 404;
    }
  }

  async loadVersions(): Promise<void> {
    this.versionsLoading = true;
    try {
      const page = await api.registry.versions.search({
        filter: versionsOf(this.name),
        order_by: "version_number DESC",
        max_results: VERSION_PAGE_SIZE,
        page_token: this.#tokens[this.versionPage],
      });
      this.versions = page.model_versions ?? [];
      this.nextVersionsToken = page.next_page_token ?? null;
      this.versionsError = null;
      void this.runs.resolve(this.versions.map((v) => v.run_id));
    } catch (err) {
      this.versions = [];
      this.nextVersionsToken = null;
      this.versionsError = errorMessage(err);
    } finally {
      this.versionsLoading = false;
    }
  }

  nextVersions(): Promise<void> {
    if (!this.nextVersionsToken) return Promise.resolve();
    this.#tokens = [...this.#tokens.slice(0, this.versionPage + 1), this.nextVersionsToken];
    this.versionPage += 1;
    return this.loadVersions();
  }

  previousVersions(): Promise<void> {
    if (this.versionPage === 0) return Promise.resolve();
    this.versionPage -= 1;
    return this.loadVersions();
  }

  async updateDescription(description: string): Promise<void> {
    this.model = (await api.registry.models.update(this.name, description)).registered_model;
  }

  async setTag(key: string, value: string): Promise<void> {
    await api.registry.models.setTag(this.name, key, value);
    await this.#loadModel();
  }

  async deleteTag(key: string): Promise<void> {
    await api.registry.models.deleteTag(this.name, key);
    await this.#loadModel();
  }

  /** Aliases show on the model and on its versions, so both are reloaded. */
  async setAlias(alias: string, version: string): Promise<void> {
    await api.registry.aliases.set(this.name, alias.trim(), version);
    await Promise.all([this.#loadModel(), this.loadVersions()]);
  }

  async deleteAlias(alias: string): Promise<void> {
    await api.registry.aliases.delete(this.name, alias);
    await Promise.all([this.#loadModel(), this.loadVersions()]);
  }

  /** Returns the model's new name. */
  async rename(newName: string): Promise<string> {
    return (await api.registry.models.rename(this.name, newName.trim())).registered_model.name;
  }

  async delete(): Promise<void> {
    await api.registry.models.delete(this.name);
  }
}
