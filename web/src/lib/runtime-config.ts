// Settings a deployment gives the static build without rebuilding it: `/config.json`, written
// next to `index.html` by the upload step (see README, "Deploying the pages"). Absent locally,
// where the dev sign-in stands in for the identity provider.
import type { OidcSettings } from "@/auth/oidc";

export interface RuntimeConfig {
  oidc?: OidcSettings;
}

let loaded: Promise<RuntimeConfig> | null = null;

export function runtimeConfig(): Promise<RuntimeConfig> {
  loaded ??= fetch("/config.json", { headers: { accept: "application/json" } })
    .then(async (response) => (response.ok && response.headers.get("content-type")?.includes("json") ? ((await response.json()) as RuntimeConfig) : {}))
    .catch(() => ({}));
  return loaded;
}
