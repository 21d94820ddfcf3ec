import { defineConfig } from "vitest/config";
import react from "@vitejs/plugin-react";
import tailwindcss from "@tailwindcss/vite";
import { fileURLToPath } from "node:url";

// Static files only: the local server (and CloudFront in production) serves them on the API's
// origin, so the app calls `/api/billing/...` with no CORS and no configured base URL.
export default defineConfig({
  plugins: [react(), tailwindcss()],
  resolve: { alias: { "@": fileURLToPath(new URL("./src", import.meta.url)) } },
  build: {
    target: "es2022",
    sourcemap: false,
    // Charts load lazily (their own chunk); the first load stays small.
    chunkSizeWarningLimit: 600,
  },
  server: {
    // `npm run dev` in web/ proxies the API to a running `make dev`.
    proxy: { "/api": process.env.BILLING_URL ?? "http://127.0.0.1:8787", "/_local": process.env.BILLING_URL ?? "http://127.0.0.1:8787" },
  },
  test: { include: ["src/**/*.test.ts", "src/**/*.test.tsx"], environment: "node" },
});
