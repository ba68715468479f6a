import { chmod, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Redacted } from "effect";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runCli, saveEncryptedToken } from "../src/index.js";
import { fakeTty, pipedIo, withOutputs } from "./helpers/fake-io.js";
import { FAST_KDF, makeTempVault, type TempVault } from "./helpers/temp-vault.js";

const TOKEN = "ATATT-cli-plaintext-token-✓";
const PASSWORD = "cli password";
const URL = "https://example.atlassian.net/wiki";
const key = ["--url", URL, "--username", "alice@example.com"];

let temp: TempVault;
let env: Record<string, string>;
beforeEach(async () => {
  temp = await makeTempVault();
  env = { VAULT_FILE: temp.file };
});
afterEach(async () => {
  await temp.cleanup();
});

const vaultOptions = () => ({ file: temp.file, kdf: FAST_KDF });

const add = async (token = TOKEN) => {
  const io = pipedIo({ ...env, VAULT_PASSWORD: PASSWORD }, `${token}\n`);
  expect(await runCli(["add", ...key], io)).toBe(0);
  return io;
};

describe("runCli", () => {
  it("adds a token read from stdin and prints it with get", async () => {
    const added = await add();
    expect(added.out()).toBe(`Saved the token for alice@example.com at ${URL} in ${temp.file}.\n`);
    const io = pipedIo({ ...env, VAULT_PASSWORD: PASSWORD });
    expect(await runCli(["get", ...key], io)).toBe(0);
    expect(io.out()).toBe(`${TOKEN}\n`);
    expect(io.err()).toBe("");
  });

  it("reads the password from the first stdin line and the token from the second", async () => {
    const io = pipedIo(env, `${PASSWORD}\r\n  ${TOKEN}  \n`);
    expect(await runCli(["add", ...key], io)).toBe(0);
    const get = pipedIo(env, `${PASSWORD}\n`);
    expect(await runCli(["get", ...key], get)).toBe(0);
    expect(get.out()).toBe(`${TOKEN}\n`);
  });

  it("exits 2 when stdin ends before the token", async () => {
    const io = pipedIo(env, `${PASSWORD}\n`);
    expect(await runCli(["add", ...key], io)).toBe(2);
    expect(io.err()).toBe("minutes-vault: standard input ended before line 2 (Confluence token)\n");
  });

  it("prompts on a terminal without echoing the password or the token", async () => {
    const stdin = fakeTty();
    const io = withOutputs(env, stdin);
    const running = runCli(["add", ...key], io);
    const typed = [PASSWORD, PASSWORD, TOKEN];
    for (const [i, answer] of typed.entries()) {
      const prompts = ["New vault password: ", "Repeat new vault password: ", "Confluence token: "];
      await waitFor(() => io.err().includes(prompts[i]!));
      stdin.write(`${answer}\r`);
    }
    expect(await running).toBe(0);
    expect(io.err()).toBe("New vault password: \nRepeat new vault password: \nConfluence token: \n");
    expect(io.out()).not.toContain(TOKEN);
  });

  it("exits 130 when the prompt is cancelled with Ctrl-C", async () => {
    const stdin = fakeTty();
    const io = withOutputs(env, stdin);
    const running = runCli(["get", ...key], io);
    await waitFor(() => io.err().includes("Vault password: "));
    stdin.write("\u0003");
    expect(await running).toBe(130);
  });

  it("lists entries without a password and never prints the token", async () => {
    await add();
    const io = pipedIo(env);
    expect(await runCli(["list"], io)).toBe(0);
    const [header, row, extra] = io.out().split("\n");
    expect(header).toMatch(/^URL\s+USERNAME\s+CREATED\s+UPDATED\s+EXPIRES$/);
    expect(row).toMatch(
      new RegExp(
        `^${URL}\\s+alice@example.com\\s+\\d{4}-\\d\\d-\\d\\dT\\S+Z\\s+\\d{4}-\\d\\d-\\d\\dT\\S+Z\\s+-$`,
      ),
    );
    expect(extra).toBe("");
    const json = pipedIo(env);
    expect(await runCli(["list", "--json"], json)).toBe(0);
    // Exactly these fields: an added one (the sealed secret, say) would go to whoever reads the list.
    const iso = expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(JSON.parse(json.out())).toEqual([
      { url: URL, username: "alice@example.com", createdAt: iso, updatedAt: iso, expiresAt: null },
    ]);
    expect(io.out() + json.out() + io.err() + json.err()).not.toContain(TOKEN);
  });

  it("says so when the vault is empty", async () => {
    const io = pipedIo(env);
    expect(await runCli(["list"], io)).toBe(0);
    expect(io.out()).toBe(`No tokens saved in ${temp.file}.\n`);
  });

  it("exits 1 with a clear message for a wrong password or an unknown entry", async () => {
    await add();
    const wrong = pipedIo({ ...env, VAULT_PASSWORD: "nope" });
    expect(await runCli(["get", ...key], wrong)).toBe(1);
    expect(wrong.err()).toBe(`minutes-vault: Wrong password for the token vault ${temp.file}.\n`);
    expect(wrong.out()).toBe("");
    const missing = pipedIo({ ...env, VAULT_PASSWORD: PASSWORD });
    expect(await runCli(["get", "--url", URL, "--username", "bob"], missing)).toBe(1);
    expect(missing.err()).toBe(`minutes-vault: No token saved for bob at ${URL} in ${temp.file}.\n`);
  });

  it("exits 1 for a corrupt vault", async () => {
    await add();
    const json = JSON.parse(await readFile(temp.file, "utf8"));
    json.entries[0].secret.tag = Buffer.alloc(16).toString("base64");
    await writeFile(temp.file, JSON.stringify(json), { mode: 0o600 });
    const io = pipedIo({ ...env, VAULT_PASSWORD: PASSWORD });
    expect(await runCli(["get", ...key], io)).toBe(1);
    expect(io.err()).toContain("is corrupt or was tampered with");
  });

  it("exits 2 for usage errors: missing options, unknown commands, bad URLs, no command", async () => {
    const usage = async (argv: ReadonlyArray<string>) => {
      const io = pipedIo(env);
      const code = await runCli(argv, io);
      return [code, io.out(), io.err()];
    };
    expect(await usage(["get", "--url", URL])).toEqual([
      2,
      "",
      "error: required option '--username <name>' not specified\n(run with --help for usage)\n",
    ]);
    expect(await usage(["frobnicate"])).toEqual([
      2,
      "",
      "error: unknown command 'frobnicate'\n(run with --help for usage)\n",
    ]);
    expect(await usage(["get", "--url", "not a url", "--username", "a"])).toEqual([
      2,
      "",
      "minutes-vault: Invalid url: not an absolute URL (expected e.g. https://example.atlassian.net/wiki).\n",
    ]);
    // No command: the usage, on stderr (stdout may be a script reading a token).
    expect(await usage([])).toEqual([
      2,
      "",
      expect.stringMatching(/^Usage: minutes-vault \[options\] \[command\]\n/),
    ]);
  });

  it("names an unknown option without its value, which may be a secret, and exits 2", async () => {
    const cases: ReadonlyArray<readonly [ReadonlyArray<string>, string]> = [
      [["add", ...key, "--token=SECRET-tok'en"], "--token"],
      [["add", ...key, "-tSECRET-tok'en"], "-t"],
      [["--token=SECRET-tok'en", "list"], "--token"],
    ];
    for (const [argv, name] of cases) {
      const io = pipedIo({ ...env, VAULT_PASSWORD: PASSWORD }, `${TOKEN}\n`);
      expect(await runCli(argv, io), argv.join(" ")).toBe(2);
      expect(io.err()).toContain(`error: unknown option '${name}' (its value is not shown)`);
      expect(io.err() + io.out()).not.toContain("SECRET");
    }
    // Without a value there is nothing to hide: the option is named as typed.
    const io = pipedIo(env);
    expect(await runCli(["list", "--jsn"], io)).toBe(2);
    expect(io.err()).toContain("error: unknown option '--jsn'");
  });

  it("prints help and exits 0 for --help on every command", async () => {
    for (const command of [[], ["add"], ["get"], ["list"], ["expires"], ["delete"], ["change-password"]]) {
      const io = pipedIo(env);
      expect(await runCli([...command, "--help"], io)).toBe(0);
      expect(io.out()).toContain(`Usage: minutes-vault ${command.length === 0 ? "" : command[0]}`.trimEnd());
    }
  });

  it("uses --file over VAULT_FILE, and XDG_CONFIG_HOME when neither is set", async () => {
    const other = join(temp.dir, "other.vault");
    const io = pipedIo({ ...env, VAULT_PASSWORD: PASSWORD }, `${TOKEN}\n`);
    expect(await runCli(["add", "--file", other, ...key], io)).toBe(0);
    expect(io.out()).toContain(other);
    const xdg = pipedIo({ XDG_CONFIG_HOME: join(temp.dir, "xdg") });
    expect(await runCli(["list"], xdg)).toBe(0);
    expect(xdg.out()).toBe(`No tokens saved in ${join(temp.dir, "xdg", "minutes", "tokens.vault")}.\n`);
  });

  it("resolves a relative --file against the working directory it is given", async () => {
    const io = { ...pipedIo({ VAULT_PASSWORD: PASSWORD }, `${TOKEN}\n`), workingDirectory: temp.dir };
    expect(await runCli(["add", "--file", "relative.vault", ...key], io)).toBe(0);
    expect(io.out()).toContain(join(temp.dir, "relative.vault"));
    expect(await readFile(join(temp.dir, "relative.vault"), "utf8")).toContain("minutes-token-vault");
  });

  it("deletes a token with the password", async () => {
    await add();
    const io = pipedIo({ ...env, VAULT_PASSWORD: PASSWORD });
    expect(await runCli(["delete", ...key], io)).toBe(0);
    expect(io.out()).toBe(`Deleted the token for alice@example.com at ${URL} from ${temp.file}.\n`);
    const again = pipedIo({ ...env, VAULT_PASSWORD: PASSWORD });
    expect(await runCli(["delete", ...key], again)).toBe(1);
  });

  it("changes the password with the old one from VAULT_PASSWORD and the new one from stdin", async () => {
    await add();
    const io = pipedIo({ ...env, VAULT_PASSWORD: PASSWORD }, "new password\n");
    expect(await runCli(["change-password"], io)).toBe(0);
    expect(io.out()).toBe(`Changed the vault password of ${temp.file}; re-encrypted 1 token.\n`);
    const get = pipedIo({ ...env, VAULT_PASSWORD: "new password" });
    expect(await runCli(["get", ...key], get)).toBe(0);
    expect(get.out()).toBe(`${TOKEN}\n`);
  });

  it("warns on stderr when the vault file is readable by others", async () => {
    await add();
    await chmod(temp.file, 0o644);
    const io = pipedIo(env);
    expect(await runCli(["list"], io)).toBe(0);
    expect(io.err()).toContain("minutes-vault: warning: ");
    expect(io.err()).toContain("mode 0644");
  });

  it("prints the token and password in no output other than get's stdout", async () => {
    const outputs: Array<string> = [];
    const run = async (argv: Array<string>, io: ReturnType<typeof pipedIo>) => {
      await runCli(argv, io);
      outputs.push(io.out(), io.err());
    };
    await run(["add", ...key], pipedIo(env, `${PASSWORD}\n${TOKEN}\n`));
    await run(["add", ...key], pipedIo({ ...env, VAULT_PASSWORD: "wrong" }, `${TOKEN}\n`));
    await run(["list"], pipedIo(env));
    await run(["list", "--json"], pipedIo(env));
    await run(["get", ...key], pipedIo({ ...env, VAULT_PASSWORD: "wrong" }));
    await run(["get", "--url", URL, "--username", "x"], pipedIo({ ...env, VAULT_PASSWORD: PASSWORD }));
    await run(["add", ...key, "--expires", "90d"], pipedIo(env, `${PASSWORD}\n${TOKEN}\n`));
    await run(["expires", ...key, "--clear"], pipedIo({ ...env, VAULT_PASSWORD: "wrong" }));
    await run(["expires", ...key, "--at", TOKEN], pipedIo({ ...env, VAULT_PASSWORD: PASSWORD }));
    await run(["change-password"], pipedIo(env, `${PASSWORD}\nsecond\n`));
    await run(["delete", ...key], pipedIo({ ...env, VAULT_PASSWORD: "second" }));
    for (const output of outputs) {
      expect(output).not.toContain(TOKEN);
      expect(output).not.toContain(PASSWORD);
    }
    expect(await readFile(temp.file, "utf8")).not.toContain(TOKEN);
  });
});

