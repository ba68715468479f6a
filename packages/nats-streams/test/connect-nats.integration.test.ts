import { createServer } from "node:net";
import { type NatsServer, startNatsServer } from "@minutes/vitest-config/nats-server";
import { afterEach, describe, expect, it } from "vitest";
import { connectNats, natsServers, natsUrlForDisplay } from "../src/index.js";

const NATS_URL = process.env.NATS_URL ?? "nats://127.0.0.1:4222";

let secured: NatsServer | undefined;
afterEach(async () => {
  await secured?.close();
  secured = undefined;
});

/** A loopback port nothing listens on. */
const unusedPort = () =>
  new Promise<number>((resolve) => {
    const srv = createServer();
    srv.listen(0, "127.0.0.1", () => {
      const address = srv.address();
      srv.close(() => resolve(typeof address === "object" && address !== null ? address.port : 0));
    });
  });

describe("natsUrlForDisplay", () => {
  it("shows each server as scheme://host:port, never a user, password or token", () => {
    expect(natsUrlForDisplay("nats://u:s3cret@a:4222, tls://tok3n@b:4223,c:4224")).toBe(
      "nats://a:4222,tls://b:4223,nats://c:4224",
    );
    expect(natsUrlForDisplay("nats://u:s3cret@[x")).toBe("(not a NATS URL)");
    expect(natsServers(" nats://a:1 ,, nats://b:2 ")).toEqual(["nats://a:1", "nats://b:2"]);
  });
});

describe("connectNats", () => {
  it("connects to the servers of a nats.url value", async () => {
    const nc = await connectNats(` ${NATS_URL} `, { name: "connect-nats-test" });
    await nc.close();
  });

  it("names NATS and the servers without credentials when none can be reached", async () => {
    const port = await unusedPort();
    await expect(connectNats(`nats://minutes:pw-s3cret@127.0.0.1:${port}`)).rejects.toThrow(
      new Error(`cannot connect to NATS at nats://127.0.0.1:${port}: connection refused`),
    );
  });

  it("signs in with the user name and password of the URL, which nats.js itself ignores", async () => {
    // A password with characters a URL must percent-encode.
    const pass = "SENTINEL p@ss/w:rd";
    secured = await startNatsServer({ auth: { user: "minutes", pass } });
    const { host } = new URL(secured.url);
    const url = `nats://minutes:${encodeURIComponent(pass)}@${host}`;
    const nc = await connectNats(`nats://127.0.0.1:1,${url}`, { name: "connect-nats-auth-test" });
    try {
      expect(nc.getServer()).toBe(host);
      // What the password allows: the server answers a request (JetStream's account info).
      expect(JSON.parse((await nc.request("$JS.API.INFO")).string())).toHaveProperty("streams");
    } finally {
      await nc.close();
    }
    const refused = connectNats(`nats://minutes:wrong-SENTINEL@${host}`, { reconnect: false });
    await expect(refused).rejects.toThrow(/^cannot connect to NATS at nats:\/\/127\.0\.0\.1:\d+: /);
    await expect(refused).rejects.not.toThrow(/SENTINEL/);
  });

  it("refuses servers that carry different credentials, without showing them", async () => {
    const both = connectNats("nats://a:SENTINEL-1@127.0.0.1:1,nats://a:SENTINEL-2@127.0.0.1:2");
    await expect(both).rejects.toThrow(
      new Error(
        "cannot connect to NATS at nats://127.0.0.1:1,nats://127.0.0.1:2: the servers carry different credentials; give them all the same user name and password (or token)",
      ),
    );
  });
});
