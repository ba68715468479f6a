// The gateway's Confluence client against a Data Center sandbox with `confluence.auth_method:
// "basic"`: the health check signs in with the user name and the password, taken from the vault
// entry for the site and user like a token; a wrong password is refused with a detail that names
// the password (not a personal access token) and never shows it. Real NATS, SQLite and sandbox.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Sandbox, startSandbox } from "@minutes/confluence-sandbox";
import { loadConfig, type MinutesConfig } from "@minutes/contracts";
import { saveEncryptedToken } from "@minutes/token-vault";
import { Either, Redacted } from "effect";
import { afterEach, describe, expect, it } from "vitest";
import { type RunningServer, startServer } from "../src/server.js";
import { cleanUp } from "./helpers/clean-up.js";
import { deleteStreams, NATS_URL, unique } from "./helpers/harness.js";

let server: RunningServer | undefined;
let config: MinutesConfig | undefined;
let sandbox: Sandbox | undefined;
let dir: string | undefined;
afterEach(async () => {
  const [s, c, sb, d] = [server, config, sandbox, dir];
  server = undefined;
  config = undefined;
  sandbox = undefined;
  dir = undefined;
  await cleanUp(
    () => s?.stop(),
    () => (c ? deleteStreams(c) : undefined),
    () => sb?.close(),
    () => (d ? rm(d, { recursive: true, force: true }) : undefined),
  );
});

/** The bot, with a password other than its personal access token (which must not be what signs in). */
const bot = {
  accountId: "",
  email: "minutes-bot@example.com",
  displayName: "Minutes Bot",
  token: "pat-of-minutes-bot",
  password: "pw-of-minutes-bot",
};

/** A gateway on a Data Center sandbox that signs in with Basic as `username`, reading the vault. */
const basicAuthGateway = async (o: { readonly username: string; readonly apiToken: string }) => {
  dir = await mkdtemp(join(tmpdir(), "minutes-gateway-basic-"));
  sandbox = await startSandbox({ mode: "datacenter", port: 0, users: [bot] });
  const id = unique();
  config = Either.getOrThrow(
    loadConfig({
      env: { MINUTES_CONFLUENCE__AUTH_METHOD: "basic" },
      overrides: {
        nats: { url: NATS_URL, stream: `T_${id}`, subject_prefix: `t_${id}` },
        database: { sqlite_path: join(dir, "store.sqlite") },
        gateway: { port: 0, api_keys: ["server-key-123"] },
        confluence: {
          enabled: true,
          deployment: "datacenter",
          base_url: sandbox.baseUrl,
          username: o.username,
          api_token: o.apiToken,
          max_retries: 0,
        },
        vault: { file: join(dir, "tokens.vault"), password: "vault-pw-basic" },
        logging: { level: "silent" },
      },
    }),
  );
  return { sandbox, config };
};

