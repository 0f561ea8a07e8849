/** Shared fixtures of the monitoring API tests: a registered model and a drift summary body. */
import { call } from "./helpers";

const mode = "open" as const;

export async function registeredModel(name = `model-${crypto.randomUUID().slice(0, 8)}`): Promise<string> {
  const res = await call("POST", "/api/2.0/mlflow/registered-models/create", { mode, body: { name } });
  if (res.status !== 200) throw new Error(`model creation failed: ${res.status} ${res.text}`);
  return name;
}

export function summary(driftShare: number, columns: { column: string; score: number | null; drifted: boolean }[], performance?: Record<string, number>) {
  const drifted = columns.filter((c) => c.drifted).length;
  return {
    summary: {
      dataset_drift: driftShare >= 0.5,
      drift_share: driftShare,
      number_of_columns: columns.length,
      number_of_drifted_columns: drifted,
      columns: columns.map((c) => ({ column: c.column, type: "num", method: "ks", threshold: 0.05, score: c.score, drifted: c.drifted, statistic: 0.1, p_value: c.score })),
      ...(performance ? { performance } : {}),
    },
    reference: { name: "train.csv", rows: 1000 },
    current: { name: "prod-week-1.csv", rows: 800 },
    sample_size: 800,
  };
}

