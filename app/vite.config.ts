import { sveltekit } from "@sveltejs/kit/vite";
import tailwindcss from "@tailwindcss/vite";
import { defineConfig } from "vite";

export default defineConfig({
  plugins: [tailwindcss(), sveltekit()],
  worker: { format: "es" },
  server: {
    // `npm run app:dev` proxies the API to a running `npm run dev`.
    proxy: { "/api": "http://127.0.0.1:8787", "/ajax-api": "http://127.0.0.1:8787" },
  },
});
