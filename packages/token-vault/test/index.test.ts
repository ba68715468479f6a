import { describe, expect, it } from "vitest";
import * as TokenVaultPackage from "../src/index.js";

describe("the package entry point", () => {
  it("exports exactly the documented public API", () => {
    expect(Object.keys(TokenVaultPackage).sort()).toEqual([
      "CURRENT_ENVELOPE_VERSION",
      "CURRENT_FILE_VERSION",
      "DEFAULT_KDF",
      "ExitCode",
      "TokenUnavailableError",
      "TokenVault",
      "VaultCorruptError",
      "VaultEntryNotFoundError",
      "VaultInvalidInputError",
      "VaultIoError",
      "VaultWrongPasswordError",
      "changePassword",
      "defaultVaultFile",
      "deleteToken",
      "listSavedTokens",
      "loadEncryptedToken",
      "normalizeUrl",
      "resolveConfluenceToken",
      "runCli",
      "saveEncryptedToken",
      "vaultFileFromEnv",
    ]);
  });
});
