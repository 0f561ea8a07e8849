/** The same computation in Node, one thread: the bench runner's baseline. */
export { benchTasks } from "./data";
export { computeColumn } from "../../../app/src/lib/workers/drift/api";
