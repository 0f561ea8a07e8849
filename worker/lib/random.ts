/**
 * Small seeded randomness for reproducible data: drift-check row sampling and the generated tables
 * that tests and benchmarks pin values against. Not for samplers (worker/lib/tuning/random.ts owns
 * their persisted-state generator) and not for anything secret.
 */

/** mulberry32: one 32-bit word of state; uniform doubles in [0, 1), the same stream on every engine. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A standard normal deviate by Box–Muller from two draws of `rand` (the first feeds the log, as
 * 1 − u so it is never log 0). Pinned test data depends on this draw order.
 */
export function standardNormal(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}
