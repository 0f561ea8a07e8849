/** The database handle every store takes: drizzle over D1, with the raw D1 client for batch-heavy SQL. */
import { drizzle, type DrizzleD1Database } from "drizzle-orm/d1";

export type Db = DrizzleD1Database & { $client: D1Database };

export const createDb = (d1: D1Database): Db => drizzle(d1);
