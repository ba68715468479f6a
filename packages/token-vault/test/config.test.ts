import { describe, expect, it } from "vitest";
import { vaultFileFromEnv } from "../src/index.js";

describe("vaultFileFromEnv", () => {
  it("prefers VAULT_FILE, then XDG_CONFIG_HOME, then ~/.config", () => {
    expect(vaultFileFromEnv({ VAULT_FILE: "/v/t.vault", XDG_CONFIG_HOME: "/xdg" }, "/home/me")).toBe(
      "/v/t.vault",
    );
    expect(vaultFileFromEnv({ XDG_CONFIG_HOME: "/xdg" }, "/home/me")).toBe("/xdg/minutes/tokens.vault");
    expect(vaultFileFromEnv({}, "/home/me")).toBe("/home/me/.config/minutes/tokens.vault");
  });

  it("ignores empty values and a relative XDG_CONFIG_HOME", () => {
    expect(vaultFileFromEnv({ VAULT_FILE: "", XDG_CONFIG_HOME: "relative" }, "/home/me")).toBe(
      "/home/me/.config/minutes/tokens.vault",
    );
  });
});
