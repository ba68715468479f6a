// docker-compose.yml cannot run here (no Docker engine), so this keeps it honest another way:
// every variable it gives the gateway and the publishers must decode as Minutes configuration,
// and NATS is neither published nor open. Likewise the image: .dockerignore must keep secrets
// and data out of what `docker build` sends, and the final stage take only what runs.
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { loadConfig } from "@minutes/contracts";
import { Either, Redacted } from "effect";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { PUBLISHER_NODE_FLAGS } from "../src/local-stack.js";
import { dockerignoreMatcher } from "./helpers/dockerignore.js";

const root = new URL("../../../", import.meta.url);

const compose = parse(readFileSync(new URL("../../../docker-compose.yml", import.meta.url), "utf8"), {
  merge: true,
}) as {
  services: Record<
    string,
    {
      environment?: Record<string, string>;
      command?: Array<string>;
      ports?: Array<string>;
      volumes?: Array<string>;
      entrypoint?: Array<string>;
      profiles?: Array<string>;
    }
  >;
  volumes?: Record<string, unknown>;
};

/** `.env.example`: `NAME=value` lines, as docker compose reads an .env (no quotes, no comments after a value). */
const envExample = Object.fromEntries(
  readFileSync(new URL(".env.example", root), "utf8")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"))
    .map((line) => {
      const at = line.indexOf("=");
      return [line.slice(0, at), line.slice(at + 1)];
    }),
) as Record<string, string>;

/** Every variable docker-compose.yml substitutes (`${NAME}`, `${NAME:-…}`, `${NAME:?…}`). */
const composeVariables = [
  ...readFileSync(new URL("docker-compose.yml", root), "utf8")
    .split("\n")
    .filter((line) => !line.trimStart().startsWith("#"))
    .join("\n")
    .matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)/g),
].map((m) => m[1] ?? "");

/** What `docker compose up` is given besides the defaults: the required variables. */
const NATS_PASSWORD = "composeTestPassword0123";
const REQUIRED: Readonly<Record<string, string>> = {
  NATS_PASSWORD,
  CONFLUENCE_BASE_URL: "https://acme.atlassian.net/wiki",
  CONFLUENCE_USERNAME: "bot@acme.example",
};

/**
 * `${NAME}`, `${NAME:-default}` and `${NAME:?error}` as docker compose substitutes them from
 * `env`: a required variable that is unset or empty throws, as compose refuses to start.
 */
const substitute = (value: string, env: Readonly<Record<string, string>> = REQUIRED): string =>
  value.replace(/\$\{([A-Z_]+)(?::([-?])([^}]*))?\}/g, (_, name: string, op?: string, arg?: string) => {
    const set = env[name];
    if (set !== undefined && set !== "") return set;
    if (op === "?") throw new Error(`required variable ${name} is missing: ${arg}`);
    return op === "-" ? (arg ?? "") : "";
  });

