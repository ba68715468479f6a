import { chmod, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runCli } from "../src/index.js";
import { fakeTty, pipedIo, withOutputs } from "./helpers/fake-io.js";
import { makeTempVault, type TempVault } from "./helpers/temp-vault.js";

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
    expect(header).toMatch(/^URL\s+USERNAME\s+CREATED\s+UPDATED$/);
    expect(row).toMatch(
      new RegExp(`^${URL}\\s+alice@example.com\\s+\\d{4}-\\d\\d-\\d\\dT\\S+Z\\s+\\d{4}-\\d\\d-\\d\\dT\\S+Z$`),
    );
    expect(extra).toBe("");
    const json = pipedIo(env);
    expect(await runCli(["list", "--json"], json)).toBe(0);
    expect(JSON.parse(json.out())).toEqual([
      expect.objectContaining({ url: URL, username: "alice@example.com" }),
    ]);
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
    for (const argv of [
      ["get", "--url", URL],
      ["frobnicate"],
      ["get", "--url", "not a url", "--username", "a"],
      [],
    ]) {
      const io = pipedIo(env);
      expect(await runCli(argv, io), argv.join(" ")).toBe(2);
      expect(io.err()).not.toBe("");
    }
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
    for (const command of [[], ["add"], ["get"], ["list"], ["delete"], ["change-password"]]) {
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
    await run(["change-password"], pipedIo(env, `${PASSWORD}\nsecond\n`));
    await run(["delete", ...key], pipedIo({ ...env, VAULT_PASSWORD: "second" }));
    for (const output of outputs) {
      expect(output).not.toContain(TOKEN);
      expect(output).not.toContain(PASSWORD);
    }
    expect(await readFile(temp.file, "utf8")).not.toContain(TOKEN);
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
