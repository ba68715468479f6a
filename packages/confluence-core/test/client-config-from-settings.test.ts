import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, assert, describe, it } from "@effect/vitest";
import { defaultConfig, MinutesConfig } from "@minutes/contracts";
import { Redacted, Schema } from "effect";
import {
  checkCaFile,
  checkProxyConfig,
  clientConfigFromSettings,
  confluenceCredentialOf,
} from "../src/index.js";

const dir = mkdtempSync(join(tmpdir(), "minutes-ca-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("clientConfigFromSettings", () => {
  const settings = (over: Partial<MinutesConfig["confluence"]>): MinutesConfig["confluence"] => ({
    ...Schema.decodeUnknownSync(MinutesConfig)(defaultConfig).confluence,
    username: "minutes-bot",
    ...over,
  });
  const secret = Redacted.make("secret-of-the-bot");
  const authOf = (over: Partial<MinutesConfig["confluence"]>) => {
    const { auth } = clientConfigFromSettings(settings(over), secret);
    return auth.type === "basic" ? { type: auth.type, email: auth.email } : { type: auth.type };
  };

  it("sends the user name and password as Basic to Data Center with auth_method basic; a token and Cloud as before", () => {
    for (const deployment of [null, "datacenter"] as const)
      assert.deepStrictEqual(
        authOf({ base_url: "https://wiki.acme.example", auth_method: "basic", deployment }),
        { type: "basic", email: "minutes-bot" },
      );
    // The default, `token`: a Data Center PAT as Bearer, a Cloud API token as Basic with the e-mail.
    assert.deepStrictEqual(authOf({ base_url: "https://wiki.acme.example" }), { type: "bearer" });
    assert.deepStrictEqual(authOf({ base_url: "https://acme.atlassian.net/wiki" }), {
      type: "basic",
      email: "minutes-bot",
    });
    // Cloud takes no passwords: `basic` there is what `token` is, also for a scoped token.
    const cloud = { base_url: "https://acme.atlassian.net/wiki", username: "bot@acme.example" } as const;
    const scoped = { ...cloud, cloud_id: "11111111-2222-3333-4444-555555555555" };
    for (const site of [cloud, scoped])
      assert.deepStrictEqual(
        clientConfigFromSettings(settings({ ...site, auth_method: "basic" }), secret),
        clientConfigFromSettings(settings({ ...site, auth_method: "token" }), secret),
      );
  });

  it("calls the secret a password only where Basic signs in to Data Center with it", () => {
    const dc = "https://wiki.acme.example";
    const cloud = "https://acme.atlassian.net/wiki";
    const kinds = [
      { base_url: dc, auth_method: "basic", deployment: null },
      { base_url: dc, auth_method: "basic", deployment: "datacenter" },
      { base_url: dc, auth_method: "token", deployment: null },
      { base_url: cloud, auth_method: "basic", deployment: null },
      { base_url: dc, auth_method: "basic", deployment: "cloud" },
    ] as const;
    assert.deepStrictEqual(
      kinds.map((k) => confluenceCredentialOf(settings(k))),
      ["password", "password", "token", "token", "token"],
    );
  });
});

describe("checkCaFile", () => {
  it("passes when no CA file is configured", () => {
    assert.doesNotThrow(() => checkCaFile(null));
  });

  it("passes a file with a PEM certificate", () => {
    assert.doesNotThrow(() =>
      checkCaFile(fileURLToPath(new URL("fixtures/localhost-test.cert.pem", import.meta.url))),
    );
  });

  it("names the key, the path and the reason when the file cannot be read", () => {
    const missing = join(dir, "missing.pem");
    assert.throws(() => checkCaFile(missing), `confluence.ca_file: cannot read ${missing} (ENOENT)`);
  });

  it("refuses a readable file that holds no PEM certificate", () => {
    const file = join(dir, "key-only.pem");
    writeFileSync(file, "-----BEGIN PRIVATE KEY-----\n");
    assert.throws(
      () => checkCaFile(file),
      `confluence.ca_file: ${file} holds no PEM certificate (no -----BEGIN CERTIFICATE----- line)`,
    );
  });
});

describe("checkProxyConfig", () => {
  it("passes no proxy, empty values and proxy URLs with or without credentials", () => {
    checkProxyConfig(undefined);
    checkProxyConfig({ httpsProxy: "", httpProxy: "" });
    checkProxyConfig({ httpsProxy: "http://user:pw@proxy:3128", httpProxy: "https://proxy:3129" });
  });

  it("throws one line naming the setting, never its value", () => {
    assert.throws(
      () => checkProxyConfig({ httpsProxy: "proxyuser:pw-secret@proxy:3128" }, { httpsProxy: "HTTPS_PROXY" }),
      "HTTPS_PROXY: must be an http:// or https:// URL (expected http://[user:password@]host:port)",
    );
    assert.throws(
      () => checkProxyConfig({ httpProxy: "http://u:pw-secret@[x" }),
      /^proxy\.httpProxy: not a valid/,
    );
  });
});
