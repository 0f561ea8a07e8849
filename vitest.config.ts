/**
 * Three test levels, one command (`npm test`):
 * - unit: pure modules in Node (tests/lib, *.unit.test.ts)
 * - worker: the API inside workerd with real D1/R2/Durable Object bindings (tests/worker, *.api.test.ts)
 * - e2e: a real `wrangler dev` driven over HTTP and by headless Chromium (tests/e2e, *.e2e.test.ts)
 */
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    projects: [
      {
        // Some unit tests push a million points through an algorithm: give them room on a busy machine.
        test: { name: "unit", include: ["tests/lib/**/*.unit.test.ts"], environment: "node", testTimeout: 60_000 },
      },
      {
        plugins: [
          cloudflareTest(async () => ({
            main: "./worker/index.ts",
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              bindings: {
                TEST_MIGRATIONS: await readD1Migrations("drizzle"),
                // The fuzz suite's size and seed (tests/worker/fuzz.api.test.ts); `npm run fuzz` raises the size.
                FUZZ_REQUESTS: process.env.FUZZ_REQUESTS ?? "",
                FUZZ_SEED: process.env.FUZZ_SEED ?? "",
              },
            },
          })),
        ],
        test: {
          name: "worker",
          include: ["tests/worker/**/*.api.test.ts"],
          setupFiles: ["./tests/worker/apply-migrations.ts"],
        },
      },
      {
        test: {
          name: "e2e",
          include: ["tests/e2e/**/*.e2e.test.ts"],
          environment: "node",
          globalSetup: ["./tests/e2e/global-setup.ts"],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
