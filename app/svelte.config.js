import adapter from "@sveltejs/adapter-static";
import { vitePreprocess } from "@sveltejs/vite-plugin-svelte";

/** @type {import('@sveltejs/kit').Config} */
export default {
  preprocess: vitePreprocess(),
  kit: {
    // A single-page app served by the Worker as static assets; unknown paths fall back to index.html.
    adapter: adapter({ pages: "build", assets: "build", fallback: "index.html", strict: true }),
    // The page's Content-Security-Policy, written into index.html as a <meta> tag with the hash of
    // Kit's inline bootstrap script (so no 'unsafe-inline' for scripts). Directives a <meta> policy
    // cannot carry (frame-ancestors) come as headers from static/_headers.
    csp: {
      mode: "hash",
      directives: {
        "default-src": ["self"],
        "script-src": ["self"],
        // The drift pools and the dataset hasher are module workers built as same-origin files.
        "worker-src": ["self"],
        "connect-src": ["self"],
        // Artifact and dataset previews are shown from blob: URLs; chart tooltips may use data: images.
        "img-src": ["self", "data:", "blob:"],
        "font-src": ["self", "data:"],
        // Svelte renders style="..." attributes from its templates and the drift page adds one <style>
        // element; none of them carries user text, so 'unsafe-inline' here cannot run anything.
        "style-src": ["self", "unsafe-inline"],
        "object-src": ["none"],
        "base-uri": ["self"],
        "form-action": ["self"],
      },
    },
  },
};
