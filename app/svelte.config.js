import adapter from "@sveltejs/adapter-static";
import { vitePreprocess } from "@sveltejs/vite-plugin-svelte";

/** @type {import('@sveltejs/kit').Config} */
export default {
  preprocess: vitePreprocess(),
  kit: {
    // A single-page app served by the Worker as static assets; unknown paths fall back to index.html.
    adapter: adapter({ pages: "build", assets: "build", fallback: "index.html", strict: true }),
  },
};
