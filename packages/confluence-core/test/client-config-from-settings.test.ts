import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, assert, describe, it } from "@effect/vitest";
import { checkCaFile, checkProxyConfig } from "../src/index.js";

const dir = mkdtempSync(join(tmpdir(), "minutes-ca-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

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
