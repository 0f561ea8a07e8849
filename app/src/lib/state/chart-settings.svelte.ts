/**
 * How metric charts are drawn (x axis, log-scale y, smoothing), shared by the run and compare pages
 * and remembered in this browser, as TensorBoard and W&B keep them across runs.
 */
import { MAX_SMOOTHING } from "$lib/charts/smoothing";
import type { XAxisMode } from "$lib/charts/metric-series";

const STORAGE_KEY = "tern.chart-settings";
const X_MODES: readonly XAxisMode[] = ["step", "relative", "wall"];

interface Stored {
  xMode?: unknown;
  logY?: unknown;
  smoothing?: unknown;
}

function read(): Stored {
  try {
    return typeof localStorage === "undefined" ? {} : ((JSON.parse(localStorage.getItem(STORAGE_KEY) ?? "{}") as Stored) ?? {});
  } catch {
    return {};
  }
}

export class ChartSettings {
  #xMode = $state<XAxisMode>("step");
  #logY = $state(false);
  #smoothing = $state(0);

  constructor() {
    const stored = read();
    if (X_MODES.includes(stored.xMode as XAxisMode)) this.#xMode = stored.xMode as XAxisMode;
    if (typeof stored.logY === "boolean") this.#logY = stored.logY;
    if (typeof stored.smoothing === "number" && stored.smoothing >= 0 && stored.smoothing <= MAX_SMOOTHING) this.#smoothing = stored.smoothing;
  }

  get xMode(): XAxisMode {
    return this.#xMode;
  }
  set xMode(mode: XAxisMode) {
    this.#xMode = mode;
    this.#save();
  }

  get logY(): boolean {
    return this.#logY;
  }
  set logY(on: boolean) {
    this.#logY = on;
    this.#save();
  }

  get smoothing(): number {
    return this.#smoothing;
  }
  set smoothing(weight: number) {
    this.#smoothing = Math.min(Math.max(Number(weight) || 0, 0), MAX_SMOOTHING);
    this.#save();
  }

  #save(): void {
    try {
      localStorage.setItem(STORAGE_KEY, JSON.stringify({ xMode: this.#xMode, logY: this.#logY, smoothing: this.#smoothing }));
    } catch {
      // Private windows may refuse storage; the settings still apply to this page.
    }
  }
}

export const chartSettings = new ChartSettings();
