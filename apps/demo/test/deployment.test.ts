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
}) as { services: Record<string, { environment?: Record<string, string>; command?: Array<string> }> };

/** `${NAME:-default}` as docker compose substitutes it when NAME is unset. */
const substitute = (value: string): string => value.replace(/\$\{[A-Z_]+:-([^}]*)\}/g, "$1");

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
    expect(loaded.right.nats.url).toBe("nats://nats:4222");
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
});
