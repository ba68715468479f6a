/**
 * The client settings for Minutes' `confluence` configuration section and a resolved token, so
 * the publisher and the gateway build identical clients: Cloud gets Basic (e-mail + API token),
 * Data Center a Bearer personal access token, and a `cloud_id` routes a scoped token through the
 * api.atlassian.com gateway.
 */
import type { MinutesConfig } from "@minutes/contracts";
import type { Redacted } from "effect";
import { type ConfluenceClientConfig, detectDeployment } from "./ConfluenceClientConfig.js";

/** Builds a {@link ConfluenceClientConfig} from the `confluence` section; `extras` win. */
export const clientConfigFromSettings = (
  settings: MinutesConfig["confluence"],
  token: Redacted.Redacted<string>,
  extras: Partial<ConfluenceClientConfig> = {},
): ConfluenceClientConfig => {
  const deployment = settings.deployment ?? detectDeployment(settings.base_url);
  return {
    baseUrl: settings.base_url,
    deployment,
    auth:
      deployment === "cloud" ? { type: "basic", email: settings.username, token } : { type: "bearer", token },
    ...(settings.cloud_id !== null ? { cloudId: settings.cloud_id, scopedToken: true } : {}),
    timeoutMs: Math.round(settings.timeout * 1000),
    maxRetries: settings.max_retries,
    retryDelayMs: Math.round(settings.retry_delay * 1000),
    locale: settings.locale,
    ...(settings.ca_file !== null ? { caFile: settings.ca_file } : {}),
    ...extras,
  };
};