describe("runCli and token expiry", () => {
  const DAY = 86_400_000;
  // The CLI's clock: relative expiries and the marks in the list follow it, not the machine's.
  const NOW = Date.parse("2026-11-27T10:00:00Z");
  const withKey = (...args: Array<string>) => [...args, ...key];
  const run = async (argv: Array<string>, input = "", extraEnv: Record<string, string> = {}) => {
    const io = { ...pipedIo({ ...env, VAULT_PASSWORD: PASSWORD, ...extraEnv }, input), now: () => NOW };
    const code = await runCli(argv, io);
    return { code, out: io.out(), err: io.err() };
  };
  const listJson = async () => {
    const listed = await run(["list", "--json"]);
    expect(listed.code).toBe(0);
    return JSON.parse(listed.out) as Array<{ url: string; username: string; expiresAt: string | null }>;
  };

  it("records the expiry given to add as a date, a date-time or a number of days", async () => {
    const dated = await run(withKey("add", "--expires", "2026-12-05"), `${TOKEN}\n`);
    expect(dated).toEqual({
      code: 0,
      out: `Saved the token for alice@example.com at ${URL} in ${temp.file}. It expires at 2026-12-05T23:59:59.000Z (in 8 days).\n`,
      err: "",
    });
    expect((await listJson())[0]?.expiresAt).toBe("2026-12-05T23:59:59.000Z");
    expect((await run(withKey("add", "--expires", "2026-12-05T17:30:00+01:00"), `${TOKEN}\n`)).code).toBe(0);
    expect((await listJson())[0]?.expiresAt).toBe("2026-12-05T16:30:00.000Z");
    const relative = await run(withKey("add", "--expires", "90d"), `${TOKEN}\n`);
    expect(relative.out).toMatch(/ It expires at 2027-02-25T10:00:00\.000Z \(in 90 days\)\.\n$/);
    expect((await listJson())[0]?.expiresAt).toBe(new Date(NOW + 90 * DAY).toISOString());
  });

  it("refuses a bad or past expiry as a usage error before asking for any secret", async () => {
    for (const [value, problem] of [
      ["next week", "expected a date YYYY-MM-DD that exists"],
      ["2026-02-30", "expected a date YYYY-MM-DD that exists"],
      ["2026-11-26", "2026-11-26 is in the past (2026-11-26T23:59:59.000Z)"],
    ] as const) {
      // No password in the environment and none on stdin: a prompt would fail differently.
      const io = { ...pipedIo(env), now: () => NOW };
      expect(await runCli(withKey("add", "--expires", value), io), value).toBe(2);
      expect(io.err()).toContain(`minutes-vault: --expires: `);
      expect(io.err()).toContain(problem);
      expect(io.out()).toBe("");
    }
    const io = pipedIo(env);
    await runCli(withKey("add", "--expires", "soon"), io);
    expect(io.err()).toBe(
      "minutes-vault: --expires: expected a date YYYY-MM-DD that exists (the token expires at the end of that day, UTC), an ISO date-time with a time zone such as 2026-12-05T17:00:00Z, or a number of days from now such as 90d (the value given is not shown: it may be a secret)\n",
    );
    await expect(readFile(temp.file)).rejects.toThrow();
  });

  it("lists the expiry, marking tokens that expired or expire within 14 days, and - when none is recorded", async () => {
    const soon = new Date(NOW + 9 * DAY);
    const far = new Date(NOW + 200 * DAY);
    await saveEncryptedToken({
      ...vaultOptions(),
      url: URL,
      username: "soon",
      token: Redacted.make("t1"),
      password: Redacted.make(PASSWORD),
      expiresAt: soon,
    });
    await saveEncryptedToken({
      ...vaultOptions(),
      url: URL,
      username: "far",
      token: Redacted.make("t2"),
      password: Redacted.make(PASSWORD),
      expiresAt: far,
    });
    await saveEncryptedToken({
      ...vaultOptions(),
      url: URL,
      username: "gone",
      token: Redacted.make("t3"),
      password: Redacted.make(PASSWORD),
      expiresAt: new Date("2020-01-01T00:00:00Z"),
    });
    await saveEncryptedToken({
      ...vaultOptions(),
      url: URL,
      username: "unknown",
      token: Redacted.make("t4"),
      password: Redacted.make(PASSWORD),
    });
    const table = await run(["list"]);
    const lines = table.out.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^URL\s+USERNAME\s+CREATED\s+UPDATED\s+EXPIRES$/);
    const expires = (username: string) =>
      lines.find((l) => l.includes(` ${username} `))?.replace(/^(\S+\s+){4}/, "");
    expect(expires("soon")).toBe(`${soon.toISOString()} (in 9 days)`);
    expect(expires("far")).toBe(far.toISOString());
    expect(expires("gone")).toBe("2020-01-01T00:00:00.000Z (expired)");
    expect(expires("unknown")).toBe("-");
    expect((await listJson()).map((e) => [e.username, e.expiresAt])).toEqual([
      ["soon", soon.toISOString()],
      ["far", far.toISOString()],
      ["gone", "2020-01-01T00:00:00.000Z"],
      ["unknown", null],
    ]);
  });

  it("clears the expiry when add replaces the token without one, and says so", async () => {
    expect((await run(withKey("add", "--expires", "2026-12-05"), `${TOKEN}\n`)).code).toBe(0);
    const replaced = await run(withKey("add"), "new-token\n");
    expect(replaced.code).toBe(0);
    expect(replaced.out).toBe(`Saved the token for alice@example.com at ${URL} in ${temp.file}.\n`);
    expect(replaced.err).toBe(
      `minutes-vault: note: the expiry recorded for the token it replaced (2026-12-05) was cleared; record this one's with \`minutes-vault expires --url ${URL} --username alice@example.com --at <when>\`.\n`,
    );
    expect((await listJson())[0]?.expiresAt).toBeNull();
  });

  it("sets and clears the expiry of a saved token with the password, and refuses a wrong one", async () => {
    await add();
    const set = await run(withKey("expires", "--at", "2026-12-05"));
    expect(set).toEqual({
      code: 0,
      out: `Recorded that the token for alice@example.com at ${URL} in ${temp.file} expires at 2026-12-05T23:59:59.000Z (in 8 days).\n`,
      err: "",
    });
    expect((await listJson())[0]?.expiresAt).toBe("2026-12-05T23:59:59.000Z");
    const wrong = await run(withKey("expires", "--clear"), "", { VAULT_PASSWORD: "wrong" });
    expect(wrong).toEqual({
      code: 1,
      out: "",
      err: `minutes-vault: Wrong password for the token vault ${temp.file}.\n`,
    });
    expect((await listJson())[0]?.expiresAt).toBe("2026-12-05T23:59:59.000Z");
    const cleared = await run(withKey("expires", "--clear"));
    expect(cleared.out).toBe(
      `Cleared the expiry of the token for alice@example.com at ${URL} in ${temp.file}.\n`,
    );
    expect((await listJson())[0]?.expiresAt).toBeNull();
    // The token itself is untouched.
    expect((await run(withKey("get"))).out).toBe(`${TOKEN}\n`);
    const missing = await run(["expires", "--url", URL, "--username", "bob", "--clear"]);
    expect(missing).toMatchObject({
      code: 1,
      err: `minutes-vault: No token saved for bob at ${URL} in ${temp.file}.\n`,
    });
  });

  it("refuses expires without exactly one of --at and --clear, and a bad or past --at, as usage errors", async () => {
    await add();
    for (const argv of [withKey("expires"), withKey("expires", "--at", "2026-12-05", "--clear")]) {
      const result = await run(argv);
      expect(result, argv.join(" ")).toMatchObject({
        code: 2,
        err: "minutes-vault: expires needs either --at <when> or --clear (one of them)\n",
      });
    }
    const bad = await run(withKey("expires", "--at", "tomorrow"));
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(
      /^minutes-vault: --at: expected a date YYYY-MM-DD .* such as 90d \(the value given is not shown: it may be a secret\)\n$/,
    );
    const past = await run(withKey("expires", "--at", "2026-11-27T09:59:59Z"));
    expect(past.code).toBe(2);
    expect(past.err).toContain("--at: 2026-11-27T09:59:59Z is in the past");
  });
});

/** Polls `condition` until it holds or 5 s pass. */
const waitFor = async (condition: () => boolean): Promise<void> => {
  const deadline = Date.now() + 5_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met within 5 s");
    await new Promise((resolve) => setImmediate(resolve));
  }
};
