import { describe, expect, it } from "vitest";
import * as TokenVaultPackage from "../src/index.js";

describe("the package entry point", () => {
  it("exports exactly the documented public API", () => {
    expect(Object.keys(TokenVaultPackage).sort()).toEqual([
      "CURRENT_ENVELOPE_VERSION",
      "CURRENT_FILE_VERSION",
      "DEFAULT_KDF",
      "DEFAULT_TOKEN_EXPIRY_WARNING_DAYS",
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
      "loadEncryptedTokenWithInfo",
      "normalizeUrl",
      "resolveConfluenceToken",
      "runCli",
      "saveEncryptedToken",
      "setTokenExpiry",
      "tokenExpiredNote",
      "tokenExpiryNotice",
      "tokenExpiryState",
      "tokenRotationAdvice",
      "vaultFileFromEnv",
    ]);
  });
});
