import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { connectNats, natsServers, natsUrlForDisplay } from "../src/index.js";

const NATS_URL = process.env.NATS_URL ?? "nats://127.0.0.1:4222";

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
});
