// Bindings that only the test pool adds.
declare namespace Cloudflare {
  interface Env {
    TEST_MIGRATIONS: import("cloudflare:test").D1Migration[];
    FUZZ_REQUESTS: string;
    FUZZ_SEED: string;
  }
}