describe("docker-compose.yml", () => {
  it.each(["gateway", "publisher"])("gives the %s a configuration that decodes", (name) => {
    const service = compose.services[name];
    expect(service?.environment).toBeDefined();
    const env = Object.fromEntries(
      Object.entries(service?.environment ?? {}).map(([k, v]) => [k, substitute(String(v))]),
    );
    const loaded = loadConfig({ env });
    if (Either.isLeft(loaded)) throw new Error(loaded.left.message);
    expect(loaded.right.database.type).toBe("postgresql");
    // Signs in to NATS with the password the NATS service requires (see below).
    expect(loaded.right.nats.url).toBe(`nats://minutes:${NATS_PASSWORD}@nats:4222`);
    // CONFLUENCE_TOKEN_EXPIRES_AT unset: no expiry known.
    expect(loaded.right.confluence.token_expires_at).toBeNull();
  });

  it("reads only variables that .env.example lists, and .env.example lists only those", () => {
    expect(Object.keys(envExample).sort()).toEqual([...new Set(composeVariables)].sort());
    // Secrets have no example value: whoever copies the file must choose them.
    for (const name of [
      "NATS_PASSWORD",
      "MINUTES_GATEWAY__API_KEYS",
      "CONFLUENCE_API_TOKEN",
      "VAULT_PASSWORD",
    ])
      expect(envExample[name], name).toBe("");
  });

  it.each(["gateway", "publisher"])(
    "gives the %s a configuration that decodes from .env.example filled in, with its keys and token",
    (name) => {
      const filled = {
        ...envExample,
        NATS_PASSWORD,
        MINUTES_GATEWAY__API_KEYS: "client-key-1,client-key-2",
        MINUTES_GATEWAY__ADMIN_API_KEYS: '["admin-key"]',
        CONFLUENCE_BASE_URL: "https://acme.atlassian.net/wiki",
        CONFLUENCE_USERNAME: "bot@acme.example",
        CONFLUENCE_API_TOKEN: "0123456789",
        CONFLUENCE_TOKEN_EXPIRES_AT: "2030-01-31",
        VAULT_PASSWORD: "vault-pw",
      };
      const env = Object.fromEntries(
        Object.entries(compose.services[name]?.environment ?? {}).map(([k, v]) => [
          k,
          substitute(String(v), filled),
        ]),
      );
      const loaded = loadConfig({ env });
      if (Either.isLeft(loaded)) throw new Error(loaded.left.message);
      const config = loaded.right;
      expect(config.gateway.api_keys.map(Redacted.value)).toEqual(["client-key-1", "client-key-2"]);
      expect(config.gateway.admin_api_keys.map(Redacted.value)).toEqual(["admin-key"]);
      expect(config.confluence.base_url).toBe("https://acme.atlassian.net/wiki");
      expect(config.confluence.username).toBe("bot@acme.example");
      expect(Redacted.value(config.confluence.api_token)).toBe("0123456789");
      expect(config.confluence.token_expires_at?.toISOString()).toBe("2030-01-31T23:59:59.000Z");
      expect(config.vault.file).toBe("/vault/tokens.vault");
      expect(config.vault.password && Redacted.value(config.vault.password)).toBe("vault-pw");
      // .env.example as it is (the required variables aside) decodes too: no keys, no token, no vault.
      const asIs = loadConfig({
        env: Object.fromEntries(
          Object.entries(compose.services[name]?.environment ?? {}).map(([k, v]) => [
            k,
            substitute(String(v), { ...envExample, ...REQUIRED }),
          ]),
        ),
      });
      if (Either.isLeft(asIs)) throw new Error(asIs.left.message);
      expect(asIs.right.gateway.api_keys).toEqual([]);
      expect(asIs.right.vault.password).toBeNull();
    },
  );

  it("marks the variables without a usable default required, so compose names a missing one instead of starting", () => {
    const uses = [
      ...readFileSync(new URL("docker-compose.yml", root), "utf8")
        .split("\n")
        .filter((line) => !line.trimStart().startsWith("#"))
        .join("\n")
        .matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::([-?])([^}]*))?\}/g),
    ].map((m) => ({ name: m[1] ?? "", op: m[2], arg: m[3] ?? "" }));
    // Each is `${NAME:?message}` wherever it is read, and the message tells what to set.
    const required = [...new Set(uses.filter((u) => u.op === "?").map((u) => u.name))].sort();
    expect(required).toEqual(Object.keys(REQUIRED).sort());
    for (const use of uses.filter((u) => u.name in REQUIRED)) {
      expect(use.op, use.name).toBe("?");
      expect(use.arg, use.name).toContain(`set ${use.name}`);
    }
    // Missing (unset or empty), each one stops the gateway's and the publishers' start.
    for (const name of Object.keys(REQUIRED)) {
      const unset = Object.fromEntries(Object.entries(REQUIRED).filter(([key]) => key !== name));
      for (const service of ["gateway", "publisher"])
        for (const env of [unset, { ...unset, [name]: "" }])
          expect(() =>
            Object.values(compose.services[service]?.environment ?? {}).map((v) =>
              substitute(String(v), env),
            ),
          ).toThrow(new RegExp(`required variable ${name} is missing: set ${name}`));
    }
    // .env.example gives no value to copy unread: compose refuses a copy left as it is.
    for (const name of Object.keys(REQUIRED)) expect(envExample[name], name).toBe("");
    // No fallback is a placeholder that would start a stack bound to fail every publication.
    for (const use of uses.filter((u) => u.op === "-"))
      expect(use.arg, use.name).not.toMatch(/your-|example|atlassian\.net/);
  });

  it("gives the vault CLI service the services' vault file and volume, which they only read", () => {
    const { gateway, publisher, vault } = compose.services;
    expect(vault?.entrypoint).toEqual(["node", "packages/token-vault/dist/bin.js"]);
    // Run on demand (`docker compose run --rm vault …`), never by `up`.
    expect(vault?.profiles).toEqual(["tools"]);
    expect(vault?.volumes).toEqual(["vault-data:/vault"]);
    expect(gateway?.volumes).toEqual(["vault-data:/vault:ro"]);
    expect(publisher?.volumes).toEqual(["vault-data:/vault:ro"]);
    expect(compose.volumes).toHaveProperty("vault-data");
    for (const service of [gateway, publisher, vault]) {
      expect(service?.environment?.VAULT_FILE).toBe("/vault/tokens.vault");
      // biome-ignore lint/suspicious/noTemplateCurlyInString: compose's own interpolation, as the file says it
      expect(service?.environment?.VAULT_PASSWORD).toBe("${VAULT_PASSWORD:-}");
    }
    // A new volume takes the mount point's owner from the image: the vault CLI runs as node.
    const dockerfile = readFileSync(new URL("Dockerfile", root), "utf8");
    expect(dockerfile).toMatch(/^RUN mkdir -m 0700 \/vault && chown node:node \/vault$/m);
    expect(dockerfile.indexOf("chown node:node /vault")).toBeLessThan(dockerfile.indexOf("USER node"));
  });

  it("runs two publishers that share the durable consumer and the database", () => {
    const publisher = compose.services.publisher as {
      deploy?: { replicas?: number };
      command?: Array<string>;
    };
    expect(publisher.deploy?.replicas).toBe(2);
    // The flags the benchmark measured the publisher with (local-stack.ts) are the ones it runs with.
    expect(publisher.command).toEqual(["node", ...PUBLISHER_NODE_FLAGS, "apps/publisher/dist/main.js"]);
    expect(compose.services.gateway?.command).toEqual(["node", "apps/gateway/dist/main.js"]);
  });

  it("documents the same publisher flags in `pnpm start` and the publisher README's start command", () => {
    const flags = PUBLISHER_NODE_FLAGS.join(" ");
    const pkg = JSON.parse(readFileSync(new URL("apps/publisher/package.json", root), "utf8")) as {
      scripts: Record<string, string>;
    };
    expect(pkg.scripts.start).toBe(`node ${flags} dist/main.js`);
    // The README's shell command may continue on the next line (`\` and a line break).
    const readme = readFileSync(new URL("apps/publisher/README.md", root), "utf8").replace(/ \\\n\s+/g, " ");
    expect(readme).toContain(`node ${flags} apps/publisher/dist/main.js`);
  });

  it("publishes no NATS port beyond loopback, and NATS asks every client for the services' password", () => {
    const nats = compose.services.nats;
    // Whoever reaches NATS can read every protocol and inject events and commands past the API keys.
    for (const port of nats?.ports ?? []) expect(String(port)).toMatch(/^127\.0\.0\.1:/);
    const raw = nats?.command ?? [];
    const command = raw.map((arg) => substitute(arg));
    const flag = (name: string) => command[command.indexOf(name) + 1];
    expect(command).toContain("--user");
    expect(command).toContain("--pass");
    const url = new URL(substitute(String(compose.services.gateway?.environment?.NATS_URL)));
    expect({ user: url.username, pass: url.password }).toEqual({
      user: flag("--user"),
      pass: flag("--pass"),
    });
    // Nothing in the URL to percent-encode: NATS gets the password as written, the URL as encoded.
    expect(decodeURIComponent(url.password)).toBe(url.password);
    // No password, no start: compose refuses rather than run NATS without one.
    expect(() => substitute(String(raw[raw.indexOf("--pass") + 1]), {})).toThrow(
      /required variable NATS_PASSWORD is missing/,
    );
  });
});

