// docker-compose.yml cannot run here (no Docker engine), so this keeps it honest another way:
// every variable it gives the gateway and the publishers must decode as Minutes configuration.
import { readFileSync } from "node:fs";
import { loadConfig } from "@minutes/contracts";
import { Either } from "effect";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { PUBLISHER_NODE_FLAGS } from "../src/local-stack.js";

const compose = parse(readFileSync(new URL("../../../docker-compose.yml", import.meta.url), "utf8"), {
  merge: true,
}) as {
  services: Record<
    string,
    { environment?: Record<string, string>; command?: Array<string>; ports?: Array<string> }
  >;
};

/** What `docker compose up` is given besides the defaults: the one required variable. */
const NATS_PASSWORD = "composeTestPassword0123";

/**
 * `${NAME}`, `${NAME:-default}` and `${NAME:?error}` as docker compose substitutes them from
 * `env`: a required variable that is unset or empty throws, as compose refuses to start.
 */
const substitute = (value: string, env: Readonly<Record<string, string>> = { NATS_PASSWORD }): string =>
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
