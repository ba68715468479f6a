/**
 * The client settings for Minutes' `confluence` configuration section and a resolved token, so
 * the publisher and the gateway build identical clients: Cloud gets Basic (e-mail + API token),
 * Data Center a Bearer personal access token, or Basic with the user name and password when
 * `auth_method` is `basic`, and a `cloud_id` routes a scoped token through the api.atlassian.com
 * gateway. `checkCaFile`, `checkProxyConfig` and `proxyConfigFromEnv` let both
 * check at start what the client would otherwise refuse only when it is first made (at the first
 * message, and again at each).
 */
import { readFileSync } from "node:fs";
import type { MinutesConfig } from "@minutes/contracts";
import { Either, type Redacted } from "effect";
import {
  type ConfluenceClientConfig,
  type ConfluenceProxyConfig,
  detectDeployment,
  proxyUrlProblem,
} from "./ConfluenceClientConfig.js";

/**
 * What the secret resolved for `base_url` and `username` (vault or `api_token`) is: the user's
 * `password` when Data Center is signed in to with Basic (`auth_method: "basic"` on a deployment
 * that is not Cloud, configured or detected), else a `token` (a Cloud API token, a Data Center
 * personal access token). Messages about a missing secret name it so, never showing it.
 */
export const confluenceCredentialOf = (settings: MinutesConfig["confluence"]): "token" | "password" =>
  settings.auth_method === "basic" && (settings.deployment ?? detectDeployment(settings.base_url)) !== "cloud"
    ? "password"
    : "token";

/**
 * Builds a {@link ConfluenceClientConfig} from the `confluence` section; `extras` win. `token` is
 * the secret resolved for `base_url` and `username` (vault or `api_token`): an API token on Cloud,
 * a personal access token on Data Center, or the user's password with `auth_method: "basic"`
 * (Basic on Data Center; on Cloud, Basic is what `token` already sends, with an API token).
 */
export const clientConfigFromSettings = (
  settings: MinutesConfig["confluence"],
  token: Redacted.Redacted<string>,
  extras: Partial<ConfluenceClientConfig> = {},
): ConfluenceClientConfig => {
  const deployment = settings.deployment ?? detectDeployment(settings.base_url);
  return {
    baseUrl: settings.base_url,
    // Only a configured deployment is passed on: the client then knows a detected one is a guess
    // and says so in its credential errors (a Cloud site on a custom domain is detected as DC).
    ...(settings.deployment !== null ? { deployment } : {}),
    auth:
      deployment === "cloud" || confluenceCredentialOf(settings) === "password"
        ? { type: "basic", email: settings.username, token }
        : { type: "bearer", token },
    ...(settings.cloud_id !== null ? { cloudId: settings.cloud_id, scopedToken: true } : {}),
    timeoutMs: Math.round(settings.timeout * 1000),
    maxRetries: settings.max_retries,
    retryDelayMs: Math.round(settings.retry_delay * 1000),
    locale: settings.locale,
    ...(settings.ca_file !== null ? { caFile: settings.ca_file } : {}),
    ...extras,
  };
};

/**
 * Checks `confluence.ca_file` at start, before connecting anywhere: throws an `Error` naming the
 * key and the path when the file cannot be read or holds no PEM certificate; `null` passes. The
 * client reads the file only when it is first made (the gateway's first Confluence request, the
 * publisher's first message), which would fail long after a start that looked fine, and in the
 * publisher on every delivery. Synchronous on purpose: it is for start code, not for effects.
 */
export const checkCaFile = (path: string | null): void => {
  if (path === null) return;
  let pem: string;
  try {
    pem = readFileSync(path, "utf8");
  } catch (error) {
    throw new Error(
      `confluence.ca_file: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? "error"})`,
    );
  }
  if (!pem.includes("-----BEGIN CERTIFICATE-----"))
    throw new Error(
      `confluence.ca_file: ${path} holds no PEM certificate (no -----BEGIN CERTIFICATE----- line)`,
    );
};

/**
 * Checks proxy settings at start: throws an `Error` whose one-line message names the setting and
 * what is wrong, never the URL (it may hold a password). `names` gives the settings' names as the
 * operator knows them (e.g. `{ httpsProxy: "HTTPS_PROXY" }`); default `proxy.httpsProxy` etc.
 * Empty values mean "no proxy" and pass.
 */
export const checkProxyConfig = (
  proxy: ConfluenceProxyConfig | undefined,
  names: Partial<Record<"httpsProxy" | "httpProxy", string>> = {},
): void => {
  for (const field of ["httpsProxy", "httpProxy"] as const) {
    const value = proxy?.[field];
    const problem = value ? proxyUrlProblem(value) : undefined;
    if (problem !== undefined) throw new Error(`${names[field] ?? `proxy.${field}`}: ${problem}`);
  }
};

/**
 * The proxy for Confluence requests from `HTTPS_PROXY` / `HTTP_PROXY` / `NO_PROXY` (or their
 * lowercase forms), or why it cannot be used: one line naming the variable, never its value (a
 * proxy URL may carry `user:password@`).
 */
export const proxyConfigFromEnv = (
  env: Readonly<Record<string, string | undefined>>,
): Either.Either<ConfluenceProxyConfig, string> => {
  const httpsProxy = env.HTTPS_PROXY || env.https_proxy;
  const httpProxy = env.HTTP_PROXY || env.http_proxy;
  const noProxy = env.NO_PROXY || env.no_proxy;
  const proxy = {
    ...(httpsProxy ? { httpsProxy } : {}),
    ...(httpProxy ? { httpProxy } : {}),
    ...(noProxy ? { noProxy } : {}),
  };
  try {
    checkProxyConfig(proxy, {
      httpsProxy: env.HTTPS_PROXY ? "HTTPS_PROXY" : "https_proxy",
      httpProxy: env.HTTP_PROXY ? "HTTP_PROXY" : "http_proxy",
    });
  } catch (error) {
    return Either.left((error as Error).message);
  }
  return Either.right(proxy);
};