describe("the image (Dockerfile, .dockerignore)", () => {
  const ignored = dockerignoreMatcher(readFileSync(new URL(".dockerignore", root), "utf8"));

  it.each([
    // The .env docker-compose.yml reads, and its variants.
    ".env",
    ".env.production",
    "deploy/.env",
    // Configuration files (--config, MINUTES_CONFIG): tokens, API keys, database URLs.
    "config.json",
    "config.prod.json",
    "apps/gateway/config.json",
    // SQLite databases (database.sqlite_path, the demo's, the original integration's app.db).
    "minutes.sqlite",
    "minutes.sqlite-wal",
    "minutes.sqlite-shm",
    "data/minutes.sqlite",
    "app.db",
    // Token vaults with their lock and temp files, and the demo's state.
    "tokens.vault",
    "tokens.vault.lock",
    "secrets/tokens.vault",
    ".demo/tokens.vault",
    ".demo/vault-password",
    // Exports (GET /api/export, import-original): every protocol.
    "minutes.jsonl",
    "original.jsonl",
    // The Node binaries of pnpm test:node-matrix.
    ".tools/node-v22.23.0-linux-x64/bin/node",
  ])("leaves %s out of the build context", (path) => {
    expect(ignored(path)).toBe(true);
  });

  it("keeps every file the build needs in the context", () => {
    const needed = [
      "package.json",
      "pnpm-lock.yaml",
      "pnpm-workspace.yaml",
      ".npmrc",
      "turbo.json",
      "tooling/tsconfig/package.json",
      "apps/gateway/src/main.ts",
      "apps/publisher/package.json",
      "packages/contracts/src/Config.ts",
    ];
    // Every file the repository tracks, where git answers (a checkout).
    const git = spawnSync("git", ["ls-files", "-z"], { cwd: root, encoding: "utf8" });
    const tracked = git.status === 0 ? git.stdout.split("\0").filter((f) => f !== "") : [];
    expect(tracked.length === 0 || tracked.includes("package.json")).toBe(true);
    expect([...needed, ...tracked].filter(ignored)).toEqual([]);
  });

  it("builds in one stage and runs from another that copies only the workspace's packages and production modules", () => {
    const dockerfile = readFileSync(new URL("Dockerfile", root), "utf8");
    const stages = dockerfile
      .split("\n")
      .filter((line) => !line.trimStart().startsWith("#"))
      .join("\n")
      .split(/^FROM /m)
      .slice(1);
    expect(stages).toHaveLength(2);
    // Without a terminal pnpm aborts where it would ask (removing a modules directory), and
    // `pnpm prune --prod` in this workspace unlinks the packages' own dependencies.
    expect(stages[0]).toMatch(/^ENV CI=true$/m);
    expect(stages[0]).not.toContain("pnpm prune");
    const copies = (stages[1] ?? "")
      .split("\n")
      .filter((line) => line.startsWith("COPY"))
      .flatMap((line) => line.split(/\s+/).slice(2, -1));
    expect(copies.sort()).toEqual([
      "/app/apps",
      "/app/node_modules",
      "/app/package.json",
      "/app/packages",
      "/app/pnpm-workspace.yaml",
    ]);
  });

  // The image installs production dependencies only: a package that imports one of its
  // devDependencies at run time (libsql in publication-store did) cannot start there.
  it.each([
    "apps/gateway",
    "apps/publisher",
    ...readdirSync(new URL("packages/", root)).map((name) => `packages/${name}`),
  ])("%s imports at run time only what its dependencies declare", (dir) => {
    const pkg = JSON.parse(readFileSync(new URL(`${dir}/package.json`, root), "utf8")) as {
      name: string;
      dependencies?: Record<string, string>;
      peerDependencies?: Record<string, string>;
    };
    const declared = new Set([
      pkg.name,
      ...Object.keys(pkg.dependencies ?? {}),
      ...Object.keys(pkg.peerDependencies ?? {}),
    ]);
    const builtins = new Set(builtinModules);
    const undeclared = sourceFiles(new URL(`${dir}/src/`, root)).flatMap((file) =>
      runtimeImports(readFileSync(file, "utf8"))
        .map(packageOf)
        .filter((name) => !name.startsWith("node:") && !builtins.has(name) && !declared.has(name))
        .map((name) => `${name} (${file.pathname.slice(root.pathname.length)})`),
    );
    expect(undeclared).toEqual([]);
  });
});

/** The `.ts` files under a directory. */
const sourceFiles = (dir: URL): Array<URL> =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? sourceFiles(new URL(`${entry.name}/`, dir))
      : entry.name.endsWith(".ts")
        ? [new URL(entry.name, dir)]
        : [],
  );

/** The bare specifiers a module loads when it runs: static imports and re-exports (not `import type`), dynamic imports. */
const runtimeImports = (source: string): Array<string> =>
  [
    ...source.matchAll(/^\s*(?:import|export)\s+(?!type\s)[\w*{}\s,$]*?from\s*"([^"]+)"/gm),
    ...source.matchAll(/^\s*import\s*"([^"]+)"/gm),
    ...source.matchAll(/\bawait import\("([^"]+)"\)/g),
  ]
    .map((m) => m[1] ?? "")
    .filter((specifier) => specifier !== "" && !specifier.startsWith("."));

/** `@scope/name/sub` → `@scope/name`, `name/sub` → `name`. */
const packageOf = (specifier: string): string =>
  specifier
    .split("/")
    .slice(0, specifier.startsWith("@") ? 2 : 1)
    .join("/");
