/**
 * A DVC HTTP remote over the dataset content store, mounted at /dvc: DVC 3 keeps objects at
 * files/md5/<2 hex>/<30 hex>[.dir]. GET (which DVC also uses to ask whether an object exists) and HEAD
 * stream the object, POST or PUT (`dvc remote modify <r> method PUT`) store it. Objects DVC pushes are
 * ordinary blobs, so content pushed by DVC and by Tern's own uploads is stored once.
 */
import { Hono, type Context } from "hono";
import type { AppEnv } from "../env";
import { blobResponse, contentLength } from "./routes";

export const DVC_PREFIX = "/dvc";

function objectPath(c: Context<AppEnv>): string {
  const pathname = new URL(c.req.url).pathname;
  return pathname.slice(pathname.indexOf("/files/md5/") + "/files/md5/".length);
}

export const dvcRoutes = new Hono<AppEnv>();

dvcRoutes.get("/files/md5/*", async (c) => {
  const rest = objectPath(c);
  const d = await c.var.services.datasets.dvcDownload(rest, c.req.header("range") ?? null);
  return blobResponse(c, d, { name: rest.split("/").pop() ?? "object", contentType: "application/octet-stream" });
});

const upload = async (c: Context<AppEnv>) => {
  const r = await c.var.services.datasets.dvcUpload(objectPath(c), c.req.raw.body, contentLength(c));
  return c.body(null, r.created ? 201 : 200);
};
dvcRoutes.post("/files/md5/*", upload);
dvcRoutes.put("/files/md5/*", upload);