describe("the gateway's Confluence access with Basic auth on Data Center", () => {
  it("checks Confluence with the user name and the password from the vault", async () => {
    const { sandbox, config } = await basicAuthGateway({ username: "minutes-bot", apiToken: "" });
    expect(sandbox.user.username).toBe("minutes-bot");
    await saveEncryptedToken({
      file: config.vault.file as string,
      kdf: { N: 1024, r: 8, p: 1 },
      url: sandbox.baseUrl,
      username: "minutes-bot",
      token: Redacted.make(bot.password),
      password: Redacted.make("vault-pw-basic"),
    });
    server = await startServer(config);
    const res = await fetch(`${server.address}/health/confluence`, {
      headers: { authorization: "Bearer server-key-123" },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      status: "ok",
      deployment: "datacenter",
      user: { username: "minutes-bot", displayName: sandbox.user.displayName },
    });
  });

  it("says that there is no password for the user name (not a token) until one is saved in the vault", async () => {
    const { sandbox, config } = await basicAuthGateway({ username: "minutes-bot", apiToken: "" });
    const file = config.vault.file as string;
    // The vault holds the PAT of another site's user only: nothing for this site and user.
    await saveEncryptedToken({
      file,
      kdf: { N: 1024, r: 8, p: 1 },
      url: "https://other.example.com/wiki",
      username: "minutes-bot",
      token: Redacted.make(bot.token),
      password: Redacted.make("vault-pw-basic"),
    });
    server = await startServer(config);
    const res = await fetch(`${server.address}/health/confluence`, {
      headers: { authorization: "Bearer server-key-123" },
    });
    const body = await res.text();
    expect(res.status).toBe(503);
    const detail = (JSON.parse(body) as { detail: string }).detail;
    expect(detail).toBe(
      `No Confluence password for the user minutes-bot (confluence.auth_method basic): vault ${file}: No password saved for minutes-bot at ${sandbox.baseUrl} in ${file}. Add it (\`./minutes vault add --url ${sandbox.baseUrl} --username minutes-bot\`, giving the password as the token) or set confluence.api_token to the password.: set confluence.enabled, confluence.base_url, confluence.username and the password of that user (confluence.api_token, or the token vault: vault.file and vault.password, its entry for the site and user) and restart the gateway; a password added to the vault is used without a restart. Retrying will not help until then`,
    );
    expect(detail).not.toMatch(/token:|a token \(/);
    for (const secret of ["vault-pw-basic", bot.password, bot.token]) expect(body).not.toContain(secret);
    const status = async () =>
      (
        (await (
          await fetch(`${server?.address}/status/confluence`, {
            headers: { authorization: "Bearer server-key-123" },
          })
        ).json()) as { tokenSource: string }
      ).tokenSource;
    expect(await status()).toBe("none");

    // The password saved for the site and user: used without a restart.
    await saveEncryptedToken({
      file,
      kdf: { N: 1024, r: 8, p: 1 },
      url: sandbox.baseUrl,
      username: "minutes-bot",
      token: Redacted.make(bot.password),
      password: Redacted.make("vault-pw-basic"),
    });
    expect(await status()).toBe("vault");
    const fixed = await fetch(`${server.address}/health/confluence`, {
      headers: { authorization: "Bearer server-key-123" },
    });
    expect(fixed.status).toBe(200);
    expect(await fixed.json()).toMatchObject({ status: "ok", user: { username: "minutes-bot" } });
  });

  it("keeps the token wording on Data Center without auth_method basic", async () => {
    await basicAuthGateway({ username: "minutes-bot", apiToken: "" });
    const tokenConfig = {
      ...(config as MinutesConfig),
      confluence: { ...(config as MinutesConfig).confluence, auth_method: "token" as const },
    };
    server = await startServer(tokenConfig);
    const res = await fetch(`${server.address}/health/confluence`, {
      headers: { authorization: "Bearer server-key-123" },
    });
    expect(res.status).toBe(503);
    const detail = ((await res.json()) as { detail: string }).detail;
    expect(detail).toMatch(/^No Confluence token: vault .*: No token saved for minutes-bot at /);
    expect(detail).toContain("and a token (confluence.api_token, or the token vault");
    expect(detail).not.toContain("password of");
  });

  it("says that Data Center refused the user name and password, without the password", async () => {
    await basicAuthGateway({ username: "minutes-bot", apiToken: "wrong-password-871" });
    server = await startServer(config as MinutesConfig);
    const res = await fetch(`${server.address}/health/confluence`, {
      headers: { authorization: "Bearer server-key-123" },
    });
    const body = await res.text();
    expect(res.status).toBe(503);
    const detail = (JSON.parse(body) as { detail: string }).detail;
    expect(detail).toMatch(
      /^Confluence check failed \(ConfluenceAuthenticationError\): Confluence authentication failed \[GET \/rest\/api\/user\/current → 401\]/,
    );
    expect(detail).toContain("Data Center refused the user name and password (Basic auth");
    expect(detail).not.toContain("personal access token");
    for (const secret of [
      "wrong-password-871",
      Buffer.from("minutes-bot:wrong-password-871").toString("base64"),
      bot.token,
    ])
      expect(body).not.toContain(secret);
  });
});
